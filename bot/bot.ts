/**
 * The Telegram bot's commands and keyboards (grammY): the composition of
 * the handlers in commands/, the access middleware and the error handling.
 * The bot reads only the read models the REST API uses, so a figure in a
 * chat is the figure the API gives for the same channel and period.
 *
 * Alerts are sent by the notifier (notifier/), not from here.
 */
import { Bot, type BotError, type Filter } from 'grammy';
import type pg from 'pg';
import { isTransient, type Warehouse, WarehouseError } from '../clickhouse/index.ts';
import { isControlPlaneDown } from '../control/index.ts';
import type { Logger } from '../observability/index.ts';
import { canSee, identify, refusal } from './access.ts';
import { alertsCommand } from './commands/alerts.ts';
import { anomaliesCommand } from './commands/anomalies.ts';
import { bestTimeCommand } from './commands/best-time.ts';
import { COMMANDS } from './commands/catalog.ts';
import { runChannelCommand, typedChannelCommand, type ChannelCommand } from './commands/channel-command.ts';
import { exportCommand } from './commands/export.ts';
import { forecastCommand } from './commands/forecast.ts';
import { grantCommand, revokeCommand, verifyCommand } from './commands/grants.ts';
import { growthCommand } from './commands/growth.ts';
import { overviewCommand } from './commands/overview.ts';
import { postCommand } from './commands/post.ts';
import { shareCommand } from './commands/share.ts';
import { dashboardCommand } from './commands/dashboard.ts';
import { channelsCommand, helpCommand, startCommand, unknownCommand } from './commands/start.ts';
import { topCommand } from './commands/top.ts';
import { trackCommand } from './commands/track.ts';
import { digestCommand } from './commands/digest.ts';
import type { BotConfig } from './config.ts';
import type { BotContext, BotServices } from './context.ts';
import { parseChoice, type ChoiceCommand } from './keyboards.ts';
import { traceBotApi, traceUpdates } from './tracing.ts';
import { logBotApi, logUpdates } from './update-log.ts';

/** Handlers' context, re-exported for callers that type the bot (`Bot<BotContext>`). */
export type { BotContext } from './context.ts';

/** What the bot is built from. */
export interface BotDeps {
  config: BotConfig;
  warehouse: Warehouse;
  control: pg.Pool;
  /** HMAC key of share links (see `shareSecret` in control/share-links.ts). */
  shareSecret: Buffer;
  log: Logger;
  /** Clock of "the last 30 days" (tests pin it). Default Date.now. */
  now?: () => number;
  /** Longest period a command may ask for: pass the API's `maxRangeDays` so both refuse alike. Default 400, the API's default. */
  maxRangeDays?: number;
}

/** The commands a button can run, by the name in its callback data. */
export const CHANNEL_COMMANDS: Record<ChoiceCommand, ChannelCommand> = {
  overview: overviewCommand,
  growth: growthCommand,
  top: topCommand,
  anomalies: anomaliesCommand,
  besttime: bestTimeCommand,
  export: exportCommand,
  share: shareCommand,
  forecast: forecastCommand,
};

const APOLOGY = 'Sorry, something went wrong on my side. Please try again in a minute.';
const UNAVAILABLE =
  'Sorry, I am temporarily unavailable: my database is not answering. Please try again in a few minutes.';

/** A store (Postgres or the warehouse) that does not answer: an outage to wait out, not a bug. */
function isOutage(err: unknown): boolean {
  return isControlPlaneDown(err) || (err instanceof WarehouseError && isTransient(err.cause ?? err));
}
const STALE_BUTTON = 'This button is out of date: send the command again.';

/**
 * Builds the bot (not started). Start it with long polling (`bot.start()`)
 * or feed it webhook updates; call {@link registerCommands} once so the
 * Telegram clients show the command menu.
 *
 * Every update first records its sender (`ctx.viewer`); an error in a
 * handler is logged and the user gets a short apology, never the error:
 * "temporarily unavailable" when Postgres or the warehouse does not answer.
 *
 * @example
 * const bot = createBot({ config: cfg.bot, warehouse, control: control.pool, shareSecret: await shareSecret(control.pool), log });
 * await registerCommands(bot);
 * void bot.start({ onStart: () => log.info('bot polling') });
 */
