/**
 * Shared resources of a tgpulse process, opened once and closed in reverse
 * order: NATS (connection, JetStream, checkpoint bucket), the warehouse,
 * metrics and the logger. Roles receive what they need from here.
 */
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { join } from 'node:path';
import {
  connectNats,
  ensureStreams,
  openCheckpointBucket,
  isNatsTimeout,
  reportRetry,
  retryNats,
} from '../streams/index.ts';
import {
  openWarehouse,
  type Warehouse,
  migrate,
  renderTargetFor,
  createDatabaseIfMissing,
  applyRetention,
} from '../clickhouse/index.ts';
import { LocalWarehouse, LocalWarehouseError, readRunningWarehouse } from '../clickhouse/local-server/index.ts';
import { sleep, withRetry } from '../common/index.ts';
import {
  chooseLogFormat,
  createLogger,
  type LogFormat,
  type Logger,
  PipelineMetrics,
  startOpsServer,
  type OpsServer,
  type OpsServerOptions,
} from '../observability/index.ts';
import { runningLocalNats, startLocalNats, type LocalNats } from './local-nats.ts';
import { opsListener, warnIfOpen } from './open-listeners.ts';
import type { TgpulseConfig } from './config.ts';
import { Stopping } from './stopping.ts';

export interface NatsContext {
  /** The server(s) connected to. */
  url: string;
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  kv: KV;
  /** Set when this process started its own nats-server. */
  local: LocalNats | null;
}

export class Context {
  /** The format of this process's logs, resolved once: its workers log the same way to the same stderr. */
  readonly logFormat: LogFormat;
  readonly log: Logger;
  readonly metrics: PipelineMetrics;
  nats: NatsContext | null = null;
  warehouse: Warehouse | null = null;
  /** Set when this process started the local warehouse server (and so stops it). */
  localWarehouse: LocalWarehouse | null = null;
  /** What is still running while the process stops, and its child processes (see lifecycle's deadline). */
  readonly stopping = new Stopping();
  #closers: Array<{ what: string; close: () => Promise<void> }> = [];

  constructor(
    readonly config: TgpulseConfig,
    opts: { log?: Logger; metrics?: PipelineMetrics } = {},
  ) {
    this.logFormat = chooseLogFormat(config.logFormat, process.stderr.isTTY === true);
    this.log = opts.log ?? createLogger(config.logLevel, { format: this.logFormat });
    this.metrics = opts.metrics ?? new PipelineMetrics({ defaultMetrics: true });
  }

  /**
   * Registers a resource to close; resources close in reverse order of opening.
   * `what` names it in the stop deadline's log line when its closing hangs.
   */
  onClose(what: string, close: () => Promise<void>): void {
    this.#closers.push({ what, close });
  }

  async close(): Promise<void> {
    for (const { what, close } of this.#closers.reverse()) {
      this.stopping.closing(what);
      await close().catch((err) => this.log.error({ err, resource: what }, 'error while closing a resource'));
    }
    this.stopping.closing(null);
    this.#closers = [];
  }
}

/** A NATS connection with JetStream, before any stream or bucket is ensured. */
export type NatsConnectionContext = Omit<NatsContext, 'kv'>;

/**
 * Connects to NATS and checks it has JetStream, creating nothing (what
 * `tgpulse restore` needs: the streams it restores must not exist yet). With
 * `TGPULSE_NATS_URL` set that server is used; otherwise the data folder's
 * private nats-server, started (and owned by this process) when none runs yet.
 */
export async function connectJetStream(ctx: Context, opts: { name: string }): Promise<NatsConnectionContext> {
  const cfg = ctx.config;
  let url = cfg.streams.natsUrl;
  let local: LocalNats | null = null;
  if (cfg.explicitNatsUrl === null) {
    const storeDir = join(cfg.dataDir, 'nats');
    const running = runningLocalNats(storeDir);
    if (running !== null) url = running;
    else {
      local = await startLocalNats(storeDir);
      url = local.url;
      ctx.log.info({ url, store: storeDir }, 'private nats-server started');
    }
  }
  const nc = await connectNats(url, opts.name, ctx.log);
  if (local) ctx.stopping.adoptChild('nats-server', local.process);
  ctx.onClose(local ? 'the NATS connection and the private nats-server' : 'the NATS connection', async () => {
    await nc.drain().catch(() => nc.close());
    await local?.stop();
  });
  // A JetStream check that times out is retried (the server may be frozen); one nobody answers means no JetStream.
  const jsm = await withRetry(() => jetstreamManager(nc), {
    attempts: Infinity,
    baseMs: 100,
    maxMs: 5_000,
    isFatal: (err) => !isNatsTimeout(err),
    onRetry: natsSetupRetry(ctx, url).onRetry,
  }).catch((err) => {
    throw new Error(`NATS at ${url} has no JetStream: start nats-server with -js (${(err as Error).message})`, {
      cause: err,
    });
  });
  return { url, nc, js: jetstream(nc), jsm, local };
}

