import { describe, expect, it } from 'vitest';
import type { QuietConfig } from './config.ts';
import {
  checkQuiet,
  createQuietState,
  expectedPosts,
  notePost,
  quietLambda,
  quietThreshold,
  type QuietState,
  type QuietTransition,
} from './quiet.ts';

const M = 60_000;
const H = 60 * M;
const D = 24 * H;
const T0 = Date.UTC(2024, 2, 1);
const cfg: QuietConfig = {
  window: '1h',
  alpha: 0.1,
  warmupDays: 7,
  falseAlarmsPerDay: 0.002,
  minExpectedPosts: 6,
  minGapMs: 6 * H,
  burstMs: M,
  severity: { warning: 1.5, critical: 3 },
};

interface Run {
  state: QuietState;
  transitions: QuietTransition[];
}

/** Feeds publications and hourly checks in time order, from T0 for `hours` hours. */
function run(posts: number[], hours: number, state: QuietState = createQuietState(), from = T0): Run {
  const sorted = [...posts].sort((a, b) => a - b);
  const transitions: QuietTransition[] = [];
  let i = 0;
  for (let h = 0; h < hours; h++) {
    const start = from + h * H;
    while (i < sorted.length && sorted[i] < start + H) {
      const r = notePost(state, sorted[i++], H, cfg);
      state = r.state;
      if (r.resolved) transitions.push(r.resolved);
    }
    const r = checkQuiet(state, { start, end: start + H, complete: true }, cfg);
    state = r.state;
    if (r.transition) transitions.push(r.transition);
  }
  return { state, transitions };
}

/** `perHour` posts spread evenly in each UTC hour in [fromHour, toHour) of every day, for `days` days. */
function daytime(days: number, fromHour: number, toHour: number, perHour = 2): number[] {
  const out: number[] = [];
  for (let d = 0; d < days; d++) {
    for (let h = fromHour; h < toHour; h++)
      for (let k = 0; k < perHour; k++) out.push(T0 + d * D + h * H + Math.floor(((k + 0.5) * H) / perHour));
  }
  return out;
}

/** A seeded Poisson process: `perDay` posts a day at uniformly random times. */
function poissonPosts(days: number, perDay: number, seed: number): number[] {
  let a = seed >>> 0;
  const rnd = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out: number[] = [];
  let t = T0;
  for (;;) {
    t += Math.max(M * 2, Math.round((-Math.log(1 - rnd()) / perDay) * D));
    if (t >= T0 + days * D) return out;
    out.push(t);
  }
}

