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
}

export async function withRetry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= opts.attempts || opts.isFatal?.(err) || opts.signal?.aborted) throw err;
      const exp = Math.min(opts.maxMs, opts.baseMs * 2 ** (attempt - 1));
      const waitMs = Math.round(exp / 2 + Math.random() * (exp / 2));
      opts.onRetry?.(err, attempt, waitMs);
      await sleep(waitMs, opts.signal);
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
