import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { chunk, DEFAULT_POLL_TIERS, duePosts, maxPollAge, pollBatch, pollInterval, pollsOverLife } from './schedule.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

describe('the counter poll schedule', () => {
  it('polls fresh posts often, old ones rarely, and stops after a week', () => {
    expect(pollInterval(10 * MIN)).toBe(5 * MIN);
    expect(pollInterval(2 * HOUR)).toBe(15 * MIN);
    expect(pollInterval(12 * HOUR)).toBe(30 * MIN);
    expect(pollInterval(2 * DAY)).toBe(2 * HOUR);
    expect(pollInterval(6 * DAY)).toBe(6 * HOUR);
    expect(pollInterval(7 * DAY)).toBeNull();
    expect(maxPollAge()).toBe(7 * DAY);
  });

  it('never polls an older post more often than a younger one', () => {
    fc.assert(
      fc.property(fc.nat(7 * DAY - 1), fc.nat(7 * DAY - 1), (a, b) => {
        const [young, old] = a <= b ? [a, b] : [b, a];
        expect(pollInterval(old)!).toBeGreaterThanOrEqual(pollInterval(young)!);
      }),
    );
  });

  it('puts never-polled posts first, then the most overdue, and leaves out what is not due', () => {
    const now = 10 * DAY;
    const due = duePosts(
      [
        { postId: 1, dateMs: now - 30 * MIN, lastPolledMs: now - 6 * MIN }, // due 1 min ago
        { postId: 2, dateMs: now - 30 * MIN, lastPolledMs: now - 2 * MIN }, // not due
        { postId: 3, dateMs: now - 2 * DAY, lastPolledMs: null }, // never polled
        { postId: 4, dateMs: now - 3 * HOUR, lastPolledMs: now - 40 * MIN }, // due 25 min ago
        { postId: 5, dateMs: now - 8 * DAY, lastPolledMs: null }, // too old
      ],
      now,
    );
    expect(due).toEqual([3, 4, 1]);
  });

  it('reads nearly-due posts along with due ones, and nothing while none is due', () => {
    const now = 10 * DAY;
    const posts = [
      { postId: 1, dateMs: now - 12 * HOUR, lastPolledMs: now - 20 * MIN }, // 30-min tier, due in 10 min
      { postId: 2, dateMs: now - 2 * DAY, lastPolledMs: now - 10 * MIN }, // 2-h tier, due in 110 min
    ];
    expect(pollBatch(posts, now)).toEqual([]);
    const withDue = [...posts, { postId: 3, dateMs: now - 30 * MIN, lastPolledMs: now - 5 * MIN }];
    expect(pollBatch(withDue, now)).toEqual([3, 1]);
  });

  it('costs 108 polls over a post’s life with the default tiers', () => {
    // 12 + 20 + 36 + 24 + 16 polls from the five tiers.
    expect(pollsOverLife(DEFAULT_POLL_TIERS)).toBe(108);
  });

  it('splits ids into requests of at most 100', () => {
    const ids = Array.from({ length: 250 }, (_, i) => i + 1);
    expect(chunk(ids, 100).map((c) => c.length)).toEqual([100, 100, 50]);
    expect(chunk([], 100)).toEqual([]);
  });
});