describe('quiet detector', () => {
  it('learns the usual posts per hour of day and needs warmupDays of every hour before alarming', () => {
    const early = run(daytime(3, 8, 22), 4 * 24);
    expect(quietThreshold(early.state, T0, H, cfg)).toBeNull();
    expect(early.transitions).toEqual([]);
    const warm = run(daytime(8, 8, 22), 8 * 24);
    expect(warm.state.rates[12]).toBeCloseTo(2, 6);
    expect(warm.state.rates[3]).toBe(0);
    // 28 posts a day: λ* = ln(28 / 0.002) ≈ 9.5 expected posts.
    expect(quietThreshold(warm.state, T0, H, cfg)?.lambda).toBeCloseTo(Math.log(28 / 0.002), 6);
  });

  it('does not call the night quiet: a daytime channel’s nightly pause holds no expected posts', () => {
    // 2 posts an hour from 08:00 to 22:00 UTC for three weeks: a 10-hour silence every night.
    const r = run(daytime(21, 8, 22), 21 * 24);
    expect(r.transitions).toEqual([]);
  });

  it('does not alarm on the normal gaps of a slow Poisson poster', () => {
    for (const seed of [1, 2, 3]) {
      const r = run(poissonPosts(28, 1.5, seed), 28 * 24);
      expect(r.transitions).toEqual([]);
    }
  });

  it('fires once the silence held λ* usual posts, during the channel’s day, and resolves at the next post', () => {
    const posts = daytime(10, 8, 22).filter((t) => t < T0 + 9 * D + 8 * H);
    const resumed = T0 + 10 * D + 10 * H;
    const r = run([...posts, resumed], 10 * 24 + 11);
    const last = posts[posts.length - 1]; // day 8, 21:45
    const opened = r.transitions.find((t) => t.state === 'opened')!;
    // λ* ≈ 9.5 at 2 posts/hour: crossed in the 5th hour of day 9 (the night counts for nothing).
    expect(opened.openedAt).toBe(T0 + 9 * D + 13 * H);
    expect(opened.expectedPosts).toBeGreaterThanOrEqual(Math.log(28 / 0.002));
    expect(opened.gapMs).toBe(opened.openedAt - last);
    expect(opened.thresholdMs).toBeGreaterThan(opened.gapMs - H);
    expect(opened.thresholdMs).toBeLessThanOrEqual(opened.gapMs);
    // The usual gap is the mean gap at the usual rates (the silence's first hours, before it opened, were learned).
    expect(opened.usualGapMs / (D / 28)).toBeCloseTo(1, 1);
    const states = r.transitions.map((t) => `${t.state}:${t.severity}`);
    expect(states).toEqual(['opened:info', 'updated:warning', 'updated:critical', 'resolved:critical']);
    const resolved = r.transitions[r.transitions.length - 1];
    expect(resolved).toMatchObject({ openedAt: opened.openedAt, revision: 4, gapMs: resumed - last });
  });

  it('never fires before minGapMs, however many posts were expected', () => {
    // 10 posts an hour around the clock: λ* ≈ 11.7 is reached in 70 minutes, the floor holds it to 6 hours.
    const posts = daytime(9, 0, 24, 10).filter((t) => t < T0 + 8 * D + 12 * H);
    const r = run(posts, 9 * 24);
    const opened = r.transitions.find((t) => t.state === 'opened')!;
    expect(opened.openedAt - posts[posts.length - 1]).toBeGreaterThanOrEqual(cfg.minGapMs);
    expect(opened.openedAt).toBe(T0 + 8 * D + 18 * H);
  });

  it('does not learn an open silence as the channel’s new habit', () => {
    const posts = daytime(10, 8, 22).filter((t) => t < T0 + 9 * D);
    const opened = run(posts, 9 * 24 + 14);
    expect(opened.transitions.map((t) => t.state)).toEqual(['opened']);
    const later = run([], 48, opened.state, T0 + 9 * D + 14 * H);
    expect(later.state.open).not.toBeNull();
    expect(later.state.rates).toEqual(opened.state.rates);
  });

  it('treats posts within burstMs as one publication and ignores re-sent dates', () => {
    let s = createQuietState();
    for (const d of [T0, T0 + 10_000, T0 + 20_000, T0, T0 + 4 * H]) s = notePost(s, d, H, cfg).state;
    expect(s.recent).toEqual([T0, T0 + 4 * H]);
    expect(s.last).toBe(T0 + 4 * H);
  });

  it('takes an older post as history without resolving, and a late newest post’s silence from its date', () => {
    const posts = daytime(10, 8, 22).filter((t) => t < T0 + 9 * D);
    const quiet = run(posts, 9 * 24 + 24);
    expect(quiet.state.open).not.toBeNull();
    const back = notePost(quiet.state, T0 + 2 * D, H, cfg);
    expect(back.resolved).toBeNull();
    expect(back.state.last).toBe(quiet.state.last);
    // A post dated inside an hour already checked: λ restarts from its date, not from zero.
    const late = T0 + 9 * D + 23 * H + 30 * M;
    const noted = notePost(quiet.state, late, H, cfg);
    expect(noted.resolved?.state).toBe('resolved');
    expect(noted.state.expected).toBeCloseTo(expectedPosts(quiet.state, late, T0 + 10 * D, H), 9);
  });

  it('sets λ* from the channel’s volume, never below minExpectedPosts', () => {
    expect(quietLambda(30, cfg)).toBeCloseTo(Math.log(15_000), 9);
    expect(quietLambda(1, cfg)).toBeCloseTo(Math.log(500), 9);
    expect(quietLambda(0.1, cfg)).toBe(6);
    expect(quietLambda(0, cfg)).toBe(6);
  });
});
