/**
 * The series detector: the one detector of tgpulse. The partition operator
 * runs it over window metrics, `tgpulse detect` over a CSV column, so the
 * offline score of `detect` is the score of the pipeline.
 *
 * Per value, strictly online:
 * 1. an expectation per candidate model (no season, and each configured
 *    period: see baseline.ts); the model that has predicted best lately is used;
 * 2. three tests on its residuals: `outlier` (the value against its band),
 *    `level_shift` (a fast level against the slow one: shifts and drifts),
 *    `variance` (the noise growing, or the series freezing);
 * 3. each test's statistic calibrated against the recent distribution of its
 *    own values (tail-calibration.ts): the strength of the strongest test is
 *    in Gaussian-equivalent z units, whatever the series' tails;
 * 4. the alarm (anomaly.ts) opens at strength ≥ zOpen and explains itself as
 *    the value against the expected value and its band, with the test as reason;
 * 5. a continuous score in [0, 1] on every value: 0.5 at strength zOpen.
 *
 * ```ts
 * const det = new SeriesDetector(seriesConfigOf(cfg.detectors.views, cfg.severity));
 * const state = det.init();
 * const step = det.step(state, 1234, { index: hourNumber, at: windowStart });
 * // step.score → a trend, step.transition → an anomaly event; `state` was advanced in place
 * ```
 */
import {
  type BaselineParams,
  type BaselineReading,
  type BaselineState,
  createBaseline,
  emptyReading,
  rebaseBaseline,
  stepBaseline,
} from './baseline.ts';
import type {
  CalibrationParams,
  DetectorConfig,
  MinSd,
  SeriesDirection,
  SeriesTest,
  SeriesTransform,
  SeverityThresholds,
} from './config.ts';
import { type AlarmParams, type AlarmState, type AlarmTransition, closedAlarm, sideOf, stepAlarm } from './anomaly.ts';
import { calibrationFactor, referenceQuantile, trackQuantile } from './tail-calibration.ts';

/** The tests, in the order of the state's tails. */
const TESTS: readonly SeriesTest[] = ['outlier', 'level_shift', 'variance'];

/** Everything a series detector needs; see {@link DetectorConfig} for the meaning of the shared fields. */
export interface SeriesDetectorConfig {
  /** Weight of a value in the slow level (the expectation). */
  alpha: number;
  /** Weight of a value in the fast level that the level-shift test compares with the slow one. */
  fastAlpha: number;
  /** Weight of a value in its seasonal slot's offset. */
  seasonAlpha: number;
  /** Weight of a value in the short spread of the variance test. */
  spreadAlpha: number;
  /** Weight of a value in the learned scales (and in the error that picks a model). */
  scaleAlpha: number;
  zOpen: number;
  zClose: number;
  warmup: number;
  /** Values after a resolve during which no anomaly opens. */
  cooldown: number;
  robust: boolean;
  robustK: number;
  minSd: MinSd;
  transform: SeriesTransform;
  /** Seasonal periods to model (positions per period). */
  periods: readonly number[];
  /**
   * Also model no season, and use whichever model has predicted best lately
   * (a seasonal one only once it has seen two periods). Off: the periods are
   * known to hold (an hour-of-day rhythm), and the first one is always used.
   */
  withoutSeason: boolean;
  /** Tests that may raise an anomaly (each always scores). */
  tests: readonly SeriesTest[];
  /** Tail calibration of the tests' statistics; null = raw statistics. */
  calibration: CalibrationParams | null;
  directions: readonly SeriesDirection[];
  severity: SeverityThresholds;
}

/** The detector's state: plain JSON data, advanced in place by {@link SeriesDetector.step}. */
export interface SeriesDetectorState {
  /** One model per candidate: no season first (with `withoutSeason`), then one per configured period. */
  models: BaselineState[];
  /** The model whose expectation is used. */
  chosen: number;
  /** The tracked tail quantile of each test's statistic, in {@link TESTS} order. */
  tails: number[];
  /** Per test, values since its statistic was last above its tail (see {@link EXCURSION_GAP}). */
  sinceAbove: number[];
  alarm: AlarmState;
  /** Values since the open anomaly opened or last moved the level (see `rebaseline`). */
  openFor: number;
}

/** A value's score, in the metric's own units (the detector runs in the transformed space). */
export interface SeriesScore {
  value: number;
  expected: number;
  /** Half the width of the ±1σ band. */
  sdValue: number;
  /** (x − expected) / sd in the transformed space: the outlier statistic before calibration. */
  z: number;
  /** Values the chosen model had seen before this one. */
  n: number;
  warm: boolean;
  /** The band inside which the value is no outlier (±zOpen calibrated σ). */
  bandLow: number;
  bandHigh: number;
  /** The strongest test's calibrated statistic (z units), and which test it is. */
  strength: number;
  reason: SeriesTest;
  /** Anomaly score in [0, 1]: 0.5 at strength zOpen, near 1 well beyond. */
  score: number;
}

