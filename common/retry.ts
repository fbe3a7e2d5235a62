/**
 * Retry with exponential backoff and jitter, honouring an AbortSignal.
 * Shared by every stage so failures of NATS or ClickHouse are retried the same way.
 */
export interface RetryOptions {
  /** Attempts in total (Infinity retries until the signal aborts). */
  attempts: number;
  baseMs: number;
  maxMs: number;
  signal?: AbortSignal;
  /** Called before each wait, e.g. to log and count the failure. */
  onRetry?: (err: unknown, attempt: number, waitMs: number) => void;
  /** Errors for which retrying cannot help; thrown at once. */
  isFatal?: (err: unknown) => boolean;
  /** How to wait (tests pass one that does not). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Delay before retry number `retry` (1-based): jitter over the upper half of an exponential cap. */
export function backoffMs(retry: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const cap = Math.min(maxMs, baseMs * 2 ** (retry - 1));
  return Math.round(cap * (0.5 + random() / 2));
}

export async function withRetry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= opts.attempts || opts.isFatal?.(err) || opts.signal?.aborted) throw err;
      const waitMs = backoffMs(attempt, opts.baseMs, opts.maxMs);
      opts.onRetry?.(err, attempt, waitMs);
      await (opts.sleep ?? sleep)(waitMs, opts.signal);
    }
  }
}

/** Resolves after `ms`, or early (without throwing) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
