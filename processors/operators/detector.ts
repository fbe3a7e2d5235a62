/**
 * The series detector: a transform, an EWMA per seasonal slot and the anomaly
 * state machine, composed. It is the one detector of tgpulse: the partition
 * operator runs it over window metrics, `tgpulse detect` over a CSV column, so
 * the offline score of `detect` is the score of the pipeline.
 *
 * ```ts
 * const det = new SeriesDetector(seriesConfigOf(cfg.detectors.views, cfg.severity));
 * let state = det.init();
 * const step = det.step(state, 1234, { slot: hourOfDay, at: windowStart });
 * state = step.state; // step.score → a trend, step.transition → an anomaly event
 * ```
 */
import type { DetectorConfig, MinSd, SeriesDirection, SeriesTransform, SeverityThresholds } from './config.ts';
import { closedAlarm, stepAlarm, type AlarmParams, type AlarmState, type AlarmTransition } from './anomaly.ts';
import { emptyEwma, foldEwma, updateEwma, Z_CAP, type EwmaParams, type EwmaState } from './ewma.ts';

/** Everything a series detector needs; see {@link DetectorConfig} for the meaning of each field. */
export interface SeriesDetectorConfig {
  alpha: number;
  zOpen: number;
  zClose: number;
  warmup: number;
  /** Values after a resolve during which no anomaly opens. */
  cooldown: number;
  robust: boolean;
  robustK: number;
  minSd: MinSd;
  transform: SeriesTransform;
  /** Number of seasonal slots; 0 or 1 = one state. */
  seasonality: number;
  /**
   * `slot` (default): each seasonal slot scores with its own variance.
   * `pooled`: each slot keeps its own mean, but the spread is one scale shared
   * by all slots (the EWMA of squared residuals against the slot means), so it
   * is estimated from every value instead of one value per season.
   */
  scale?: ScaleMode;
  directions: readonly SeriesDirection[];
  severity: SeverityThresholds;
}

/** How seasonal slots get their spread; see {@link SeriesDetectorConfig.scale}. */
export type ScaleMode = 'slot' | 'pooled';

/** The shared scale of a pooled detector: values folded and the EWMA of squared residuals. */
export interface PooledScale {
  n: number;
  meanSquare: number;
}

/** The detector's state: an EWMA per slot and one alarm across slots. Plain JSON data. */
export interface SeriesDetectorState {
  slots: EwmaState[];
  alarm: AlarmState;
  /** The shared scale, with `scale: 'pooled'` only. */
  pooled?: PooledScale;
}

/**
 * A value's score, in both spaces: `x`, `mean`, `sd`, `z` in the transformed
 * space the EWMA runs in; `expected`, `sdValue` and the band in the metric's own units.
 */
export interface SeriesScore {
  value: number;
  x: number;
  mean: number;
  sd: number;
  z: number;
  n: number;
  warm: boolean;
  slot: number;
  /** The expectation back in value units (inverse transform of `mean`). */
  expected: number;
  /** Half the width of the ±1σ band in value units (the sd when the transform is `none`). */
  sdValue: number;
  /** The ±zOpen band in value units: inside it, nothing opens. */
  bandLow: number;
  bandHigh: number;
}

export interface SeriesStep {
  state: SeriesDetectorState;
  score: SeriesScore;
  transition: AlarmTransition | null;
}

/** Where a value sits: its seasonal slot and its position (`openedAt` if it opens an anomaly). */
export interface SeriesPosition {
  slot: number;
  at: number;
}

/** Values beyond this are clamped so every number we emit is a finite JSON number. */
const FINITE_CAP = 1e300;

/** Maps a value into the space the EWMA runs in. `log1p` is signed so negative deltas stay meaningful. */
export function applyTransform(t: SeriesTransform, v: number): number {
  if (t === 'none') return v;
  return v < 0 ? -Math.log1p(-v) : Math.log1p(v);
}

/** Inverse of {@link applyTransform}, clamped to a finite number. */
export function invertTransform(t: SeriesTransform, x: number): number {
  const v = t === 'none' ? x : x < 0 ? -Math.expm1(-x) : Math.expm1(x);
  return Math.max(-FINITE_CAP, Math.min(FINITE_CAP, v));
}

/** The series detector config of a window metric's {@link DetectorConfig}. */
export function seriesConfigOf(d: DetectorConfig, severity: SeverityThresholds): SeriesDetectorConfig {
  return {
    alpha: d.alpha,
    zOpen: d.zOpen,
    zClose: d.zClose,
    warmup: d.warmup,
    cooldown: d.cooldownWindows,
    robust: d.robust,
    robustK: d.robustK,
    minSd: d.minSd,
    transform: d.transform,
    seasonality: d.seasonality,
    scale: d.scale,
    directions: d.directions,
    severity,
  };
}

/**
 * Scores values one at a time, strictly online: the score of a value uses only
 * the values before it (and the value itself). A thin shell over pure
 * functions: it holds the config, the caller holds the state.
 */
export class SeriesDetector {
  readonly config: SeriesDetectorConfig;
  private readonly ewma: EwmaParams;
  private readonly alarm: AlarmParams;

  constructor(config: SeriesDetectorConfig) {
    this.config = config;
    this.ewma = {
      alpha: config.alpha,
      warmup: config.warmup,
      robust: config.robust,
      robustK: config.robustK,
      minSd: config.minSd,
    };
    this.alarm = {
      zOpen: config.zOpen,
      zClose: config.zClose,
      cooldown: config.cooldown,
      directions: config.directions,
      severity: config.severity,
    };
  }

