/**
 * Retrying the bot's one-off Telegram calls at start (getMe, setMyCommands,
 * setWebhook): a dropped connection or a Telegram hiccup must not stop
 * `tgpulse up`. A request Telegram refuses (4xx other than 429: a bad token,
 * a bad webhook URL) fails at once with Telegram's reason.
 */
import { GrammyError } from 'grammy';
import type { Logger } from '../observability/index.ts';
import { withRetry } from '../common/index.ts';

export function retryTelegram<T>(
  what: string,
  fn: () => Promise<T>,
  opts: { log: Logger; signal?: AbortSignal; attempts?: number },
): Promise<T> {
  return withRetry(fn, {
    attempts: opts.attempts ?? 8,
    baseMs: 500,
    maxMs: 15_000,
    ...(opts.signal ? { signal: opts.signal } : {}),
    isFatal: (err) => err instanceof GrammyError && err.error_code < 500 && err.error_code !== 429,
    onRetry: (err, attempt, waitMs) => opts.log.warn({ err, attempt, waitMs }, `Telegram ${what} failed; retrying`),
  });
}
