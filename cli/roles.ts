import { startApiServer, type ApiServer } from '../api/index.ts';
import type { ControlPlane } from '../control/index.ts';
import { openControlFor } from './control.ts';
import type { FastifyInstance } from 'fastify';
import type { Bot } from 'grammy';
import { createBot, registerCommands, type BotContext } from '../bot/index.ts';
import { runNotifier } from '../bot/index.ts';
import { setWebhook } from '../bot/index.ts';
import { retryTelegram } from '../bot/index.ts';
import { shareSecret } from '../control/index.ts';
/**
 * Composition of the roles: each takes the shared context and the shutdown
 * signal, runs until the signal aborts, then drains and returns.
 */
import { runPartition } from '../processors/index.ts';
import { runOwnership } from '../processors/index.ts';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { LeaseTable } from '../streams/index.ts';
import { connectNats } from '../streams/index.ts';
import { reportRetry, retryNats } from '../streams/index.ts';
import { openCheckpointBucket } from '../streams/index.ts';
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
          checkpointIntervalMs: ctx.config.checkpointIntervalMs,
        }),
    });
  } finally {
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
  try {
    const js = jetstream(conn);
    const jsm = await retryNats(() => jetstreamManager(conn), {
      signal,
      onRetry: reportRetry(
        ctx.metrics,
        ctx.log,
        { stage: 'sink', error: 'nats_retry' },
        'NATS did not answer; retrying',
      ),
    });
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
        }),
      ),
    );
  } finally {
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
  return run.catch((err) => {
    ctx.log.fatal({ err, role: name }, 'role failed; stopping');
    ctx.metrics.errors.inc({ stage: name, error: 'role_failed' });
    stop(`${name} failed: ${(err as Error).message}`);
    throw err;
  });
}

/** Opens the control plane (closed through the context). */
export async function openControlRole(ctx: Context): Promise<ControlPlane> {
  const control = await openControlFor(ctx.config, ctx.log);
  ctx.onClose(() => control.close());
  return control;
}

/**
 * Starts the REST API on an open warehouse and control plane (closed through
 * the context). The API's metrics join the process's registry.
 */
export async function startApiRole(
  ctx: Context,
  warehouse: Warehouse,
  control: ControlPlane,
  routes: Array<(app: FastifyInstance) => void> = [],
): Promise<ApiServer> {
  const api = await startApiServer({
    warehouse,
    control,
    controlConfig: ctx.config.control,
    config: ctx.config.api,
    log: ctx.log,
    registry: ctx.metrics.registry,
    routes,
  });
  ctx.onClose(() => api.close());
  ctx.log.info({ url: api.url, docs: `${api.url}/docs`, control: control.driver }, 'REST API listening');
  return api;
}

/** The bot, built but not started; null when no token is configured. */
export async function createBotRole(
  ctx: Context,
  warehouse: Warehouse,
  control: ControlPlane,
): Promise<Bot<BotContext> | null> {
  const cfg = ctx.config.bot;
  if (cfg.token === null) return null;
  const secret = await shareSecret(control.pool, ctx.config.control.shareSecret);
  const bot = createBot({
    config: cfg,
    warehouse,
    control: control.pool,
    shareSecret: secret,
    log: ctx.log,
    maxRangeDays: ctx.config.api.maxRangeDays,
  });
  await retryTelegram('getMe', () => bot.init(), { log: ctx.log }).catch((err: unknown) => {
    throw new Error(
      `the Telegram bot could not start: getMe failed (${(err as Error).message}); check TGPULSE_BOT_TOKEN and TGPULSE_BOT_API_ROOT`,
      { cause: err },
    );
  });
  return bot;
}

/**
 * Runs the bot (long polling, unless updates come by webhook) and the alert
 * notifier until the signal aborts.
 */
export async function runBotRole(
  ctx: Context,
  nats: NatsContext,
  warehouse: Warehouse,
  control: ControlPlane,
  bot: Bot<BotContext>,
  signal: AbortSignal,
): Promise<void> {
  const cfg = ctx.config.bot;
  const retry = { log: ctx.log, signal };
  await retryTelegram('setMyCommands', () => registerCommands(bot), retry);
  if (cfg.mode === 'webhook')
    await retryTelegram('setWebhook', () => setWebhook(bot, cfg.publicApiUrl, cfg.webhookSecret ?? ''), retry);
  else await retryTelegram('deleteWebhook', () => bot.api.deleteWebhook(), retry);
  const polling =
    cfg.mode === 'polling'
      ? bot.start({ drop_pending_updates: false, allowed_updates: ['message', 'callback_query'] })
      : Promise.resolve();
  ctx.log.info({ bot: bot.botInfo.username, mode: cfg.mode }, 'Telegram bot running');
  const stopPolling = () => void bot.stop().catch((err: unknown) => ctx.log.warn({ err }, 'stopping the bot failed'));
  signal.addEventListener('abort', stopPolling, { once: true });
  try {
    await Promise.all([
      polling,
      runNotifier({
        js: nats.js,
        jsm: nats.jsm,
        streams: ctx.config.streams,
        control: control.pool,
        warehouse,
        api: bot.api,
        log: ctx.log,
        pipelineMetrics: ctx.metrics,
        maxSendsPerSecond: cfg.maxSendsPerSecond,
        signal,
      }),
    ]);
  } finally {
    signal.removeEventListener('abort', stopPolling);
  }
}

/** Serves until the signal aborts (closing happens through the context). */
export async function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
