/**
 * Reference detectors the offline benchmark prints beside tgpulse's, so a
 * figure always has something to be read against:
 *
 * - `previous`: tgpulse's detector before tail calibration, seasons and the
 *   level-shift and variance tests: one robust EWMA z-score (α 0.005, open at
 *   |z| 4, close at 2, cooldown 150), scored 0.5 + … only where an alarm opens;
 * - `ewma`: a plain EWMA z-score (α 0.02), the score rising with |z| on every row;
 * - `windowedGaussian`: each value against the mean and sd of the previous
 *   6,400 values (the public benchmark's own baseline), score = 1 − its two-sided tail.
 *
 * Each is a {@link SeriesScorer}: values in, a score in [0, 1] per row out.
 */
import { closedAlarm, stepAlarm } from '../processors/operators/anomaly.ts';
import { emptyEwma, type EwmaParams, type EwmaState, updateEwma } from '../processors/operators/ewma.ts';
import { errorFunction } from 'simple-statistics';
import type { SeriesScorer } from '../quality/offline-benchmark.ts';

/** The previous default of `tgpulse detect`. */
export const previous: SeriesScorer = (_t, values) => {
  const ewma: EwmaParams = {
    alpha: 0.005,
    warmup: 30,
    robust: true,
    robustK: 3,
    minSd: { absolute: 1e-9, relative: 0.01 },
  };
  const alarmParams = {
    zOpen: 4,
    zClose: 2,
    cooldown: 150,
    directions: ['spike', 'drop'] as const,
    severity: { warning: 6, critical: 9 },
  };
  let state: EwmaState = emptyEwma();
  let alarm = closedAlarm();
  return values.map((v, i) => {
    if (v === null) return 0;
    const { score, next } = updateEwma(state, v, ewma);
    state = next;
    const absZ = Math.abs(score.z);
    const stepped = stepAlarm(
      alarm,
      {
        strength: absZ,
        reason: 'outlier',
        warm: score.warm,
        at: i,
        explanation: { value: v, expected: score.mean, bandLow: 0, bandHigh: 0, z: score.z },
      },
      alarmParams,
    );
    alarm = stepped.state;
    if (!score.warm) return 0;
    if (stepped.transition?.state === 'opened') return 0.5 + 0.5 * (1 - Math.exp(-(absZ - 4) / 4));
    const r = Math.min(1, absZ / 4);
    return 0.45 * r * r;
  });
};

/** A plain EWMA z-score: |z| / (|z| + 4), so 0.5 at |z| = 4. */
export const ewma: SeriesScorer = (_t, values) => {
  const p: EwmaParams = { alpha: 0.02, warmup: 30, robust: false, robustK: 3, minSd: { absolute: 1e-9, relative: 0 } };
  let state = emptyEwma();
  return values.map((v) => {
    if (v === null) return 0;
    const { score, next } = updateEwma(state, v, p);
    state = next;
    const absZ = Math.abs(score.z);
    return score.warm ? absZ / (absZ + 4) : 0;
  });
};

/** Each value against the previous `window` values' mean and sd; score = 1 − the two-sided tail. */
export function windowedGaussian(window = 6400): SeriesScorer {
  return (_t, values) => {
    const ring = new Float64Array(window);
    let count = 0;
    let next = 0;
    let sum = 0;
    let sumSq = 0;
    return values.map((v) => {
      if (v === null) return 0;
      let score = 0;
      if (count >= 30) {
        const mean = sum / count;
        const sd = Math.sqrt(Math.max(0, sumSq / count - mean * mean));
        const z = sd > 0 ? Math.abs(v - mean) / sd : v === mean ? 0 : 40;
        score = errorFunction(z / Math.SQRT2);
      }
      if (count === window) {
        sum -= ring[next];
        sumSq -= ring[next] * ring[next];
      } else count++;
      ring[next] = v;
      next = (next + 1) % window;
      sum += v;
      sumSq += v * v;
      return score;
    });
  };
}