/** Retries of NATS calls while setting up: a frozen or restarting server at start is waited out like one later on. */
function natsSetupRetry(ctx: Context, url: string) {
  return {
    onRetry: reportRetry(
      ctx.metrics,
      ctx.log,
      { stage: 'nats', error: 'setup_retry' },
      'NATS did not answer while setting up streams; retrying',
      { url },
    ),
  };
}

/** Connects to NATS (see {@link connectJetStream}) and ensures the streams and the checkpoint bucket. */
export async function openNats(ctx: Context, opts: { name: string }): Promise<NatsContext> {
  const conn = await connectJetStream(ctx, opts);
  const retry = natsSetupRetry(ctx, conn.url);
  await retryNats(() => ensureStreams(conn.jsm, ctx.config.streams), retry);
  const kv = await retryNats(() => openCheckpointBucket(conn.nc, ctx.config.streams), retry);
  const nats: NatsContext = { ...conn, kv };
  ctx.nats = nats;
  return nats;
}

/**
 * Makes sure the data folder's local warehouse server runs: connects to the
 * one another tgpulse process runs, or starts one that this process owns and
 * stops on close. A no-op for the other drivers.
 */
export async function ensureLocalWarehouse(ctx: Context): Promise<void> {
  const cfg = ctx.config.warehouse;
  if (cfg.driver !== 'local' || ctx.localWarehouse !== null) return;
  for (let attempt = 0; ; attempt++) {
    if (readRunningWarehouse(cfg.dataDir) !== null) return;
    try {
      const server = await LocalWarehouse.start({ ...cfg, log: ctx.log });
      ctx.localWarehouse = server;
      // Its pid changes when it restarts after a crash: read it when the deadline comes.
      const release = ctx.stopping.adopt('the local warehouse', () => server.pid);
      ctx.onClose('the local warehouse server', () => server.stop().finally(release));
      return;
    } catch (err) {
      // Another process may be starting the server on this folder right now: the engine's
      // folder lock refused us. Wait for it to publish its endpoint.
      const lockedByOther =
        err instanceof LocalWarehouseError && /Another server instance|already runs/.test(err.message);
      if (!lockedByOther || attempt >= 50) throw err;
      await sleep(200);
    }
  }
}

/**
 * Opens the warehouse (starting the local server when needed), applies pending migrations,
 * then the configured retention (TGPULSE_RETENTION_*) where a table's TTL differs from it.
 */
export async function openWarehouseMigrated(ctx: Context): Promise<Warehouse> {
  const cfg = ctx.config.warehouse;
  if (cfg.driver === 'local') await ensureLocalWarehouse(ctx);
  if (cfg.driver === 'server') await createDatabaseIfMissing(cfg);
  const wh = await openWarehouse(cfg);
  ctx.warehouse = wh;
  ctx.onClose('the warehouse connection', () => wh.close());
  const target = renderTargetFor(ctx.config.warehouse);
  const result = await migrate(wh, { target });
  if (result.applied.length) ctx.log.info({ applied: result.applied.map((m) => m.name) }, 'migrations applied');
  const changes = await applyRetention(wh, ctx.config.retention, { target });
  if (changes.length)
    ctx.log.info(
      { retention: ctx.config.retention, changed: changes.map((c) => `${c.table}: ${c.kind}`) },
      'warehouse retention applied',
    );
  return wh;
}

/**
 * Starts the role's ops endpoint (/metrics, /healthz, /readyz with a check
 * per opened dependency).
 */
export async function startOps(ctx: Context, more?: OpsServerOptions['more']): Promise<OpsServer> {
  const readiness: Record<string, () => Promise<void>> = {};
  const { nats, warehouse } = ctx;
  if (nats) readiness.nats = async () => void (await nats.nc.flush());
  if (warehouse) readiness.warehouse = () => warehouse.ping();
  const ops = await startOpsServer({
    host: ctx.config.http.host,
    port: ctx.config.http.port,
    metrics: ctx.metrics,
    readiness,
    more,
  });
  ctx.onClose('the ops endpoint', () => ops.close());
  warnIfOpen(ctx.log, opsListener(ctx.config.http.host, Number(new URL(ops.url).port)));
  return ops;
}
