import { startApiServer, type ApiServer } from '../api/server.ts';
import type { ControlPlane } from '../control/postgres.ts';
import { openControlFor } from './control.ts';
/**
 * Composition of the roles: each takes the shared context and the shutdown
 * signal, runs until the signal aborts, then drains and returns.
 */
import { runPartition } from '../processors/runtime.ts';
import { runSink, type SinkSource } from '../sinks/clickhouse/sink.ts';
import type { Context, NatsContext } from './context.ts';
import type { Warehouse } from '../clickhouse/warehouse.ts';

/** Runs the processor for the given partitions (default: all of them). */
export async function runProcessRole(ctx: Context, nats: NatsContext, signal: AbortSignal, partitions?: number[]): Promise<void> {
  const owned = partitions ?? Array.from({ length: ctx.config.streams.partitions }, (_, i) => i);
  await Promise.all(
    owned.map((partition) =>
      runPartition({
        js: nats.js,
        jsm: nats.jsm,
        kv: nats.kv,
        streams: ctx.config.streams,
        processor: ctx.config.processor,
        partition,
        log: ctx.log,
        metrics: ctx.metrics,
        signal,
        checkpointIntervalMs: ctx.config.checkpointIntervalMs,
      }),
    ),
  );
}

/** Runs the ClickHouse sinks of TG_RAW, TG_DERIVED and TG_DLQ. */
export async function runSinkRole(ctx: Context, nats: NatsContext, warehouse: Warehouse, signal: AbortSignal, sources: SinkSource[] = ['raw', 'derived', 'dlq']): Promise<void> {
  await Promise.all(
    sources.map((source) =>
      runSink({ js: nats.js, jsm: nats.jsm, warehouse, streams: ctx.config.streams, sink: ctx.config.sink, source, log: ctx.log, metrics: ctx.metrics, signal }),
    ),
  );
}

/** Makes a role failure stop the whole process instead of leaving it half alive. */
export function superviseRole(name: string, run: Promise<void>, ctx: Context, stop: (reason: string) => void): Promise<void> {
  return run.catch((err) => {
    ctx.log.fatal({ err, role: name }, 'role failed; stopping');
    ctx.metrics.errors.inc({ stage: name, error: 'role_failed' });
    stop(`${name} failed: ${(err as Error).message}`);
    throw err;
  });
}

/**
 * Opens the control plane and starts the REST API on an open warehouse; the
 * caller closes both through the context. The API's metrics join the
 * process's registry.
 */
export async function startApiRole(ctx: Context, warehouse: Warehouse): Promise<{ api: ApiServer; control: ControlPlane }> {
  const control = await openControlFor(ctx.config, ctx.log);
  ctx.onClose(() => control.close());
  const api = await startApiServer({
    warehouse,
    control,
    controlConfig: ctx.config.control,
    config: ctx.config.api,
    log: ctx.log,
    registry: ctx.metrics.registry,
  });
  ctx.onClose(() => api.close());
  ctx.log.info({ url: api.url, docs: `${api.url}/docs`, control: control.driver }, 'REST API listening');
  return { api, control };
}

/** Serves until the signal aborts (closing happens through the context). */
export async function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
