import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  allowedStaleness,
  chunk,
  DEFAULT_FRESHNESS,
  FLAT_STRETCH,
  freshnessOf,
  maxPollAge,
  newChannelCurve,
  newPolledPost,
  pollBatch,
  recordRead,
  targetStaleness,
  type PolledPost,
} from './schedule.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../common/index.ts';

const NOW = 100 * DAY_MS;

/** A post of age `ageMs` last read `sinceMs` ago with `views`, and its growth when known. */
function post(id: number, ageMs: number, sinceMs: number | null, growth: number | null = null): PolledPost {
  return {
    ...newPolledPost(id, NOW - ageMs, sinceMs === null ? undefined : { at: NOW - sinceMs, views: 1000 }),
    growth,
  };
}

describe('freshness targets', () => {
  it('ask for fresh counters of young posts, looser ones as posts age, and nothing past a week', () => {
    expect(targetStaleness(10 * MINUTE_MS)).toBe(15 * MINUTE_MS);
    expect(targetStaleness(12 * HOUR_MS)).toBe(HOUR_MS);
    expect(targetStaleness(6 * DAY_MS)).toBe(6 * HOUR_MS);
    expect(targetStaleness(7 * DAY_MS)).toBeNull();
    expect(maxPollAge()).toBe(7 * DAY_MS);
  });

  it('never allow an older post a tighter target than a younger one', () => {
    fc.assert(
      fc.property(fc.nat(7 * DAY_MS - 1), fc.nat(7 * DAY_MS - 1), (a, b) => {
        const [young, old] = a <= b ? [a, b] : [b, a];
        expect(targetStaleness(old)!).toBeGreaterThanOrEqual(targetStaleness(young)!);
      }),
    );
  });
});

describe('value-driven allowance', () => {
  const curve = newChannelCurve();

  it('keeps a moving post to its target and lets a flat one go up to 4 × its target', () => {
    const moving = post(1, 12 * HOUR_MS, 0, 0.05); // 5 %/h: 5 % within its 1 h target
    const flat = post(2, 12 * HOUR_MS, 0, 0); // no growth at all
    const slowing = post(3, 12 * HOUR_MS, 0, 0.005); // 0.5 % within the target: twice the target
    expect(allowedStaleness(moving, curve, NOW, DEFAULT_FRESHNESS)).toBe(HOUR_MS);
    expect(allowedStaleness(flat, curve, NOW, DEFAULT_FRESHNESS)).toBe(FLAT_STRETCH * HOUR_MS);
    expect(allowedStaleness(slowing, curve, NOW, DEFAULT_FRESHNESS)).toBeCloseTo(2 * HOUR_MS, 6);
  });

  it('borrows the channel curve for a post read only once', () => {
    const learnt = newChannelCurve();
    // Another post of the channel grew 1,000 → 1,001 over its 4th–5th hour: 0.1 %/h at that age.
    const older = newPolledPost(9, NOW - 5 * HOUR_MS, { at: NOW - HOUR_MS, views: 1000 });
    recordRead(older, learnt, NOW, 1001);
    expect(older.growth).toBeCloseTo(1 / 1001, 9);
    const once = post(4, 5 * HOUR_MS, 0);
    expect(allowedStaleness(once, newChannelCurve(), NOW, DEFAULT_FRESHNESS)).toBe(HOUR_MS);
    expect(allowedStaleness(once, learnt, NOW, DEFAULT_FRESHNESS)).toBe(FLAT_STRETCH * HOUR_MS);
  });

  it('learns growth from consecutive reads; a recount downwards is no growth', () => {
    const p = newPolledPost(1, NOW - 2 * HOUR_MS, { at: NOW - HOUR_MS, views: 900 });
    recordRead(p, newChannelCurve(), NOW, 1000);
    expect(p.growth).toBeCloseTo(0.1, 9);
    recordRead(p, newChannelCurve(), NOW + HOUR_MS, 990);
    expect(p.growth).toBe(0);
    expect(p).toMatchObject({ lastPolledMs: NOW + HOUR_MS, views: 990, pushed: false });
  });
});

describe('pollBatch', () => {
  const curve = newChannelCurve();

  it('reads nothing while no post would outlive its allowance before the next pass', () => {
    const posts = [post(1, 30 * MINUTE_MS, 10 * MINUTE_MS), post(2, 2 * DAY_MS, 3 * HOUR_MS)];
    expect(pollBatch(posts, curve, NOW, DEFAULT_FRESHNESS, MINUTE_MS)).toEqual([]);
    // A minute later the young one would be 15 min stale at the next pass: due now.
    expect(pollBatch(posts, curve, NOW + 4 * MINUTE_MS, DEFAULT_FRESHNESS, MINUTE_MS)).toEqual([1, 2]);
  });

  it('puts never-read and pushed posts first, then the most due, fills the call, and leaves out aged-out posts', () => {
    const pushed = { ...post(5, 3 * DAY_MS, 0), pushed: true };
    const posts = [
      post(1, 30 * MINUTE_MS, 16 * MINUTE_MS), // due: 16/15
      post(2, 2 * DAY_MS, HOUR_MS), // not due: 1/6
      post(3, 20 * MINUTE_MS, null), // never read
      post(4, 12 * HOUR_MS, 2 * HOUR_MS), // due: 2/1
      pushed,
      post(6, 8 * DAY_MS, null), // too old to poll
    ];
    const batch = pollBatch(posts, curve, NOW);
    expect(batch.slice(0, 2).sort()).toEqual([3, 5]);
    expect(batch.slice(2)).toEqual([4, 1, 2]);
  });

  it('fills every call to 100 ids when more than 100 posts are due', () => {
    const posts = Array.from({ length: 250 }, (_, i) => post(i + 1, 3 * DAY_MS, i < 120 ? 7 * HOUR_MS : HOUR_MS));
    const batch = pollBatch(posts, curve, NOW);
    expect(batch).toHaveLength(200);
    expect(new Set(batch.slice(0, 120))).toEqual(new Set(Array.from({ length: 120 }, (_, i) => i + 1)));
  });

  it('splits ids into requests of at most 100', () => {
    const ids = Array.from({ length: 250 }, (_, i) => i + 1);
    expect(chunk(ids, 100).map((c) => c.length)).toEqual([100, 100, 50]);
    expect(chunk([], 100)).toEqual([]);
  });
});

describe('freshnessOf', () => {
  it('counts posts read within their allowance and the worst overrun', () => {
    const curve = newChannelCurve();
    const f = freshnessOf(
      [post(1, 30 * MINUTE_MS, 10 * MINUTE_MS), post(2, 12 * HOUR_MS, 3 * HOUR_MS), post(3, 8 * DAY_MS, null)],
      curve,
      NOW,
    );
    expect(f).toEqual({ posts: 2, withinTarget: 1, worst: 3 });
    expect(freshnessOf([post(4, 10 * MINUTE_MS, null)], curve, NOW).worst).toBe(Number.POSITIVE_INFINITY);
  });
});
