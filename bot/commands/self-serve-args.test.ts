/**
 * What `/track` and `/digest` read from the words after them: every form of
 * a channel reference people copy, and a cadence with a channel and a time
 * zone in any order, each bad word answered with what was expected.
 */
import { describe, expect, it } from 'vitest';
import { parseDigestRequest } from './digest.ts';
import { trackTarget } from './track.ts';

describe('/track reads a channel as Telegram names it', () => {
  it.each([
    ['@owned_news', '@owned_news'],
    ['owned_news', '@owned_news'],
    ['https://t.me/owned_news', '@owned_news'],
    ['t.me/s/owned_news/', '@owned_news'],
    ['1500000001', '-1001500000001'],
    ['-1001500000001', '-1001500000001'],
  ])('%s → %s', (word, chatId) => {
    expect(trackTarget(word)).toEqual({ ok: true, value: chatId });
  });

  it.each(['@abc', 't.me/c/123/4', 'https://example.com/owned_news', '0123', 'not/a/channel'])('refuses %s', (word) => {
    const parsed = trackTarget(word);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problem).toContain('give its @username, t.me link or id');
  });
});

describe('/digest reads a cadence, then a channel and a time zone in any order', () => {
  it('lists, starts and stops', () => {
    expect(parseDigestRequest([])).toEqual({ ok: true, value: { action: 'list' } });
    expect(parseDigestRequest(['Weekly', 'asia/tokyo', '-1001500000001'])).toEqual({
      ok: true,
      value: { action: 'on', cadence: 'weekly', channelId: '1500000001', timeZone: 'Asia/Tokyo' },
    });
    expect(parseDigestRequest(['daily'])).toEqual({
      ok: true,
      value: { action: 'on', cadence: 'daily', channelId: null, timeZone: 'UTC' },
    });
    expect(parseDigestRequest(['off', '1500000001'])).toEqual({
      ok: true,
      value: { action: 'off', channelId: '1500000001' },
    });
  });

  it.each([
    [['hourly'], 'is not a digest: daily, weekly, or off'],
    [['daily', 'Mars/Olympus'], '“Mars/Olympus” is not a channel id or a time zone'],
    [['daily', '1', '2'], '“2” is not a channel id'],
    [['off', 'Europe/Berlin'], '“Europe/Berlin” is not a channel id, or is given twice'],
  ])('refuses %j', (list, problem) => {
    const parsed = parseDigestRequest(list);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problem).toContain(problem);
  });
});
