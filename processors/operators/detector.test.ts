import { describe, expect, it } from 'vitest';
import {
  applyTransform,
  invertTransform,
  SeriesDetector,
  type SeriesDetectorConfig,
  type SeriesStep,
} from './detector.ts';

const base: SeriesDetectorConfig = {
  alpha: 0.1,
  zOpen: 4,
  zClose: 2,
  warmup: 10,
  cooldown: 3,
  robust: true,
  robustK: 3,
  minSd: { absolute: 0, relative: 0.01 },
  transform: 'none',
  seasonality: 0,
  directions: ['spike', 'drop'],
  severity: { warning: 6, critical: 9 },
};

/** A deterministic noisy series around `level`. */
const noise = (i: number) => Math.sin(i * 12.9898) * 3;

function run(det: SeriesDetector, values: number[]): SeriesStep[] {
  let state = det.init();
  return values.map((v, i) => {
    const s = det.step(state, v, { slot: det.slotOf(i), at: i });
    state = s.state;
    return s;
  });
}

describe('SeriesDetector', () => {
  it('opens on a spike, resolves after it, and scores each value against the values before it only', () => {
    const values = Array.from({ length: 60 }, (_, i) => 100 + noise(i));
    values[40] = 160;
    const steps = run(new SeriesDetector(base), values);
    const transitions = steps.flatMap((s, i) =>
      s.transition ? [[i, s.transition.state, s.transition.direction]] : [],
    );
    expect(transitions).toEqual([
      [40, 'opened', 'spike'],
      [41, 'resolved', 'spike'],
    ]);
    expect(steps[40].score.z).toBeGreaterThan(10);
    // Strictly online: the score of a value does not change when later values change.
    const changed = run(new SeriesDetector(base), [...values.slice(0, 41), ...values.slice(41).map((v) => v * 3)]);
    expect(changed[40].score).toEqual(steps[40].score);
  });

  it('does not alarm during warm-up', () => {
    const values = [100, 101, 99, 500, 100];
    expect(run(new SeriesDetector(base), values).every((s) => s.transition === null && !s.score.warm)).toBe(true);
  });

  it('detects drops as well as spikes', () => {
    const values = Array.from({ length: 40 }, (_, i) => 100 + noise(i));
    values[30] = 40;
    const opened = run(new SeriesDetector(base), values).find((s) => s.transition?.state === 'opened');
    expect(opened?.transition?.direction).toBe('drop');
  });

  it('keeps a separate state per seasonal slot, so a daily rhythm is not an anomaly', () => {
    // Hourly values: 1000 at 18-21h, 100 otherwise, for 3 weeks.
    const values = Array.from(
      { length: 24 * 21 },
      (_, i) => (i % 24 >= 18 && i % 24 < 22 ? 1000 : 100) * (1 + noise(i) / 100),
    );
    const seasonal = run(new SeriesDetector({ ...base, seasonality: 24, warmup: 5, alpha: 0.2 }), values);
    const flat = run(new SeriesDetector({ ...base, warmup: 5, alpha: 0.2 }), values);
    expect(seasonal.filter((s) => s.transition?.state === 'opened')).toHaveLength(0);
    expect(flat.filter((s) => s.transition?.state === 'opened').length).toBeGreaterThan(0);
    expect(seasonal[24 * 20 + 19].score.expected).toBeCloseTo(1000, -1);
  });

  it('scores counts in log space but reports expectations and bands in the metric’s units', () => {
    const det = new SeriesDetector({ ...base, transform: 'log1p', warmup: 5 });
    const steps = run(
      det,
      Array.from({ length: 30 }, (_, i) => 1000 * (1 + noise(i) / 50)),
    );
    const last = steps[steps.length - 1].score;
    expect(last.expected).toBeGreaterThan(900);
    expect(last.expected).toBeLessThan(1100);
    expect(last.bandLow).toBeLessThan(last.expected);
    expect(last.bandHigh).toBeGreaterThan(last.expected);
    expect(last.sdValue).toBeGreaterThan(0);
  });

  it('uses a signed log1p that round-trips', () => {
    for (const v of [-1000, -1, 0, 0.5, 7, 1e6])
      expect(invertTransform('log1p', applyTransform('log1p', v))).toBeCloseTo(v, 6);
    expect(applyTransform('log1p', -9)).toBeCloseTo(-Math.log(10), 12);
  });

  it('keeps one anomaly open through a lasting level shift and lets the state adapt', () => {
    const values = Array.from({ length: 120 }, (_, i) => (i < 50 ? 100 : 200) + noise(i));
    const steps = run(new SeriesDetector(base), values);
    const states = steps.flatMap((s) => (s.transition ? [s.transition.state] : []));
    expect(states.filter((s) => s === 'opened')).toHaveLength(1);
    expect(states[states.length - 1]).toBe('resolved');
    expect(Math.abs(steps[119].score.z)).toBeLessThan(2);
  });

  it('starts missing slots empty when seasonality grew since the state was made', () => {
    const small = new SeriesDetector(base).init();
    const det = new SeriesDetector({ ...base, seasonality: 4 });
    const s = det.step(small, 5, { slot: 3, at: 0 });
    expect(s.state.slots).toHaveLength(4);
    expect(s.state.slots[3].n).toBe(1);
  });
});

