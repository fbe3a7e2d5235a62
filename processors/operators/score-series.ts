/**
 * The detector over one whole series, strictly online: what `tgpulse detect`
 * and the offline benchmark run. The series' seasonal periods come from its
 * own sampling: once the first rows show the sampling interval, a daily and
 * a weekly model join (when a day and a week are whole multiples of it and
 * short enough to keep a slot per position), and the detector uses them
 * once they predict better than no season.
 *
 * The score per row is the alarm's view of the detector's score: the row
 * where an anomaly opens keeps its score (≥ 0.5); every other row is capped
 * below 0.5 (at 0.45 while an anomaly is open or cooling down), because a
 * benchmark counts each row over its threshold as an alarm, and a lasting
 * anomaly is one alarm.
 *
 * ```ts
 * const scores = scoreSeries(values, timestamps, genericSeriesConfig);
 * ```
 */
import { DAY_MS } from '../../common/index.ts';
import { SeriesDetector, type SeriesDetectorConfig } from './detector.ts';

/** Rows whose spacing decides the sampling interval. */
const SAMPLING_ROWS = 32;
/** Longest period modelled, in positions (a slot each). */
const MAX_PERIOD = 4096;
/** Shortest period worth a seasonal model. */
const MIN_PERIOD = 4;

/**
 * Defaults for a generic series of unknown scale and unknown season, such as
 * 5-minute machine metrics or counts of a few thousand to tens of thousands
 * of rows. Chosen on the labelled families of quality/series-families.ts,
 * scored with the windowed rules of quality/windowed-score.ts (see
 * `npm run bench:detection`).
 */
export const genericSeriesConfig: SeriesDetectorConfig = {
  alpha: 0.005,
  fastAlpha: 0.1,
  seasonAlpha: 0.3,
  spreadAlpha: 0.1,
  scaleAlpha: 0.005,
  zOpen: 5,
  zClose: 2.5,
  warmup: 30,
  cooldown: 150,
  robust: true,
  robustK: 3,
  // A flat stretch has no spread: 1 % of the level is the least a move must be to count.
  minSd: { absolute: 1e-9, relative: 0.01 },
  transform: 'none',
  periods: [],
  withoutSeason: true,
  tests: ['outlier', 'level_shift', 'variance'],
  calibration: { tau: 0.999, step: 0.1, minFactor: 0.15, maxFactor: 1.2 },
  directions: ['spike', 'drop'],
  severity: { warning: 7, critical: 10 },
};

/**
 * Daily and weekly periods in rows for a sampling interval, when a day (a
 * week) is a whole number of intervals between {@link MIN_PERIOD} and
 * {@link MAX_PERIOD}.
 */
export function seasonalPeriods(stepMs: number): number[] {
  if (!(stepMs > 0)) return [];
  const periods: number[] = [];
  for (const span of [DAY_MS, 7 * DAY_MS]) {
    const p = span / stepMs;
    if (Number.isInteger(p) && p >= MIN_PERIOD && p <= MAX_PERIOD) periods.push(p);
  }
  return periods;
}

/** The median of the positive spacings of `times` (the sampling interval), or null. */
function samplingInterval(times: readonly (number | null)[]): number | null {
  const gaps: number[] = [];
  for (let i = 1; i < times.length; i++) {
    const a = times[i - 1];
    const b = times[i];
    if (a !== null && b !== null && b > a) gaps.push(b - a);
  }
  if (gaps.length === 0) return null;
  gaps.sort((x, y) => x - y);
  return gaps[Math.floor(gaps.length / 2)];
}

/**
 * Scores a series strictly online. `timestamps` (epoch ms, null where
 * unreadable) place each row; without them rows are evenly spaced and no
 * season is modelled unless `cfg.periods` names one. Missing values (null)
 * score 0 and leave the detector untouched.
 */
export function scoreSeries(
  values: ArrayLike<number | null>,
  timestamps: ArrayLike<number | null> | null,
  cfg: SeriesDetectorConfig,
): Float64Array {
  const scores = new Float64Array(values.length);
  let det = new SeriesDetector(cfg);
  const state = det.init();
  let step: number | null = null;
  for (let i = 0; i < values.length; i++) {
    if (timestamps && step === null && i === SAMPLING_ROWS) {
      step = samplingInterval(Array.from({ length: SAMPLING_ROWS }, (_, k) => timestamps[k]));
      const periods = step === null ? [] : seasonalPeriods(step).filter((p) => !cfg.periods.includes(p));
      if (periods.length > 0) det = new SeriesDetector({ ...cfg, periods: [...cfg.periods, ...periods] });
    }
    const v = values[i];
    if (v === null) continue;
    const t = timestamps?.[i] ?? null;
    const index = step !== null && t !== null ? Math.round(t / step) : i;
    const s = det.step(state, v, { index, at: i });
    if (s.transition?.state === 'opened') scores[i] = s.score.score;
    else {
      const busy = state.alarm.open !== null || state.alarm.cooldown > 0 || s.transition !== null;
      scores[i] = Math.min(s.score.score, busy ? 0.45 : 0.49);
    }
  }
  return scores;
}
