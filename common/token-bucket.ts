/**
 * Per-caller rate limits: a token bucket per API key (or per client address
 * for share links), refilled continuously, so a burst up to the per-minute
 * budget passes and a steady stream is held to it.
 */

export interface TakeResult {
  ok: boolean;
  limit: number;
  remaining: number;
  /** When not ok: how long until one request will pass (ms). */
  retryAfterMs: number;
}

/** One bucket: `perMinute` capacity, refilled at perMinute/60 tokens per second. */
export class TokenBucket {
  #tokens: number;
  #at: number;
  constructor(
    readonly perMinute: number,
    now: number,
  ) {
    this.#tokens = perMinute;
    this.#at = now;
  }

  take(now: number): TakeResult {
    const rate = this.perMinute / 60_000;
    this.#tokens = Math.min(this.perMinute, this.#tokens + Math.max(0, now - this.#at) * rate);
    this.#at = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return { ok: true, limit: this.perMinute, remaining: Math.floor(this.#tokens), retryAfterMs: 0 };
    }
    return { ok: false, limit: this.perMinute, remaining: 0, retryAfterMs: Math.ceil((1 - this.#tokens) / rate) };
  }
}

/** Buckets by caller; idle full buckets are dropped so the map does not grow without bound. */
export class RateLimiter {
  readonly #buckets = new Map<string, TokenBucket>();
  constructor(private readonly maxCallers = 100_000) {}

  take(caller: string, perMinute: number, now = Date.now()): TakeResult {
    let bucket = this.#buckets.get(caller);
    if (!bucket || bucket.perMinute !== perMinute) {
      if (this.#buckets.size >= this.maxCallers) this.#buckets.delete(this.#buckets.keys().next().value as string);
      bucket = new TokenBucket(perMinute, now);
      this.#buckets.set(caller, bucket);
    }
    return bucket.take(now);
  }
}