describe('SeriesDetector with a pooled scale', () => {
  const pooled: SeriesDetectorConfig = {
    ...base,
    seasonality: 24,
    scale: 'pooled',
    warmup: 5,
    alpha: 0.15,
    transform: 'log1p',
    minSd: { absolute: 0, relative: 0 },
  };
  /** Hourly values with a daily rhythm (×10 in the evening) and ±3 % noise. */
  const rhythm = (i: number) => (i % 24 >= 18 && i % 24 < 22 ? 1000 : 100) * (1 + noise(i) / 100);

  it('keeps a mean per slot but one spread for all slots, scored against the slot’s mean', () => {
    const values = Array.from({ length: 24 * 14 }, (_, i) => rhythm(i));
    const steps = run(new SeriesDetector(pooled), values);
    expect(steps.filter((s) => s.transition?.state === 'opened')).toHaveLength(0);
    const evening = steps[24 * 13 + 19].score;
    const night = steps[24 * 13 + 3].score;
    expect(evening.expected).toBeCloseTo(1000, -1);
    expect(night.expected).toBeCloseTo(100, 0);
    // One spread: the same sd (in the detector's space) at every hour.
    expect(Math.abs(evening.sd - night.sd)).toBeLessThan(1e-3);
    // A ×3 value in one hour stands out, wherever it falls in the day.
    const spiked = values.slice();
    spiked[24 * 12 + 3] *= 3;
    const found = run(new SeriesDetector(pooled), spiked).find((s) => s.transition?.state === 'opened');
    expect(found?.transition?.openedAt).toBe(24 * 12 + 3);
  });

  it('is warm only once the shared scale has a residual against a warm mean in every slot', () => {
    const steps = run(
      new SeriesDetector(pooled),
      Array.from({ length: 24 * 8 }, (_, i) => rhythm(i)),
    );
    const firstWarm = steps.findIndex((s) => s.score.warm);
    // Slots are warm after 5 days; the scale then needs one more day of residuals.
    expect(firstWarm).toBe(24 * 6);
    expect(steps[firstWarm].state.pooled?.n).toBe(25);
  });

  it('does not let the errors of young slot means reach the shared scale', () => {
    // Wild values while the slots are young (a channel starting up) feed only the slot means.
    const values = Array.from({ length: 24 * 5 }, (_, i) => (i % 7 === 0 ? 1 : 1e5) * (1 + noise(i) / 100));
    const steps = run(new SeriesDetector(pooled), values);
    expect(steps[steps.length - 1].state.pooled).toEqual({ n: 0, meanSquare: 0 });
  });
});
