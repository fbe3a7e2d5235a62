import { describe, expect, it } from 'vitest';
import type { Overview } from '../../../read/index.ts';
import { overviewKpis, relativeChange } from './kpis.ts';
import { sparklinePath } from './sparkline.ts';

const figures = (over: Partial<Overview['current']>): Overview['current'] => ({
  subscribers: 1000,
  subscribers_start: 950,
  subscribers_change: 50,
  subscribers_gained: 70,
  subscribers_lost: 20,
  views: 20_000,
  posts: 10,
  post_views: 8000,
  post_forwards: 40,
  post_reactions: 100,
  post_replies: 10,
  reach_per_post: 800,
  err: 0.8,
  engagement_rate: 0.01875,
  ...over,
});

describe('overviewKpis', () => {
  it('gives the six figures with their change against the previous period', () => {
    const kpis = overviewKpis({
      period: { from: 2, to: 3 },
      previous_period: { from: 1, to: 2 },
      current: figures({}),
      previous: figures({ subscribers: 800, subscribers_change: 100, views: 20_000, reach_per_post: null }),
    });
    expect(kpis.map((k) => k.label)).toEqual([
      'Subscribers',
      'Subscriber change',
      'Views',
      'Reach per post',
      'ERR (reach / subscribers)',
      'Engagement rate',
    ]);
    expect(kpis[0]).toMatchObject({ change: 0.25, trend: 'up' });
    expect(kpis[1]).toMatchObject({ change: -0.5, trend: 'down' });
    expect(kpis[2]).toMatchObject({ change: 0, trend: 'flat' });
    // Nothing to compare with: no percentage and no arrow.
    expect(kpis[3]).toMatchObject({ change: null, trend: null });
  });
});

describe('relativeChange', () => {
  it('is null when a side is unknown or the previous is zero, and measured against |previous|', () => {
    expect(relativeChange(null, 5)).toBeNull();
    expect(relativeChange(5, 0)).toBeNull();
    expect(relativeChange(-5, -10)).toBe(0.5);
  });
});

describe('sparklinePath', () => {
  it('scales values into the box, higher up, with a gap at each unknown value', () => {
    expect(sparklinePath([1, 2, null, 3], 90, 24)).toBe('M0,24L30,12M90,0');
  });

  it('draws a flat series across the middle and nothing for fewer than two values', () => {
    expect(sparklinePath([5, 5], 10, 20)).toBe('M0,10L10,10');
    expect(sparklinePath([5, null], 10, 20)).toBe('');
  });
});
