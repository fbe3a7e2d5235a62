/**
 * Bounded retry with exponential backoff for the server driver. Only failures
 * that a later attempt can fix are retried: a dropped connection, an overloaded
 * or restarting server, a proxy answering 5xx. A query the server rejected
 * (syntax, unknown table, type mismatch) fails at once.
 *
 * Retrying an insert is safe here: the sink passes an insert deduplication
 * token, and every table collapses duplicate rows by key anyway.
 */
import { clickhouseCodeOf } from './errors.ts';
import type { RetryPolicy } from './warehouse.ts';
import { backoffMs, withRetry as retryLoop, UNREACHABLE_SOCKET_CODES } from '../common/index.ts';

export const DEFAULT_RETRY_POLICY: RetryPolicy = { attempts: 5, baseDelayMs: 200, maxDelayMs: 5000 };

/**
 * ClickHouse exception codes that mean "try again later", not "your query is wrong".
 */
export const TRANSIENT_CLICKHOUSE_CODES: ReadonlySet<number> = new Set([
  3, // UNEXPECTED_END_OF_FILE
  159, // TIMEOUT_EXCEEDED
  202, // TOO_MANY_SIMULTANEOUS_QUERIES
  203, // NO_FREE_CONNECTION
  209, // SOCKET_TIMEOUT
  210, // NETWORK_ERROR
  242, // TABLE_IS_READ_ONLY (replica lost Keeper session)
  252, // TOO_MANY_PARTS
  285, // TOO_FEW_LIVE_REPLICAS
  319, // UNKNOWN_STATUS_OF_INSERT
  425, // SYSTEM_ERROR
  999, // KEEPER_EXCEPTION
]);

/**
 * Whether a failure of one request may succeed when repeated.
 *
 * - a ClickHouse exception (`Code: N. DB::Exception …`): only the codes in
 *   {@link TRANSIENT_CLICKHOUSE_CODES};
 * - a socket error (reset, refused, timeout): yes;
 * - any other plain `Error` from the client: yes. @clickhouse/client turns a
 *   non-2xx answer whose body is not a ClickHouse exception — a load balancer's
 *   502/503/504, a server still starting — into a plain Error with the body as
 *   message; a rejected query always carries a ClickHouse code.
 */
export function isTransient(err: unknown): boolean {
  const code = clickhouseCodeOf(err);
  if (code !== undefined) return TRANSIENT_CLICKHOUSE_CODES.has(code);
  if (!(err instanceof Error)) return false;
  const sysCode = (err as NodeJS.ErrnoException).code;
  if (typeof sysCode === 'string' && UNREACHABLE_SOCKET_CODES.has(sysCode)) return true;
  if (/socket hang up|timeout error/i.test(err.message)) return true;
  // Programming errors (TypeError, SyntaxError from parsing, …) are not worth repeating.
  return Object.getPrototypeOf(err) === Error.prototype;
}

/** Delay before retry number `retry` (1-based): the shared backoff of common/retry.ts under a policy. */
export function backoffDelayMs(retry: number, policy: RetryPolicy, random: () => number = Math.random): number {
  return backoffMs(retry, policy.baseDelayMs, policy.maxDelayMs, random);
}

/** A retried call that failed for good: the last error and how many attempts were made. */
export class FailedAfterAttempts extends Error {
  override readonly name = 'FailedAfterAttempts';
  constructor(
    readonly attempts: number,
    readonly lastError: unknown,
  ) {
    super(`failed after ${attempts} attempt(s)`, { cause: lastError });
  }
}

/**
 * Call `fn` until it succeeds, a non-transient error occurs, or the attempts
 * are spent. Resolves with the value and the number of attempts made.
 *
 * @throws FailedAfterAttempts carrying the last error and the attempt count.
 */
export async function withRetry<T>(
  fn: () => Promise<T>,
  policy: RetryPolicy,
  sleep?: (ms: number) => Promise<void>,
): Promise<T> {
  let attempts = 0;
  try {
    return await retryLoop(
      (attempt) => {
        attempts = attempt;
        return fn();
      },
      {
        attempts: policy.attempts,
        baseMs: policy.baseDelayMs,
        maxMs: policy.maxDelayMs,
        isFatal: (err) => !isTransient(err),
        sleep,
      },
    );
  } catch (err) {
    throw new FailedAfterAttempts(attempts, err);
  }
}
