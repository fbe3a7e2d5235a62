/**
 * Sending to Telegram within its limits: a global pace (about 30 messages a
 * second for a bot), one message a second per chat, `429` answered by waiting
 * the `retry_after` Telegram names, transient failures retried with backoff.
 * A chat the bot can no longer write to (blocked, deleted, kicked) is reported
 * as {@link ChatUnreachable} so the caller disables its subscriptions instead
 * of retrying forever.
 */
import { GrammyError, HttpError, InputFile, type Api } from 'grammy';
import type { InlineKeyboardMarkup } from 'grammy/types';
import type { Logger } from '../../observability/index.ts';
import { backoffMs, sleep } from '../../common/index.ts';

export class ChatUnreachable extends Error {
  override readonly name = 'ChatUnreachable';
  constructor(
    readonly chatId: string,
    readonly reason: string,
  ) {
    super(`chat ${chatId} cannot be written to: ${reason}`);
  }
}

/** Telegram's answers that mean "this chat is gone for us". */
const UNREACHABLE =
  /bot was blocked|user is deactivated|chat not found|bot was kicked|not a member|have no rights to send|group chat was deactivated|PEER_ID_INVALID/i;

export interface SendOutcome {
  messageId: number;
  /** 429s waited out before it went through. */
  rateLimited: number;
}

export interface AlertSenderOptions {
  maxPerSecond: number;
  /** Gives up on transient failures after this many attempts (the event is then redelivered). */
  attempts?: number;
  signal: AbortSignal;
  log: Logger;
  onRateLimited?: (retryAfterS: number) => void;
}

export class AlertSender {
  #nextGlobal = 0;
  readonly #nextPerChat = new Map<string, number>();

  constructor(
    private readonly api: Api,
    private readonly opts: AlertSenderOptions,
  ) {}

  sendAlert(chatId: string, png: Buffer | null, caption: string, keyboard: InlineKeyboardMarkup): Promise<SendOutcome> {
    return this.#send(chatId, () =>
      png === null
        ? this.api.sendMessage(chatId, caption, { parse_mode: 'HTML', reply_markup: keyboard })
        : this.api.sendPhoto(chatId, new InputFile(png, 'anomaly.png'), {
            caption,
            parse_mode: 'HTML',
            reply_markup: keyboard,
          }),
    );
  }

  sendText(chatId: string, text: string, replyTo: number | null): Promise<SendOutcome> {
    return this.#send(chatId, () =>
      this.api.sendMessage(chatId, text, {
        parse_mode: 'HTML',
        ...(replyTo === null ? {} : { reply_parameters: { message_id: replyTo, allow_sending_without_reply: true } }),
      }),
    );
  }

  async #send(chatId: string, call: () => Promise<{ message_id: number }>): Promise<SendOutcome> {
    const attempts = this.opts.attempts ?? 6;
    let rateLimited = 0;
    for (let attempt = 1; ; attempt++) {
      await this.#pace(chatId);
      try {
        const message = await call();
        return { messageId: message.message_id, rateLimited };
      } catch (err) {
        if (err instanceof GrammyError) {
          if (err.error_code === 429) {
            const wait = Math.max(1, err.parameters.retry_after ?? 1);
            rateLimited++;
            this.opts.onRateLimited?.(wait);
            this.opts.log.warn({ chatId, retryAfterS: wait }, 'Telegram rate limit: waiting as told');
            await sleep(wait * 1000, this.opts.signal);
            if (this.opts.signal.aborted) throw err;
            continue; // a 429 is not a failed attempt: Telegram said exactly when to come back
          }
          if ((err.error_code === 403 || err.error_code === 400) && UNREACHABLE.test(err.description)) {
            throw new ChatUnreachable(chatId, err.description);
          }
          if (err.error_code < 500) throw err; // our request is wrong: retrying will not help
        } else if (!(err instanceof HttpError)) {
          throw err;
        }
        if (attempt >= attempts || this.opts.signal.aborted) throw err;
        this.opts.log.warn({ err, chatId, attempt }, 'send to Telegram failed; retrying');
        await sleep(backoffMs(attempt, 500, 10_000), this.opts.signal);
      }
    }
  }

  /** Wait for the global pace and for this chat's one-per-second slot. */
  async #pace(chatId: string): Promise<void> {
    const now = Date.now();
    const at = Math.max(now, this.#nextGlobal, this.#nextPerChat.get(chatId) ?? 0);
    this.#nextGlobal = at + 1000 / this.opts.maxPerSecond;
    this.#nextPerChat.set(chatId, at + 1000);
    if (this.#nextPerChat.size > 10_000) {
      for (const [id, t] of this.#nextPerChat) if (t < now) this.#nextPerChat.delete(id);
    }
    if (at > now) await sleep(at - now, this.opts.signal);
  }
}
