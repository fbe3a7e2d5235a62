import { ClickHouseError } from '@clickhouse/client';
import { describe, expect, it } from 'vitest';
import { FailedAfterAttempts, backoffDelayMs, isTransient, withRetry } from './retry.ts';

const policy = { attempts: 4, baseDelayMs: 100, maxDelayMs: 1000 };

function sysError(code: string): Error {
  return Object.assign(new Error(`connect ${code}`), { code });
}

describe('isTransient', () => {
  it('retries dropped connections and answers that are not ClickHouse exceptions (proxy 5xx)', () => {
    expect(isTransient(sysError('ECONNRESET'))).toBe(true);
    expect(isTransient(sysError('ECONNREFUSED'))).toBe(true);
    expect(isTransient(new Error('socket hang up'))).toBe(true);
    expect(isTransient(new Error('<html>502 Bad Gateway</html>'))).toBe(true);
  });

  it('retries overload and replication hiccups, not queries the server rejected', () => {
    expect(
      isTransient(new ClickHouseError({ message: 'too many', code: '202', type: 'TOO_MANY_SIMULTANEOUS_QUERIES' })),
    ).toBe(true);
    expect(isTransient(new ClickHouseError({ message: 'parts', code: '252', type: 'TOO_MANY_PARTS' }))).toBe(true);
    expect(isTransient(new ClickHouseError({ message: 'syntax', code: '62', type: 'SYNTAX_ERROR' }))).toBe(false);
    expect(isTransient(new ClickHouseError({ message: 'no table', code: '60', type: 'UNKNOWN_TABLE' }))).toBe(false);
    expect(isTransient(new ClickHouseError({ message: 'auth', code: '516', type: 'AUTHENTICATION_FAILED' }))).toBe(
      false,
    );
  });

  it('does not retry programming errors', () => {
    expect(isTransient(new TypeError('x is not a function'))).toBe(false);
    expect(isTransient(new SyntaxError('Unexpected token'))).toBe(false);
    expect(isTransient('a string')).toBe(false);
  });
});

describe('backoff', () => {
  it('grows exponentially with jitter in [cap/2, cap], capped', () => {
    expect(backoffDelayMs(1, policy, () => 0)).toBe(50);
    expect(backoffDelayMs(1, policy, () => 1)).toBe(100);
    expect(backoffDelayMs(3, policy, () => 1)).toBe(400);
    expect(backoffDelayMs(10, policy, () => 1)).toBe(1000);
  });
});

describe('withRetry', () => {
  const noSleep = async (): Promise<void> => {};

  it('returns after transient failures', async () => {
    let calls = 0;
    const value = await withRetry(
      async () => (++calls < 3 ? Promise.reject(sysError('ECONNRESET')) : 'ok'),
      policy,
      noSleep,
    );
    expect([value, calls]).toEqual(['ok', 3]);
  });

  it('gives up after the configured attempts, keeping the last error', async () => {
    let calls = 0;
    const err = await withRetry(
      () => Promise.reject(sysError(`ECONNRESET`)).finally(() => calls++),
      policy,
      noSleep,
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FailedAfterAttempts);
    expect(err).toMatchObject({ attempts: 4, lastError: { code: 'ECONNRESET' } });
    expect(calls).toBe(4);
  });

  it('fails at once on a permanent error', async () => {
    let calls = 0;
    const err = await withRetry(
      () => Promise.reject(new TypeError('bug')).finally(() => calls++),
      policy,
      noSleep,
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ attempts: 1 });
    expect(calls).toBe(1);
  });
});
