/**
 * Composition of the roles: each takes the shared context and the shutdown
 * signal, runs until the signal aborts, then drains and returns. The API and
 * the bot are in serving-roles.ts, so that the stream roles (`worker`,
 * `process`, `sink`) load neither Fastify nor grammY and the charts.
 */
import type { ControlPlane } from '../control/index.ts';
import { openControlFor } from './control.ts';
import { runPartition, runOwnership } from '../processors/index.ts';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import {
  ForgottenChannels,
  LeaseTable,
  connectNats,
  reportRetry,
  retryNats,
  openCheckpointBucket,
} from '../streams/index.ts';
import { runSink, type SinkSource } from '../sinks/index.ts';
import type { Context, NatsContext } from './context.ts';
import type { Warehouse } from '../clickhouse/index.ts';

/**
 * Runs the processors: this process joins the group sharing the partitions
 * through leases and runs its share (or, pinned, exactly `partitions`).
 */
export async function runProcessRole(
  ctx: Context,
  nats: NatsContext,
  signal: AbortSignal,
  partitions?: number[],
): Promise<void> {
  // Leases get a connection of their own: renewals must not queue behind thousands of in-flight publishes.
  const leaseConn = await connectNats(nats.url, 'tgpulse-leases', ctx.log);
  // So do outputs and checkpoints: their acks must not queue behind the megabytes of pulled input
  // the server is still sending on the consuming connection.
  const outputConn = await connectNats(nats.url, 'tgpulse-outputs', ctx.log);
  let forgotten: ForgottenChannels | null = null;
  const onError = reportRetry(
    ctx.metrics,
    ctx.log,
    { stage: 'process', error: 'lease_read' },
    'reading the partition leases failed; retrying',
  );
  try {
    const bucket = await retryNats(() => openCheckpointBucket(leaseConn, ctx.config.streams), {
      signal,
      onRetry: onError,
    });
    const checkpoints = await retryNats(() => openCheckpointBucket(outputConn, ctx.config.streams), {
      signal,
      onRetry: onError,
    });
    const outputs = jetstream(outputConn);
    forgotten = await retryNats(() => ForgottenChannels.watch(checkpoints, { log: ctx.log }), {
      signal,
      onRetry: onError,
    });
    await runOwnership({
      table: new LeaseTable(bucket, { group: 'processor', ttlMs: ctx.config.leaseTtlMs, onError }),
      partitions: ctx.config.streams.partitions,
      pinned: partitions ?? null,
      log: ctx.log,
      metrics: ctx.metrics,
      signal,
      run: (partition, lease, partitionSignal) =>
        runPartition({
          js: nats.js,
          jsm: nats.jsm,
          outputs,
          kv: checkpoints,
          streams: ctx.config.streams,
          processor: ctx.config.processor,
          partition,
          lease,
          log: ctx.log,
          metrics: ctx.metrics,
          signal: partitionSignal,
          forgotten: forgotten ?? undefined,
          checkpointIntervalMs: ctx.config.checkpointIntervalMs,
        }),
    });
  } finally {
    await forgotten?.stop();
    await Promise.all([leaseConn.close(), outputConn.drain().catch(() => outputConn.close())]);
  }
}

/** Runs the ClickHouse sinks of TG_RAW, TG_DERIVED and TG_DLQ. */
export async function runSinkRole(
  ctx: Context,
  nats: NatsContext,
  warehouse: Warehouse,
  signal: AbortSignal,
  sources: SinkSource[] = ['raw', 'derived', 'dlq'],
): Promise<void> {
  // A connection of their own: what a busy process has not read yet queues on the server per
  // connection, and past its slow-consumer limit the server drops the connection.
  const conn = await connectNats(nats.url, 'tgpulse-sinks', ctx.log);
  let forgotten: ForgottenChannels | null = null;
  try {
    const js = jetstream(conn);
    const retry = {
      signal,
      onRetry: reportRetry(
        ctx.metrics,
        ctx.log,
        { stage: 'sink', error: 'nats_retry' },
        'NATS did not answer; retrying',
      ),
    };
    const jsm = await retryNats(() => jetstreamManager(conn), retry);
    const bucket = await retryNats(() => openCheckpointBucket(conn, ctx.config.streams), retry);
    forgotten = await retryNats(() => ForgottenChannels.watch(bucket, { log: ctx.log }), retry);
    await Promise.all(
      sources.map((source) =>
        runSink({
          js,
          jsm,
          warehouse,
          streams: ctx.config.streams,
          sink: ctx.config.sink,
          source,
          log: ctx.log,
          metrics: ctx.metrics,
          signal,
          forgotten: forgotten ?? undefined,
        }),
      ),
    );
  } finally {
    await forgotten?.stop();
    await conn.drain().catch(() => conn.close());
  }
}

/** Makes a role failure stop the whole process instead of leaving it half alive. */
export function superviseRole(
  name: string,
  run: Promise<void>,
  ctx: Context,
  stop: (reason: string) => void,
): Promise<void> {
  return ctx.stopping.role(name, run).catch((err) => {
    ctx.log.fatal({ err, role: name }, 'role failed; stopping');
    ctx.metrics.errors.inc({ stage: name, error: 'role_failed' });
    stop(`${name} failed: ${(err as Error).message}`);
    throw err;
  });
}

/** Opens the control plane (closed through the context). */
export async function openControlRole(ctx: Context): Promise<ControlPlane> {
  const control = await openControlFor(ctx.config, ctx.log);
  ctx.onClose('the control plane', () => control.close());
  return control;
}

/** Serves until the signal aborts (closing happens through the context). */
export async function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