export interface SeriesStep {
  state: SeriesDetectorState;
  score: SeriesScore;
  transition: AlarmTransition | null;
}

/** Where a value sits: its position in the series (seasonal slots are positions mod period) and its time. */
export interface SeriesPosition {
  index: number;
  at: number;
}

/** Values beyond this are clamped so every number we emit is a finite JSON number. */
const FINITE_CAP = 1e300;
/** |statistics| are capped here, so a score is always finite. */
const STAT_CAP = 1e6;
/** A seasonal model competes once it has seen this many periods. */
const PERIODS_BEFORE_CHOICE = 2;
/**
 * Values a statistic must stay below its tail before its next exceedance
 * counts as a new excursion: one that wavers around the tail (a noisy
 * statistic during a lasting change) is still one excursion.
 */
const EXCURSION_GAP = 5;
/** Another model takes over only when its recent error is this much lower (no flapping). */
const SWITCH_MARGIN = 0.85;

/** Maps a value into the space the detector runs in. `log1p` is signed so negative deltas stay meaningful. */
export function applyTransform(t: SeriesTransform, v: number): number {
  if (t === 'none') return v;
  return v < 0 ? -Math.log1p(-v) : Math.log1p(v);
}

/** Inverse of {@link applyTransform}, clamped to a finite number. */
export function invertTransform(t: SeriesTransform, x: number): number {
  const v = t === 'none' ? x : x < 0 ? -Math.expm1(-x) : Math.expm1(x);
  return Math.max(-FINITE_CAP, Math.min(FINITE_CAP, v));
}

/** The anomaly score of a strength: 1 − 2^−(strength/zOpen)^4, so 0.5 at zOpen and steep around it. */
export function scoreOf(strength: number, zOpen: number): number {
  const r = strength / zOpen;
  const r2 = r * r;
  return 1 - 2 ** -(r2 * r2);
}