export function createBot(deps: BotDeps): Bot<BotContext> {
  if (deps.config.token === null)
    throw new Error('createBot needs a bot token: set TGPULSE_BOT_TOKEN to the token from @BotFather');
  const s: BotServices = {
    config: deps.config,
    warehouse: deps.warehouse,
    control: deps.control,
    shareSecret: deps.shareSecret,
    log: deps.log,
    now: deps.now ?? Date.now,
    maxRangeDays: deps.maxRangeDays ?? 400,
  };
  const bot = new Bot<BotContext>(deps.config.token, { client: { apiRoot: deps.config.apiRoot } });
  bot.api.config.use(traceBotApi(), logBotApi(s.log));
  bot.use(traceUpdates(), logUpdates(s.log));
  const apologize = async (err: BotError<BotContext>): Promise<void> => {
    const outage = isOutage(err.error);
    const where = { err: err.error, updateId: err.ctx.update.update_id, from: err.ctx.from?.id };
    if (outage) s.log.warn(where, 'bot: a store did not answer; told the user to try again later');
    else s.log.error(where, 'bot: handling an update failed');
    if (err.ctx.chat === undefined) return;
    await err.ctx
      .reply(outage ? UNAVAILABLE : APOLOGY)
      .catch((replyErr: unknown) => s.log.warn({ err: replyErr }, 'bot: could not send the apology'));
  };
  // bot.catch serves long polling; the boundary gives webhook updates the same treatment.
  bot.catch(apologize);
  const guarded = bot.errorBoundary(apologize);

  guarded.use(identify(s));
  for (const def of Object.values(CHANNEL_COMMANDS)) guarded.command(def.name, typedChannelCommand(s, def));
  guarded.command('start', startCommand(s));
  guarded.command('help', helpCommand);
  guarded.command('channels', channelsCommand(s));
  guarded.command('dashboard', dashboardCommand(s));
  guarded.command('post', postCommand(s));
  guarded.command('alerts', alertsCommand(s));
  guarded.command('verify', verifyCommand(s));
  guarded.command('grant', grantCommand(s));
  guarded.command('revoke', revokeCommand(s));
  guarded.command('track', trackCommand(s));
  guarded.command('digest', digestCommand(s));
  guarded.on('callback_query:data', pressedButton(s));
  guarded.on('message:text', async (ctx) => {
    if (isCommandForUs(ctx)) return unknownCommand(ctx);
    // In groups the bot hears only commands; in a private chat, point a lost user to /help.
    if (ctx.chat.type === 'private') await ctx.reply('Send /help to see what I can do.');
  });
  return bot;
}

/** A message that starts with a command addressed to this bot (or to no bot in particular). */
function isCommandForUs(ctx: BotContext): boolean {
  const text = ctx.message?.text ?? '';
  const entity = ctx.message?.entities?.[0];
  if (!text.startsWith('/') || entity?.type !== 'bot_command' || entity.offset !== 0) return false;
  const target = text.slice(0, entity.length).split('@')[1];
  return target === undefined || target.toLowerCase() === ctx.me.username.toLowerCase();
}

/**
 * A pressed channel or period button. Access is checked for whoever pressed
 * it (buttons stay in chats other people read), and data this version did
 * not make gets a polite answer instead of a guess.
 */
function pressedButton(s: BotServices): (ctx: Filter<BotContext, 'callback_query:data'>) => Promise<void> {
  return async (ctx) => {
    const choice = parseChoice(ctx.callbackQuery.data);
    if (choice === null || (choice.days !== null && choice.days > s.maxRangeDays)) {
      await ctx.answerCallbackQuery({ text: STALE_BUTTON });
      return;
    }
    if (!(await canSee(s, ctx.viewer, choice.channelId))) {
      await ctx.answerCallbackQuery({ text: refusal(choice.channelId), show_alert: true });
      return;
    }
    await ctx.answerCallbackQuery();
    await runChannelCommand(ctx, s, CHANNEL_COMMANDS[choice.command], {
      channel: choice.channelId,
      days: choice.days,
      option: null,
    });
  };
}

/**
 * Tells Telegram the command menu (admin-only commands left out), so clients
 * offer the commands as the user types `/`. Call once at start; repeating it
 * is harmless.
 */
export async function registerCommands(bot: Bot<BotContext>): Promise<void> {
  await bot.api.setMyCommands(
    COMMANDS.filter((c) => !c.adminOnly).map((c) => ({ command: c.command, description: c.description })),
  );
}
