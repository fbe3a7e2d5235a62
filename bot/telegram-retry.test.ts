import { GrammyError, HttpError } from 'grammy';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../observability/log.ts';
import { retryTelegram } from './telegram-retry.ts';

const telegramError = (code: number) =>
  new GrammyError('failed', { ok: false, error_code: code, description: `error ${code}` }, 'setMyCommands', {});

describe('retryTelegram', () => {
  it('retries dropped connections and Telegram 5xx/429, then succeeds', async () => {
    const failures: Error[] = [
      new HttpError('Network request failed', new Error('ECONNRESET')),
      telegramError(502),
      telegramError(429),
    ];
    let calls = 0;
    const result = await retryTelegram(
      'setMyCommands',
      async () => {
        calls++;
        const f = failures.shift();
        if (f) throw f;
        return true;
      },
      { log: silentLogger, attempts: 5 },
    );
    expect([result, calls]).toEqual([true, 4]);
  }, 20_000);

  it('fails at once on a request Telegram refuses', async () => {
    let calls = 0;
    await expect(
      retryTelegram(
        'getMe',
        async () => {
          calls++;
          throw telegramError(401);
        },
        { log: silentLogger },
      ),
    ).rejects.toThrow(GrammyError);
    expect(calls).toBe(1);
  });
});