/** The series detector config of a window metric's {@link DetectorConfig}. */
export function seriesConfigOf(d: DetectorConfig, severity: SeverityThresholds): SeriesDetectorConfig {
  return {
    alpha: d.alpha,
    fastAlpha: d.fastAlpha,
    seasonAlpha: d.seasonAlpha,
    spreadAlpha: d.spreadAlpha,
    scaleAlpha: d.scaleAlpha,
    zOpen: d.zOpen,
    zClose: d.zClose,
    warmup: d.warmup,
    cooldown: d.cooldownWindows,
    robust: d.robust,
    robustK: d.robustK,
    minSd: d.minSd,
    transform: d.transform,
    periods: d.seasonality > 1 ? [d.seasonality] : [],
    withoutSeason: d.seasonality <= 1,
    tests: d.tests,
    calibration: d.calibration,
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
  readonly alarmParams: AlarmParams;
  private readonly baseline: BaselineParams[];
  private readonly qRef: number;
  private readonly enabled: boolean[];
  /** Scratch readings, one per model: reused, so a step allocates nothing for them. */
  private readonly readings: BaselineReading[];

  constructor(config: SeriesDetectorConfig) {
    this.config = config;
    const periods = config.withoutSeason || config.periods.length === 0 ? [0, ...config.periods] : config.periods;
    this.baseline = periods.map((period) => ({
      alpha: config.alpha,
      fastAlpha: config.fastAlpha,
      seasonAlpha: config.seasonAlpha,
      spreadAlpha: config.spreadAlpha,
      scaleAlpha: config.scaleAlpha,
      warmup: config.warmup,
      robustK: config.robust ? config.robustK : Number.POSITIVE_INFINITY,
      minSd: config.minSd,
      period,
    }));
    this.readings = this.baseline.map(emptyReading);
    this.qRef = referenceQuantile(config.calibration?.tau ?? 0.99);
    this.enabled = TESTS.map((t) => config.tests.includes(t));
    this.alarmParams = {
      zOpen: config.zOpen,
      zClose: config.zClose,
      cooldown: config.cooldown,
      directions: config.directions,
      severity: config.severity,
    };
  }

  /** A fresh state: empty models, tails at their Gaussian value, no anomaly. */
  init(): SeriesDetectorState {
    return {
      models: this.baseline.map((p) => createBaseline(p.period)),
      chosen: 0,
      tails: TESTS.map(() => this.qRef),
      sinceAbove: TESTS.map(() => EXCURSION_GAP),
      alarm: closedAlarm(),
      openFor: 0,
    };
  }

  /** Scores `value`, folds it into every model and advances the alarm. Changes `state` in place. */
  step(state: SeriesDetectorState, value: number, pos: SeriesPosition): SeriesStep {
    const c = this.config;
    const x = applyTransform(c.transform, value);
    // A model missing from the state (a period added since the checkpoint) starts empty.
    while (state.models.length < this.baseline.length)
      state.models.push(createBaseline(this.baseline[state.models.length].period));
    for (let m = 0; m < this.baseline.length; m++)
      stepBaseline(state.models[m], x, pos.index, this.baseline[m], this.readings[m]);
    const r = this.readings[state.chosen] ?? this.readings[0];
    state.chosen = this.choose(state);

    const raw = [
      Math.min(Math.abs(r.z), STAT_CAP),
      Math.min(Math.abs(r.shift), STAT_CAP),
      Math.min(Math.abs(r.spread), STAT_CAP),
    ];
    const cal = c.calibration;
    const open = state.alarm.open;
    let strength = 0;
    let reason: SeriesTest = 'outlier';
    let anyStrength = 0;
    for (let k = 0; k < TESTS.length; k++) {
      if (!this.enabled[k]) continue;
      const u = cal ? raw[k] * calibrationFactor(state.tails[k], this.qRef, cal) : raw[k];
      if (u > anyStrength) anyStrength = u;
      if (open !== null) {
        // An open anomaly lasts as long as the test that raised it: a spike is over when the value is back
        // in band, even if it nudged the fast level on its way.
        if (TESTS[k] === open.reason) strength = u;
        continue;
      }
      // A level shift explains a value only on its own side of the expectation.
      if (k === 1 && Math.sign(r.shift) !== Math.sign(r.z)) continue;
      if (u > strength) {
        strength = u;
        reason = TESTS[k];
      }
    }
    if (open !== null && open.reason !== 'silence') reason = open.reason;
    // An excursion above the tail (an anomaly, or a burst of a bursty series) teaches it once, however long it
    // lasts: a drift does not talk the tail into calling it usual, while frequent bursts do raise it.
    if (cal && r.warm) {
      for (let k = 0; k < TESTS.length; k++) {
        // The open anomaly's own test counted its excursion when it opened.
        if (open !== null && open.reason === TESTS[k]) continue;
        const above = raw[k] > state.tails[k];
        if (!above || state.sinceAbove[k] >= EXCURSION_GAP) state.tails[k] = trackQuantile(state.tails[k], raw[k], cal);
        state.sinceAbove[k] = above ? 0 : state.sinceAbove[k] + 1;
      }
    }

    const t = c.transform;
    const outlierFactor = cal ? calibrationFactor(state.tails[0], this.qRef, cal) : 1;
    const halfBand = (c.zOpen / outlierFactor) * r.sd;
    const hi1 = invertTransform(t, r.expected + r.sd);
    const lo1 = invertTransform(t, r.expected - r.sd);
    const score: SeriesScore = {
      value,
      expected: invertTransform(t, r.expected),
      sdValue: (hi1 - lo1) / 2,
      z: Math.max(-STAT_CAP, Math.min(STAT_CAP, r.z)),
      n: r.n,
      warm: r.warm,
      bandLow: invertTransform(t, r.expected - halfBand),
      bandHigh: invertTransform(t, r.expected + halfBand),
      strength,
      reason,
      score: r.warm ? scoreOf(anyStrength, c.zOpen) : 0,
    };
    const { state: alarm, transition } = stepAlarm(
      state.alarm,
      {
        strength,
        reason,
        warm: r.warm,
        at: pos.at,
        explanation: {
          value,
          expected: score.expected,
          bandLow: score.bandLow,
          bandHigh: score.bandHigh,
          z: score.z,
        },
      },
      this.alarmParams,
    );
    state.alarm = alarm;
    this.rebaseline(state, r.shift, x, pos.index);
    return { state, score, transition };
  }

  /**
   * A level that moved and stays moved is the new normal: once an anomaly has
   * been open for as long as the fast level needs to settle, with the fast
   * level still away from the slow one on the anomaly's side, the model in
   * use restarts its levels at the current value (see `rebaseBaseline`). Without it, a large shift would be
   * absorbed at the robust pace (k·σ·α per value) for hundreds of values,
   * and would alarm again as a "new" shift when its first anomaly resolves.
   */
  private rebaseline(state: SeriesDetectorState, shift: number, x: number, index: number): void {
    const open = state.alarm.open;
    if (open === null || open.reason === 'variance') {
      state.openFor = 0;
      return;
    }
    state.openFor++;
    const settled = state.openFor >= Math.ceil(1 / this.config.fastAlpha);
    if (!settled || Math.abs(shift) < this.config.zClose || sideOf(shift) !== open.direction) return;
    // The model in use only: the others judge the change at their own pace, and stay fair competitors.
    rebaseBaseline(state.models[state.chosen] ?? state.models[0], x, index);
    state.openFor = 0;
  }

  /** The model to use from the next value on: the current one unless an eligible one predicts clearly better. */
  private choose(state: SeriesDetectorState): number {
    let best = state.chosen < state.models.length ? state.chosen : 0;
    for (let m = 0; m < state.models.length; m++) {
      const model = state.models[m];
      const period = this.baseline[m]?.period ?? 0;
      const eligible = period <= 1 || model.n >= PERIODS_BEFORE_CHOICE * period + this.config.warmup;
      if (eligible && model.error < SWITCH_MARGIN * state.models[best].error) best = m;
    }
    return best;
  }
}
