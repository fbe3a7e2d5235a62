/**
 * Posting alerts to webhook destinations, under the rules the Telegram
 * sender follows: one post a second per destination (Slack's pace), `429`
 * answered by waiting its `Retry-After`, transient failures (5xx, 408,
 * timeouts, refused or reset connections) retried with backoff. A destination
 * that is gone (404, 410) or refuses tgpulse (401, 403) is reported as
 * {@link WebhookGone}, so the caller disables it like a chat that blocked the
 * bot; any other refusal (another 4xx, a redirect, which is never followed)
 * as {@link WebhookRejected}, so that alert is recorded and not retried forever.
 *
 * Each attempt is bounded by a timeout and signed afresh (a new timestamp).
 * Logs and errors name the destination by id and {@link redactWebhookUrl}:
 * Slack and Discord URLs hold the destination's credential.
 */
import { backoffMs, sleep } from '../../common/index.ts';
import { redactWebhookUrl, type WebhookTarget } from '../../control/index.ts';
import type { Logger } from '../../observability/index.ts';
import { webhookHeaders } from './webhook-payload.ts';

/** The destination is gone or refuses tgpulse for good: disable it. */
export class WebhookGone extends Error {
  override readonly name = 'WebhookGone';
  constructor(
    readonly webhookId: number,
    readonly reason: string,
  ) {
    super(`webhook ${webhookId} is gone: ${reason}`);
  }
}

/** The destination refused this alert for a reason retrying will not cure. */
export class WebhookRejected extends Error {
  override readonly name = 'WebhookRejected';
  constructor(
    readonly webhookId: number,
    readonly reason: string,
  ) {
    super(`webhook ${webhookId} refused the alert: ${reason}; check its URL and format (tgpulse alerts webhook list)`);
  }
}

const GONE = new Set([401, 403, 404, 410]);
/** 429s waited out for one alert before it is left for a later redelivery. */
const MAX_RATE_LIMIT_WAITS = 10;
/** The longest `Retry-After` honoured in place; a longer one is capped (the destination is asked again then). */
const MAX_RETRY_AFTER_MS = 300_000;

export interface WebhookSenderOptions {
  /** Attempts at a transient failure before giving up (the event is then redelivered). */
  attempts?: number;
  /** Bound on each attempt, from connecting to reading the answer. */
  timeoutMs?: number;
  signal: AbortSignal;
  log: Logger;
  onRateLimited?: (retryAfterS: number) => void;
  now?: () => number;
}

export class WebhookSender {
  readonly #nextAt = new Map<number, number>();

  constructor(private readonly opts: WebhookSenderOptions) {}

  /**
   * Posts `body` to the destination until it answers 2xx.
   *
   * @throws WebhookGone, WebhookRejected as above; Error (with the last failure as cause) when
   *   transient failures outlast the attempts or the signal aborts.
   */
  async post(target: WebhookTarget, body: string, delivery: string): Promise<{ status: number }> {
    const attempts = this.opts.attempts ?? 5;
    const where = { webhook: target.id, to: redactWebhookUrl(target.url) };
    let rateLimited = 0;
    for (let attempt = 1; ; attempt++) {
      await this.#pace(target.id);
      if (this.opts.signal.aborted) throw new Error(`webhook ${target.id}: stopped before the alert was posted`);
      let failure: string;
      try {
        const res = await fetch(target.url, {
          method: 'POST',
          body,
          headers: webhookHeaders(target.secret, body, delivery, (this.opts.now ?? Date.now)()),
          redirect: 'manual',
          signal: AbortSignal.any([this.opts.signal, AbortSignal.timeout(this.opts.timeoutMs ?? 10_000)]),
        });
        const answer = `HTTP ${res.status}${await snippet(res)}`;
        if (res.status >= 200 && res.status < 300) return { status: res.status };
        if (res.status === 429 && rateLimited < MAX_RATE_LIMIT_WAITS) {
          const waitMs = retryAfterMs(res.headers.get('retry-after'), Date.now());
          rateLimited++;
          attempt--; // told exactly when to come back: not a failed attempt
          this.opts.onRateLimited?.(waitMs / 1000);
          this.opts.log.warn({ ...where, retryAfterS: waitMs / 1000 }, 'webhook rate limit: waiting as told');
          await sleep(waitMs, this.opts.signal);
          continue;
        }
        if (GONE.has(res.status)) throw new WebhookGone(target.id, answer);
        if (res.status !== 408 && res.status !== 429 && res.status < 500) throw new WebhookRejected(target.id, answer);
        failure = answer;
      } catch (err) {
        if (err instanceof WebhookGone || err instanceof WebhookRejected) throw err;
        // Connection refused or reset, DNS, the attempt's timeout; never the URL (undici leaves it out).
        const cause = (err as { cause?: { code?: string } }).cause?.code;
        failure = cause ?? (err as Error).name;
      }
      if (attempt >= attempts || this.opts.signal.aborted)
        throw new Error(
          `webhook ${target.id} (${where.to}) failed ${attempt} times, last: ${failure}; the alert will be retried on redelivery`,
        );
      this.opts.log.warn({ ...where, attempt, failure }, 'post to webhook failed; retrying');
      await sleep(backoffMs(attempt, 500, 10_000), this.opts.signal);
    }
  }

  /** Waits for this destination's one-per-second slot. */
  async #pace(id: number): Promise<void> {
    const now = Date.now();
    const at = Math.max(now, this.#nextAt.get(id) ?? 0);
    this.#nextAt.set(id, at + 1000);
    if (at > now) await sleep(at - now, this.opts.signal);
  }
}

/** How long a `Retry-After` (seconds or an HTTP date) says to wait; 1 s when absent or unreadable. */
export function retryAfterMs(header: string | null, now: number): number {
  const value = header?.trim() ?? '';
  const ms = /^\d+$/.test(value) ? Number(value) * 1000 : Date.parse(value) - now;
  return Math.min(MAX_RETRY_AFTER_MS, Number.isFinite(ms) && ms > 0 ? ms : 1000);
}

/** The start of an answer's body (for the reason of a refusal), reading no more than that. */
async function snippet(res: Response): Promise<string> {
  if (res.body === null) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < 200) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } catch {
    // The body broke off: what arrived is enough for a reason.
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  const text = Buffer.concat(chunks).toString('utf8').slice(0, 200).replace(/\s+/g, ' ').trim();
  return text === '' ? '' : `: ${text}`;
}
