import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  chunk,
  DEFAULT_POLL_TIERS,
  duePosts,
  lastPollBy,
  maxPollAge,
  nextPollAt,
  pollBatch,
  pollInterval,
  pollsOverLife,
} from './schedule.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../common/index.ts';

describe('the counter poll schedule', () => {
  it('polls fresh posts often, old ones rarely, and stops after a week', () => {
    expect(pollInterval(10 * MINUTE_MS)).toBe(5 * MINUTE_MS);
    expect(pollInterval(2 * HOUR_MS)).toBe(15 * MINUTE_MS);
    expect(pollInterval(12 * HOUR_MS)).toBe(30 * MINUTE_MS);
    expect(pollInterval(2 * DAY_MS)).toBe(2 * HOUR_MS);
    expect(pollInterval(6 * DAY_MS)).toBe(6 * HOUR_MS);
    expect(pollInterval(7 * DAY_MS)).toBeNull();
    expect(maxPollAge()).toBe(7 * DAY_MS);
  });

  it('never polls an older post more often than a younger one', () => {
    fc.assert(
      fc.property(fc.nat(7 * DAY_MS - 1), fc.nat(7 * DAY_MS - 1), (a, b) => {
        const [young, old] = a <= b ? [a, b] : [b, a];
        expect(pollInterval(old)!).toBeGreaterThanOrEqual(pollInterval(young)!);
      }),
    );
  });

  it('puts never-polled posts first, then the most overdue, and leaves out what is not due', () => {
    const now = 10 * DAY_MS;
    const due = duePosts(
      [
        { postId: 1, dateMs: now - 30 * MINUTE_MS, lastPolledMs: now - 6 * MINUTE_MS }, // due 1 min ago
        { postId: 2, dateMs: now - 30 * MINUTE_MS, lastPolledMs: now - 2 * MINUTE_MS }, // not due
        { postId: 3, dateMs: now - 2 * DAY_MS, lastPolledMs: null }, // never polled
        { postId: 4, dateMs: now - 3 * HOUR_MS, lastPolledMs: now - 40 * MINUTE_MS }, // due 25 min ago
        { postId: 5, dateMs: now - 8 * DAY_MS, lastPolledMs: null }, // too old
      ],
      now,
    );
    expect(due).toEqual([3, 4, 1]);
  });

  it('reads nearly-due posts along with due ones, and nothing while none is due', () => {
    const now = 10 * DAY_MS;
    const posts = [
      { postId: 1, dateMs: now - 12 * HOUR_MS, lastPolledMs: now - 20 * MINUTE_MS }, // 30-min tier, due in 10 min
      { postId: 2, dateMs: now - 2 * DAY_MS, lastPolledMs: now - 10 * MINUTE_MS }, // 2-h tier, due in 110 min
    ];
    expect(pollBatch(posts, now)).toEqual([]);
    const withDue = [...posts, { postId: 3, dateMs: now - 30 * MINUTE_MS, lastPolledMs: now - 5 * MINUTE_MS }];
    expect(pollBatch(withDue, now)).toEqual([3, 1]);
  });

  it('predicts exactly when duePosts makes a post due next (the rule the request bench replays)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 8 * DAY_MS }), (sincePost) => {
        const dateMs = 1_700_000_000_000;
        const last = dateMs + sincePost;
        const post = { postId: 1, dateMs, lastPolledMs: last };
        const next = nextPollAt(last, dateMs, DEFAULT_POLL_TIERS);
        if (next === null) {
          // Aged out: never due again.
          for (const t of [last + MINUTE_MS, last + DAY_MS, dateMs + maxPollAge()])
            expect(duePosts([post], t)).toEqual([]);
          return;
        }
        expect(duePosts([post], next)).toEqual([1]);
        expect(duePosts([post], next - 1)).toEqual([]);
      }),
    );
  });

  it('replays a post’s polls from its date: each poll at the time the rule makes it due', () => {
    const dateMs = 1_700_000_000_000;
    expect(lastPollBy(dateMs, dateMs + 4 * MINUTE_MS, DEFAULT_POLL_TIERS)).toBe(dateMs);
    expect(lastPollBy(dateMs, dateMs + 5 * MINUTE_MS, DEFAULT_POLL_TIERS)).toBe(dateMs + 5 * MINUTE_MS);
    // Every 5 minutes up to 55; at 60 the post is an hour old and waits 15 minutes from 55.
    expect(lastPollBy(dateMs, dateMs + HOUR_MS + MINUTE_MS, DEFAULT_POLL_TIERS)).toBe(dateMs + 55 * MINUTE_MS);
    expect(lastPollBy(dateMs, dateMs + 70 * MINUTE_MS, DEFAULT_POLL_TIERS)).toBe(dateMs + 70 * MINUTE_MS);
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