  /** A fresh state: empty EWMA per slot, no anomaly. */
  init(): SeriesDetectorState {
    return { slots: Array.from({ length: Math.max(1, this.config.seasonality) }, emptyEwma), alarm: closedAlarm() };
  }

  /** The slot of a position in a regular series (index or window number), for seasonal configs. */
  slotOf(index: number): number {
    const s = Math.max(1, this.config.seasonality);
    return ((index % s) + s) % s;
  }

  /** Scores `value` against its slot's EWMA and folds it in, without an alarm (for series whose alarm lives elsewhere). */
  score(slotStates: readonly EwmaState[], value: number, slot: number): { score: SeriesScore; slots: EwmaState[] } {
    const t = this.config.transform;
    const x = applyTransform(t, value);
    // A slot missing from the state (seasonality raised since the checkpoint) starts empty.
    const { score, next } = updateEwma(slotStates[slot] ?? emptyEwma(), x, this.ewma);
    const slots = slotStates.slice();
    while (slots.length <= slot) slots.push(emptyEwma());
    slots[slot] = next;
    const k = this.config.zOpen;
    const hi1 = invertTransform(t, score.mean + score.sd);
    const lo1 = invertTransform(t, score.mean - score.sd);
    return {
      score: {
        value,
        x,
        mean: score.mean,
        sd: score.sd,
        z: score.z,
        n: score.n,
        warm: score.warm,
        slot,
        expected: invertTransform(t, score.mean),
        sdValue: (hi1 - lo1) / 2,
        bandLow: invertTransform(t, score.mean - k * score.sd),
        bandHigh: invertTransform(t, score.mean + k * score.sd),
      },
      slots,
    };
  }

  /** Scores `value`, folds it into its slot and advances the alarm. */
  step(state: SeriesDetectorState, value: number, pos: SeriesPosition): SeriesStep {
    if (this.config.scale === 'pooled') return this.stepPooled(state, value, pos);
    const { score, slots } = this.score(state.slots, value, pos.slot);
    const { state: alarm, transition } = stepAlarm(
      state.alarm,
      { z: score.z, warm: score.warm, value, at: pos.at },
      this.alarm,
    );
    return { state: { slots, alarm }, score, transition };
  }

  /**
   * The pooled step: z = (x − slot mean) / shared scale. The residual of each
   * value against its slot's mean (before the value) feeds the shared scale,
   * whose weight per value is alpha / seasonality, so it spans as many days as
   * a slot's mean. Only residuals against warm slot means (`warmup` values)
   * feed the scale; the score is warm once the scale has a residual of every
   * slot (and at least `warmup`). Robust mode clamps both folds at ±robustK·sd.
   */
  private stepPooled(state: SeriesDetectorState, value: number, pos: SeriesPosition): SeriesStep {
    const c = this.config;
    const t = c.transform;
    const x = applyTransform(t, value);
    const slot = state.slots[pos.slot] ?? emptyEwma();
    const pooled = state.pooled ?? { n: 0, meanSquare: 0 };
    const mean = slot.n === 0 ? x : slot.mean;
    const sd = Math.max(Math.sqrt(pooled.meanSquare), c.minSd.absolute, c.minSd.relative * Math.abs(mean), 1e-12);
    const r = x - mean;
    const z = slot.n === 0 ? 0 : Math.max(-Z_CAP, Math.min(Z_CAP, r / sd));
    // The scale is trusted once it has seen a residual of every slot (and at least `warmup`).
    const scaleWarmup = Math.max(c.warmup, c.seasonality);
    const warm = slot.n >= c.warmup && pooled.n >= scaleWarmup;
    const k = c.robust && warm ? c.robustK * sd : Infinity;
    const rc = Math.max(-k, Math.min(k, r));
    const slots = state.slots.slice();
    while (slots.length <= pos.slot) slots.push(emptyEwma());
    slots[pos.slot] = foldEwma(slot, mean + rc, c.alpha);
    // Only residuals against a warm slot mean feed the scale: a young mean's error is not spread.
    let nextPooled = pooled;
    if (slot.n >= c.warmup) {
      const kScale = c.robust && pooled.n >= scaleWarmup ? c.robustK * sd : Infinity;
      const rs = Math.max(-kScale, Math.min(kScale, r));
      const a = Math.max(c.alpha / Math.max(1, c.seasonality), 1 / (pooled.n + 1));
      nextPooled = { n: pooled.n + 1, meanSquare: pooled.meanSquare + a * (rs * rs - pooled.meanSquare) };
    }
    const hi1 = invertTransform(t, mean + sd);
    const lo1 = invertTransform(t, mean - sd);
    const score: SeriesScore = {
      value,
      x,
      mean,
      sd,
      z,
      n: slot.n,
      warm,
      slot: pos.slot,
      expected: invertTransform(t, mean),
      sdValue: (hi1 - lo1) / 2,
      bandLow: invertTransform(t, mean - c.zOpen * sd),
      bandHigh: invertTransform(t, mean + c.zOpen * sd),
    };
    const { state: alarm, transition } = stepAlarm(state.alarm, { z, warm, value, at: pos.at }, this.alarm);
    return { state: { slots, alarm, pooled: nextPooled }, score, transition };
  }

  /** The alarm parameters, for series that keep their alarm apart from their EWMA (post views). */
  get alarmParams(): AlarmParams {
    return this.alarm;
  }
}
