/**
 * What every handler of the bot works with: the grammY context, flavoured
 * with the user who sent the update (known and upserted before any command
 * runs), and the services the bot was built with.
 */
import type { CommandContext, Context } from 'grammy';
import type pg from 'pg';
import type { Warehouse } from '../clickhouse/index.ts';
import type { Logger } from '../observability/index.ts';
import type { BotConfig } from './config.ts';

/** The Telegram user behind an update, as the control plane knows them. */
export interface Viewer {
  userId: string;
  username: string | null;
  /** Sees every channel and manages grants (from TGPULSE_BOT_ADMINS; stored, never demoted by the bot). */
  isAdmin: boolean;
}

/** Context flavour set by the identifying middleware, so handlers never look the user up again. */
export interface ViewerFlavor {
  viewer: Viewer;
}

/** The context of every handler: grammY's, plus who is asking. */
export type BotContext = Context & ViewerFlavor;

/** A command's handler: `ctx.match` holds the words after the command. */
export type CommandHandler = (ctx: CommandContext<BotContext>) => Promise<void>;

/** The bot's dependencies, resolved once by `createBot` (bot.ts) with defaults filled in. */
export interface BotServices {
  config: BotConfig;
  warehouse: Warehouse;
  control: pg.Pool;
  shareSecret: Buffer;
  log: Logger;
  now(): number;
  /** Longest period a command may ask for: the API's limit, so both answer the same questions. */
  maxRangeDays: number;
}
