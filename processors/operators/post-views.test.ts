import { describe, expect, it } from 'vitest';
import type { PostViewsConfig } from './config.ts';
import {
  advanceProgress,
  createPostViewsChannel,
  createPostViewsPost,
  observePostViews,
  postViewsModel,
  type PostViewsChannel,
  type PostViewsScore,
} from './post-views.ts';
import type { AlarmTransition } from './anomaly.ts';

const M = 60_000;
const H = 60 * M;
const ages = [H, 6 * H];
const cfg: PostViewsConfig = {
  agesMs: ages,
  alpha: 0.2,
  zOpen: 3.5,
  zClose: 2.5,
  warmup: 5,
  robust: true,
  robustK: 3,
  minSd: { absolute: 0.1, relative: 0 },
  directions: ['spike', 'drop'],
  maxSpanFactor: 1,
};
const det = postViewsModel(cfg, { warning: 5, critical: 7 });

describe('views at age: interpolation', () => {
  it('interpolates linearly between the snapshots around the age, from 0 views at the post date', () => {
    let p = createPostViewsPost().progress;
    let r = advanceProgress(p, 40 * M, 400, ages, 1);
    expect(r.reached).toEqual([]);
    p = r.progress;
    r = advanceProgress(p, 80 * M, 800, ages, 1);
    expect(r.reached).toEqual([{ index: 0, views: 600 }]);
    expect(r.progress.next).toBe(1);
  });

  it('skips an age whose surrounding snapshots are further apart than maxSpanFactor · age', () => {
    const r = advanceProgress(createPostViewsPost().progress, 3 * H, 3000, ages, 1);
    expect(r.reached).toEqual([]);
    expect(r.progress.next).toBe(1); // 1h is gone for good; 6h can still be read
    expect(advanceProgress(r.progress, 7 * H, 7000, ages, 1).reached).toEqual([{ index: 1, views: 6000 }]);
  });

  it('ignores snapshots older than the last one read', () => {
    const r = advanceProgress({ lastAge: 2 * H, lastViews: 100, next: 1 }, H, 50, ages, 1);
    expect(r.reached).toEqual([]);
    expect(r.progress.lastAge).toBe(2 * H);
  });
});

/** Feeds `n` posts whose views at 1h and 6h are `at1h(i)` and 6× that; returns the last post's scores. */
function feedPosts(
  n: number,
  at1h: (i: number) => number,
): { channel: PostViewsChannel; scores: PostViewsScore[][]; ended: (AlarmTransition | null)[] } {
  let channel = createPostViewsChannel(cfg);
  const scores: PostViewsScore[][] = [];
  const ended: (AlarmTransition | null)[] = [];
  for (let i = 0; i < n; i++) {
    let post = createPostViewsPost();
    const postDate = i * 24 * H;
    const all: PostViewsScore[] = [];
    let end: AlarmTransition | null = null;
    for (const [age, views] of [
      [50 * M, at1h(i) * (50 / 60)],
      [70 * M, at1h(i) * (70 / 60)],
      [5 * H, at1h(i) * 5],
      [7 * H, at1h(i) * 7],
    ] as const) {
      const r = observePostViews(channel, post, { ageMs: age, views, postDate }, det, cfg);
      channel = r.channel;
      post = r.post;
      all.push(...r.scored);
      end ??= r.ended;
    }
    scores.push(all);
    ended.push(end);
  }
  return { channel, scores, ended };
}

describe('views at age: scoring', () => {
  const usual = (i: number) => 1000 * (1 + 0.05 * Math.sin(i));

  it('learns the channel’s usual views per age across posts', () => {
    const { channel, scores } = feedPosts(12, usual);
    expect(channel.ages.map((a) => a.n)).toEqual([12, 12]);
    const last = scores[11];
    expect(last.map((s) => s.ageMs)).toEqual([H, 6 * H]);
    expect(last[0].score.expected).toBeGreaterThan(900);
    expect(last[1].score.expected).toBeGreaterThan(5400);
    expect(last.every((s) => s.transitions.length === 0)).toBe(true);
  });

  it('opens a spike for a viral post, keyed by the post date + age, and ends it after the last age', () => {
    const { scores, ended } = feedPosts(12, (i) => (i === 11 ? 10 * usual(i) : usual(i)));
    const viral = scores[11];
    expect(viral[0].transitions[0]).toMatchObject({ state: 'opened', direction: 'spike', openedAt: 11 * 24 * H + H });
    expect(viral[1].transitions[0]?.state).toBe('updated');
    expect(ended[11]).toMatchObject({ state: 'resolved', revision: 3, openedAt: 11 * 24 * H + H });
  });

  it('opens a drop for a flopped post', () => {
    const { scores } = feedPosts(12, (i) => (i === 11 ? usual(i) / 10 : usual(i)));
    expect(scores[11][0].transitions[0]).toMatchObject({ state: 'opened', direction: 'drop' });
  });

  it('waits for warm-up posts before alarming', () => {
    const { scores } = feedPosts(4, (i) => (i === 3 ? 100 * usual(i) : usual(i)));
    expect(scores[3].every((s) => s.transitions.length === 0 && !s.score.warm)).toBe(true);
  });
});
