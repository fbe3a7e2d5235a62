/**
 * The Telegram bot (grammY) and the alert notifier.
 */
export { type BotContext, createBot, registerCommands } from './bot.ts';
export type { BotConfig } from './config.ts';
export { runNotifier } from './notifier/notifier.ts';
export { runDigests } from './digests/scheduler.ts';
export { retryTelegram } from './telegram-retry.ts';
export { setWebhook, webhookRoute } from './webhook.ts';
