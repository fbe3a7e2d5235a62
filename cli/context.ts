/**
 * Shared resources of a tgpulse process, opened once and closed in reverse
 * order: NATS (connection, JetStream, checkpoint bucket), the warehouse,
 * metrics and the logger. Roles receive what they need from here.
 */
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { join } from 'node:path';
import { connectNats, natsReachable } from '../streams/nats.ts';
import { ensureStreams, openCheckpointBucket } from '../streams/topology.ts';
import { openWarehouse, type Warehouse } from '../clickhouse/warehouse.ts';
import { migrate, renderTargetFor } from '../clickhouse/migrate.ts';
import { createLogger, type Logger } from '../observability/log.ts';
import { PipelineMetrics } from '../observability/metrics.ts';
import { startLocalNats, type LocalNats } from './local-nats.ts';
import { startOpsServer, type OpsServer } from '../observability/http.ts';
import type { TgpulseConfig } from './config.ts';

export interface NatsContext {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  kv: KV;
  /** Set when this process started its own nats-server. */
  local: LocalNats | null;
}

export class Context {
  readonly log: Logger;
  readonly metrics: PipelineMetrics;
  nats: NatsContext | null = null;
  warehouse: Warehouse | null = null;
  #closers: Array<() => Promise<void>> = [];

  constructor(
    readonly config: TgpulseConfig,
    opts: { log?: Logger; metrics?: PipelineMetrics } = {},
  ) {
    this.log = opts.log ?? createLogger(config.logLevel);
    this.metrics = opts.metrics ?? new PipelineMetrics({ defaultMetrics: true });
  }

  /** Registers a resource to close; resources close in reverse order of opening. */
  onClose(fn: () => Promise<void>): void {
    this.#closers.push(fn);
  }

  async close(): Promise<void> {
    for (const c of this.#closers.reverse()) {
      await c().catch((err) => this.log.error({ err }, 'error while closing a resource'));
    }
    this.#closers = [];
  }
}

/** Connects to NATS (starting a private nats-server when allowed and none answers) and ensures the topology. */
export async function openNats(ctx: Context, opts: { autoStart: boolean; name: string }): Promise<NatsContext> {
  const cfg = ctx.config;
  let url = cfg.streams.natsUrl;
  let local: LocalNats | null = null;
  if (opts.autoStart && !(await natsReachable(url))) {
    ctx.log.info({ url }, 'no NATS reachable; starting a private nats-server');
    local = await startLocalNats(join(cfg.dataDir, 'nats'));
    url = local.url;
    ctx.log.info({ url }, 'private nats-server started');
  }
  const nc = await connectNats(url, opts.name, ctx.log);
  const jsm = await jetstreamManager(nc).catch((err) => {
    throw new Error(`NATS at ${url} has no JetStream: start nats-server with -js (${(err as Error).message})`, { cause: err });
  });
  await ensureStreams(jsm, cfg.streams);
  const kv = await openCheckpointBucket(nc, cfg.streams);
  const nats: NatsContext = { nc, js: jetstream(nc), jsm, kv, local };
  ctx.nats = nats;
  ctx.onClose(async () => {
    await nc.drain().catch(() => nc.close());
    await local?.stop();
  });
  return nats;
}

/** Opens the warehouse and applies pending migrations. */
export async function openWarehouseMigrated(ctx: Context): Promise<Warehouse> {
  const wh = await openWarehouse(ctx.config.warehouse);
  ctx.warehouse = wh;
  ctx.onClose(() => wh.close());
  const result = await migrate(wh, { target: renderTargetFor(ctx.config.warehouse) });
  if (result.applied.length) ctx.log.info({ applied: result.applied.map((m) => m.name) }, 'migrations applied');
  return wh;
}

/**
 * Starts the role's ops endpoint (/metrics, /healthz, /readyz with a check
 * per opened dependency, and `POST /query` when a query runner is given).
 */
export async function startOps(ctx: Context, opts: { query?: (sql: string) => Promise<unknown[]> } = {}): Promise<OpsServer> {
  const readiness: Record<string, () => Promise<void>> = {};
  const { nats, warehouse } = ctx;
  if (nats) readiness.nats = async () => void (await nats.nc.flush());
  if (warehouse) readiness.warehouse = () => warehouse.ping();
  const ops = await startOpsServer({ host: ctx.config.http.host, port: ctx.config.http.port, metrics: ctx.metrics, readiness, query: opts.query });
  ctx.onClose(() => ops.close());
  return ops;
}
