/** The bot's options, read once from configuration at start (see cli/config.ts). */
export interface BotConfig {
  /** Bot token from @BotFather; the bot (and the notifier) run only when it is set. */
  token: string | null;
  /** Bot API root (tests point it at a local fake). */
  apiRoot: string;
  /** Telegram user ids who administer the bot: they grant channels to others. */
  admins: string[];
  /** `polling` (default) or `webhook` behind the API's server. */
  mode: 'polling' | 'webhook';
  /** Secret token Telegram sends with webhook calls (required in webhook mode). */
  webhookSecret: string | null;
  /** Public base URL of the REST API, for share links the bot hands out. */
  publicApiUrl: string;
  /** Messages per second the notifier sends at most, across chats (Telegram allows ~30). */
  maxSendsPerSecond: number;
  /** Channels one user may add with /track (TGPULSE_BOT_TRACK_LIMIT); default 5. */
  trackLimit?: number;
}
