import { describe, expect, it } from 'vitest';
import type { QuietConfig } from '../config.ts';
import { checkQuiet, createQuietState, notePost, quietThreshold, type QuietState } from './quiet.ts';

const H = 3_600_000;
const T0 = Date.UTC(2024, 2, 1);
const cfg: QuietConfig = {
  window: '1h',
  k: 3,
  minGapMs: 6 * H,
  minPosts: 5,
  history: 10,
  quantile: 0.9,
  burstMs: 60_000,
  severity: { warning: 1.5, critical: 3 },
};

function withPosts(dates: number[]): QuietState {
  return dates.reduce((s, d) => notePost(s, d, cfg).state, createQuietState());
}

describe('quiet detector', () => {
  it('needs minPosts publications before it has a usual gap', () => {
    expect(quietThreshold(withPosts([0, 1, 2, 3].map((i) => T0 + i * 4 * H)), cfg)).toBeNull();
    expect(checkQuiet(withPosts([T0]), T0 + 1000 * H, cfg).transition).toBeNull();
  });

  it('fires when no post came for k usual gaps', () => {
    const s = withPosts([0, 1, 2, 3, 4, 5].map((i) => T0 + i * 4 * H)); // every 4h: threshold 12h
    const last = T0 + 20 * H;
    expect(quietThreshold(s, cfg)).toEqual({ usualGapMs: 4 * H, thresholdMs: 12 * H });
    expect(checkQuiet(s, last + 11 * H, cfg).transition).toBeNull();
    const fired = checkQuiet(s, last + 12 * H, cfg);
    expect(fired.transition).toMatchObject({ state: 'opened', revision: 1, openedAt: last + 12 * H, severity: 'info', gapMs: 12 * H });
  });

  it('never fires before minGapMs, however frequent the posts', () => {
    const s = withPosts([0, 1, 2, 3, 4, 5].map((i) => T0 + i * H)); // hourly: 3h < 6h floor
    expect(quietThreshold(s, cfg)?.thresholdMs).toBe(6 * H);
  });

  it('raises the severity as the silence grows, then resolves at the next post', () => {
    let s = withPosts([0, 1, 2, 3, 4, 5].map((i) => T0 + i * 4 * H));
    const last = T0 + 20 * H;
    const states: string[] = [];
    for (let h = 12; h <= 40; h++) {
      const r = checkQuiet(s, last + h * H, cfg);
      s = r.state;
      if (r.transition) states.push(`${r.transition.state}:${r.transition.severity}`);
    }
    expect(states).toEqual(['opened:info', 'updated:warning', 'updated:critical']);
    const resolved = notePost(s, last + 41 * H, cfg);
    expect(resolved.resolved).toMatchObject({ state: 'resolved', revision: 4, openedAt: last + 12 * H, gapMs: 41 * H });
    expect(resolved.state.open).toBeNull();
  });

  it('treats posts within burstMs as one publication and ignores re-sent dates', () => {
    const s = withPosts([T0, T0 + 10_000, T0 + 20_000, T0, T0 + 4 * H]);
    expect(s.dates).toEqual([T0, T0 + 4 * H]);
  });

  it('fills in history from backfilled (older) posts without resolving', () => {
    let s = withPosts([0, 1, 2, 3, 4, 5].map((i) => T0 + 100 * H + i * 4 * H));
    s = checkQuiet(s, T0 + 200 * H, cfg).state;
    const back = notePost(s, T0 + 50 * H, cfg);
    expect(back.resolved).toBeNull();
    expect(back.state.dates[0]).toBe(T0 + 50 * H);
  });

  it('keeps only the newest history + 1 publications', () => {
    const s = withPosts(Array.from({ length: 30 }, (_, i) => T0 + i * H));
    expect(s.dates).toHaveLength(cfg.history + 1);
    expect(s.dates[s.dates.length - 1]).toBe(T0 + 29 * H);
  });
});
