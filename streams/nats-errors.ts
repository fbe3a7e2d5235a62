/**
 * What a NATS failure means for the caller. A frozen, restarting or
 * overloaded server shows up as request timeouts, "no responders" and
 * connection errors: those pass, so roles retry them with backoff instead of
 * dying. A refused compare-and-set is no failure of NATS at all: it says
 * someone else wrote the key, which is how fencing and leases work.
 */
import { withRetry, type RetryOptions } from '../common/index.ts';
import type { Logger, PipelineMetrics } from '../observability/index.ts';

const TRANSIENT_NAMES = new Set(['TimeoutError', 'NoResponders', 'RequestError', 'ConnectionError']);

/** JetStream API error codes of a compare-and-set that found another revision. */
const WRONG_REVISION_CODES = new Set([10071, 10164]);

interface ErrorLike {
  name?: string;
  message?: string;
  code?: unknown;
  status?: unknown;
  cause?: unknown;
}

/** The error and its causes, outermost first (bounded: causes can be cyclic). */
function chain(err: unknown): ErrorLike[] {
  const out: ErrorLike[] = [];
  for (
    let e = err as ErrorLike | undefined;
    e && typeof e === 'object' && out.length < 5;
    e = e.cause as ErrorLike | undefined
  )
    out.push(e);
  return out;
}

/** A timeout, missing responder or lost connection: worth retrying once NATS recovers. */
export function isTransientNatsError(err: unknown): boolean {
  return chain(err).some(
    (e) =>
      (e.name !== undefined && TRANSIENT_NAMES.has(e.name)) ||
      // JetStream temporarily unavailable (leader election, server catching up).
      (e.name === 'JetStreamApiError' && e.status === 503) ||
      /timeout|no responders|disconnect|connection (closed|lost|refused)/i.test(e.message ?? ''),
  );
}

/** A request that got no answer in time (a frozen or overloaded server), as opposed to no responder at all. */
export function isNatsTimeout(err: unknown): boolean {
  return chain(err).some((e) => e.name === 'TimeoutError' || /timeout/i.test(e.message ?? ''));
}

/** A KV update or create refused because the key is no longer at the expected revision. */
export function isWrongRevision(err: unknown): boolean {
  return chain(err).some(
    (e) =>
      (typeof e.code === 'number' && WRONG_REVISION_CODES.has(e.code)) ||
      /wrong last sequence|key exists/i.test(e.message ?? ''),
  );
}

/**
 * The `onRetry` of a role: counts each failed attempt in `tgpulse_errors_total`
 * under (stage, error) and logs it, so a retried failure is never silent.
 */
export function reportRetry(
  metrics: PipelineMetrics,
  log: Logger,
  label: { stage: string; error: string },
  message: string,
  fields: Record<string, unknown> = {},
): (err: unknown) => void {
  return (err) => {
    metrics.errors.inc(label);
    log.warn({ ...fields, err: String(err) }, message);
  };
}

export interface NatsRetryOptions {
  signal?: AbortSignal;
  /** Told each failed attempt before the wait (log it, count it). */
  onRetry?: RetryOptions['onRetry'];
  /** Backoff cap, ms (default 5 s). */
  maxMs?: number;
}

/**
 * Runs a NATS request until it succeeds, retrying transient failures with
 * backoff for as long as the signal allows; other errors are thrown at once.
 *
 * ```ts
 * const entry = await retryNats(() => kv.get(key), { signal, onRetry: count });
 * ```
 */
export function retryNats<T>(fn: () => Promise<T>, opts: NatsRetryOptions = {}): Promise<T> {
  return withRetry(fn, {
    attempts: Infinity,
    baseMs: 100,
    maxMs: opts.maxMs ?? 5_000,
    signal: opts.signal,
    onRetry: opts.onRetry,
    isFatal: (err) => !isTransientNatsError(err),
  });
}
