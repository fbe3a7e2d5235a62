import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../common/index.ts';
import {
  applyTransform,
  invertTransform,
  scoreOf,
  SeriesDetector,
  type SeriesDetectorConfig,
  type SeriesStep,
} from './detector.ts';
import { genericSeriesConfig } from './score-series.ts';

/** The defaults of `tgpulse detect`, with a short cooldown. */
const base: SeriesDetectorConfig = { ...genericSeriesConfig, cooldown: 3 };

/** Gaussian noise around `level`, the same for a seed. */
function gaussian(n: number, level: number, sd: number, seed = 1): number[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => level + sd * rng.normal());
}

function run(det: SeriesDetector, values: readonly number[]): SeriesStep[] {
  const state = det.init();
  // Each step's score is a fresh object; the state is advanced in place.
  return values.map((v, i) => det.step(state, v, { index: i, at: i }));
}

const opened = (steps: SeriesStep[]) => steps.flatMap((s, i) => (s.transition?.state === 'opened' ? [i] : []));

describe('SeriesDetector', () => {
  it('opens on a spike as an outlier, resolves after it, and scores each value against the values before it only', () => {
    const values = gaussian(400, 100, 2);
    values[300] = 130;
    const steps = run(new SeriesDetector(base), values);
    expect(opened(steps)).toEqual([300]);
    expect(steps[300].transition).toMatchObject({ state: 'opened', direction: 'spike', reason: 'outlier' });
    expect(steps[301].transition?.state).toBe('resolved');
    expect(steps[300].score.z).toBeGreaterThan(10);
    // Strictly online: the score of a value does not change when later values change.
    const changed = run(new SeriesDetector(base), [...values.slice(0, 301), ...values.slice(301).map((v) => v * 3)]);
    expect(changed[300].score).toEqual(steps[300].score);
  });

  it('does not alarm during warm-up', () => {
    const steps = run(new SeriesDetector(base), [100, 101, 99, 500, 100, 3, 100]);
    expect(steps.every((s) => s.transition === null && !s.score.warm && s.score.score === 0)).toBe(true);
  });

  it('detects drops as well as spikes', () => {
    const values = gaussian(300, 100, 2);
    values[250] = 70;
    const steps = run(new SeriesDetector(base), values);
    expect(opened(steps)).toEqual([250]);
    expect(steps[250].transition?.direction).toBe('drop');
  });

  it('raises a level shift too small for one value to stand out, early, as a level_shift', () => {
    // 2.5σ: no single value is an outlier at zOpen 5, but the level has clearly moved.
    const values = gaussian(800, 100, 2).map((v, i) => (i >= 500 ? v + 5 : v));
    const steps = run(new SeriesDetector(base), values);
    const found = opened(steps);
    expect(found).toHaveLength(1);
    expect(found[0]).toBeGreaterThanOrEqual(500);
    expect(found[0]).toBeLessThan(530);
    expect(steps[found[0]].transition).toMatchObject({ reason: 'level_shift', direction: 'spike' });
    const plain = run(new SeriesDetector({ ...base, tests: ['outlier'] }), values);
    expect(opened(plain)).toEqual([]);
  });

  it('raises a growing noise and a frozen series as variance anomalies', () => {
    const noisier = gaussian(800, 100, 1).map((v, i) => (i >= 500 ? 100 + (v - 100) * 4 : v));
    const a = run(new SeriesDetector({ ...base, tests: ['variance'] }), noisier);
    expect(opened(a)[0]).toBeGreaterThanOrEqual(500);
    expect(opened(a)[0]).toBeLessThan(540);
    const stuck = gaussian(800, 100, 1).map((v, i, all) => (i >= 500 && i < 700 ? all[499] : v));
    const b = run(new SeriesDetector({ ...base, tests: ['variance'] }), stuck);
    expect(opened(b)[0]).toBeGreaterThanOrEqual(500);
    expect(opened(b)[0]).toBeLessThan(560);
    expect(b[opened(b)[0]].transition?.reason).toBe('variance');
    expect(opened(run(new SeriesDetector({ ...base, tests: ['variance'] }), gaussian(800, 100, 1)))).toEqual([]);
  });

  it('learns a daily rhythm from its period, and then finds a day that breaks it', () => {
    // 5-minute samples: a square wave, high by day and low by night, over 12 days.
    const day = 288;
    const wave = gaussian(12 * day, 0, 1).map((e, i) => (i % day < day / 2 ? 80 : 20) + e);
    const seasonal = new SeriesDetector({ ...base, periods: [day] });
    expect(opened(run(seasonal, wave).slice(3 * day))).toEqual([]);
    const broken = wave.slice();
    for (let i = 9 * day; i < 9 * day + day / 2; i++) broken[i] = 50 + (broken[i] - 80);
    const steps = run(seasonal, broken);
    // Found where it starts; at most one more alarm, where the day returns to its shape.
    const found = opened(steps.slice(3 * day)).map((i) => i + 3 * day);
    expect(found[0]).toBe(9 * day);
    expect(found.length).toBeLessThanOrEqual(2);
    expect(found.every((i) => i <= 9 * day + day / 2 + 5)).toBe(true);
    expect(steps[9 * day].transition?.direction).toBe('drop');
    // Once chosen, the seasonal model expects the day's level at each hour.
    expect(steps[8 * day + 10].score.expected).toBeCloseTo(80, -1);
    expect(steps[8 * day + 200].score.expected).toBeCloseTo(20, -1);
  });

  it('calibrates against a heavy-tailed series’ own tails, widening its band', () => {
    const rng = new Rng(7);
    // Student t with 2 degrees of freedom: extreme values are routine.
    const t2 = () => rng.normal() / Math.sqrt((rng.normal() ** 2 + rng.normal() ** 2) / 2);
    const values = Array.from({ length: 5000 }, () => 100 + 2 * t2());
    const calibrated = run(new SeriesDetector({ ...base, tests: ['outlier'] }), values);
    const raw = run(new SeriesDetector({ ...base, tests: ['outlier'], calibration: null }), values);
    expect(opened(calibrated).length).toBeLessThan(opened(raw).length / 2);
    const last = calibrated[4999].score;
    const lastRaw = raw[4999].score;
    expect(last.bandHigh - last.expected).toBeGreaterThan(1.5 * (lastRaw.bandHigh - lastRaw.expected));
  });

  it('gives every value a score in [0, 1] that reaches 0.5 where the strength reaches zOpen', () => {
    const values = gaussian(600, 50, 3, 3);
    values[400] = 90;
    for (const s of run(new SeriesDetector(base), values)) {
      expect(s.score.score).toBeGreaterThanOrEqual(0);
      expect(s.score.score).toBeLessThanOrEqual(1);
      if (s.transition?.state === 'opened') expect(s.score.score).toBeGreaterThanOrEqual(0.5);
    }
    expect(scoreOf(5, 5)).toBe(0.5);
    expect(scoreOf(10, 5)).toBeGreaterThan(0.99);
    expect(scoreOf(2.5, 5)).toBeLessThan(0.05);
  });

  it('scores counts in log space but reports expectations and bands in the metric’s units', () => {
    const steps = run(
      new SeriesDetector({ ...base, transform: 'log1p' }),
      gaussian(100, 1000, 20).map((v) => Math.round(v)),
    );
    const last = steps[99].score;
    expect(last.expected).toBeGreaterThan(950);
    expect(last.expected).toBeLessThan(1050);
    expect(last.bandLow).toBeLessThan(last.expected);
    expect(last.bandHigh).toBeGreaterThan(last.expected);
    expect(last.sdValue).toBeGreaterThan(0);
  });

  it('uses a signed log1p that round-trips', () => {
    for (const v of [-1000, -1, 0, 0.5, 7, 1e6])
      expect(invertTransform('log1p', applyTransform('log1p', v))).toBeCloseTo(v, 6);
    expect(applyTransform('log1p', -9)).toBeCloseTo(-Math.log(10), 12);
  });

  it('keeps one anomaly open through a lasting level shift, then lets the state adapt', () => {
    const values = gaussian(2000, 100, 2).map((v, i) => (i >= 500 ? v + 40 : v));
    const steps = run(new SeriesDetector(base), values);
    expect(opened(steps)).toEqual([500]);
    expect(steps.slice(501).some((s) => s.transition?.state === 'resolved')).toBe(true);
    expect(Math.abs(steps[1999].score.z)).toBeLessThan(3);
  });

  it('starts missing models empty when a period was added since the state was made', () => {
    const state = new SeriesDetector(base).init();
    const det = new SeriesDetector({ ...base, periods: [4] });
    det.step(state, 5, { index: 3, at: 0 });
    expect(state.models).toHaveLength(2);
    expect(state.models[1].season).toHaveLength(4);
    expect(state.models[1].n).toBe(1);
  });

  it('explains every anomaly event with a direction that agrees with value − expected and z', () => {
    // Any series (counts, negatives, huge jumps, flat stretches), any tests, either transform.
    const series = fc.array(
      fc.oneof(fc.double({ min: -1e9, max: 1e9, noNaN: true }), fc.integer({ min: 0, max: 50 }), fc.constant(7)),
      { minLength: 40, maxLength: 400 },
    );
    const config = fc.record({
      transform: fc.constantFrom('none' as const, 'log1p' as const),
      tests: fc.subarray(['outlier', 'level_shift', 'variance'] as const, { minLength: 1 }),
      warmup: fc.integer({ min: 1, max: 20 }),
      zOpen: fc.double({ min: 1, max: 6, noNaN: true }),
      periods: fc.constantFrom([], [7], [24]),
    });
    fc.assert(
      fc.property(series, config, (values, over) => {
        const det = new SeriesDetector({ ...base, ...over, zClose: over.zOpen / 2, tests: [...over.tests] });
        for (const s of run(det, values)) {
          const t = s.transition;
          if (!t) continue;
          const side = t.direction === 'spike' ? 1 : -1;
          expect(Math.sign(t.z)).toBe(side);
          expect(Math.sign(t.value - t.expected)).toBe(side);
          expect(t.direction === 'spike' ? t.value > t.expected : t.value < t.expected).toBe(true);
        }
      }),
      { numRuns: 300, seed: 16 },
    );
  });
});
