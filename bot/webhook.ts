/**
 * Webhook mode: Telegram POSTs updates to the REST API's server at
 * `/telegram/webhook`, checked against the secret token set with setWebhook,
 * instead of the bot polling for them.
 */
import type { FastifyInstance } from 'fastify';
import { webhookCallback, type Bot } from 'grammy';
import type { BotContext } from './bot.ts';

export const WEBHOOK_PATH = '/telegram/webhook';

/** A route registration for buildApi's `routes`: the webhook of `bot`. */
export function webhookRoute(bot: Bot<BotContext>, secretToken: string): (app: FastifyInstance) => void {
  const handle = webhookCallback(bot, 'fastify', { secretToken });
  return (app) => {
    app.post(WEBHOOK_PATH, { schema: { hide: true }, config: { limitAnonymous: false } }, handle);
  };
}

/** Tell Telegram where to send updates (the public URL of the API plus the path). */
export async function setWebhook(bot: Bot<BotContext>, publicApiUrl: string, secretToken: string): Promise<void> {
  await bot.api.setWebhook(`${publicApiUrl}${WEBHOOK_PATH}`, {
    secret_token: secretToken,
    allowed_updates: ['message', 'callback_query'],
  });
}
