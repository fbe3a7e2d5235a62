/**
 * The serving roles: the REST API and the Telegram bot with its alert
 * notifier. Apart from roles.ts because they load Fastify, grammY and the
 * chart renderer, which the stream roles never need.
 */
import type { FastifyInstance } from 'fastify';
import type { Bot } from 'grammy';
import { startApiServer, type ApiServer } from '../api/index.ts';
import {
  createBot,
  registerCommands,
  retryTelegram,
  runDigests,
  runNotifier,
  setWebhook,
  type BotContext,
} from '../bot/index.ts';
import type { Warehouse } from '../clickhouse/index.ts';
import { shareSecret, type ControlPlane } from '../control/index.ts';
import type { JetStreamClient } from '@nats-io/jetstream';
import { rawEventPublisher } from '../streams/index.ts';
import type { RawEvent } from '../streams/contract/index.ts';
import type { Context, NatsContext } from './context.ts';
import { apiListener, warnIfOpen } from './open-listeners.ts';

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
    // Custom bot events need NATS: a process that has it (`tgpulse up`) takes them.
    ...(ctx.nats ? { publish: apiEventPublisher(ctx.nats.js, ctx) } : {}),
  });
  ctx.onClose('the REST API', () => api.close());
  ctx.log.info({ url: api.url, docs: `${api.url}/docs`, control: control.driver }, 'REST API listening');
  warnIfOpen(ctx.log, apiListener(ctx.config.api.host, Number(new URL(api.url).port)));
  return api;
}

/** How long `POST /v1/events` waits for NATS to take its events before it answers 503. */
const EVENT_PUBLISH_TIMEOUT_MS = 10_000;

/**
 * What the API publishes custom bot events with: TG_RAW through the streams'
 * publisher, one per request (a failure is that request's own) and bounded in
 * time (a NATS outage answers 503, it does not hang the request).
 */
export function apiEventPublisher(js: JetStreamClient, ctx: Context): (events: readonly RawEvent[]) => Promise<void> {
  return async (events) => {
    const publisher = rawEventPublisher(js, ctx.config.streams, {
      metrics: ctx.metrics,
      log: ctx.log,
      signal: AbortSignal.timeout(EVENT_PUBLISH_TIMEOUT_MS),
    });
    await publisher.publish(events);
    await publisher.flush();
  };
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
 * Runs the bot (long polling, unless updates come by webhook), the alert
 * notifier and the digest loop until the signal aborts.
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
      runDigests({
        control: control.pool,
        warehouse,
        api: bot.api,
        log: ctx.log,
        signal,
        maxSendsPerSecond: cfg.maxSendsPerSecond,
      }),
    ]);
  } finally {
    signal.removeEventListener('abort', stopPolling);
  }
}
