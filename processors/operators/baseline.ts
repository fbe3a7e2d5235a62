/**
 * The expectation of a series and the raw statistics of its three tests,
 * one value at a time, strictly online (a value is scored against the state
 * before it, then folded in).
 *
 * The expectation is additive Holt–Winters without a trend: a slow level,
 * plus an offset per seasonal slot when the series has a period:
 *
 * ```text
 * expected = level + season[slot]        r = x − expected
 * level   += α·r_c                       season[slot] += γ·(1 − α)·r_c
 * ```
 *
 * where r_c is r clamped at ±k·σ once the scale has a few residuals
 * (robust: an outlier moves the state by at most α·k·σ), and the weights
 * start at 1/n (a warm start: the first values are averaged, not the first
 * one slowly forgotten). The scale σ comes from a winsorised EW mean of |r|
 * (the sd for Gaussian noise), so a burst or a drift widens it by at most a
 * small factor per value.
 *
 * The statistics of the three tests, each in units of its own usual spread:
 * - outlier: z = r / σ, the value against its expectation;
 * - level shift: (fast − level) / σ_shift, a fast EWMA of the deseasonalised
 *   value against the slow level: a level shift or a drift moves it and
 *   stays, while noise averages out. Its spread σ_shift is learned, so a
 *   series that wanders (autocorrelated noise) widens its own band;
 * - variance: ln(s / s̄), a short EW mean s of |x − fast| against its long
 *   one: above 0 when the noise grows, far below 0 when the series freezes
 *   (a stuck sensor), in units of its learned spread.
 *
 * The state is plain JSON data and is changed in place, so a long series
 * costs no allocation per value.
 */
import type { MinSd } from './config.ts';

/**
 * Gaussian sd over the spread {@link trackSpread} settles at: the fixed
 * point m = E[min(|Z|, 2m)] of the winsorised mean absolute deviation is 0.7352σ.
 */
const MAD_TO_SD = 1 / 0.7352011421787842;
const EPSILON = 1e-12;
/** Residuals the scale has learned from before residuals are clamped. */
const ROBUST_AFTER = 10;
/** Periods a seasonal model sees before its residuals feed its scales. */
const SEASON_WARMUP_PERIODS = 2;
/** E|N(0, σ)| over the winsorised spread of the same noise: the short spread is a plain mean. */
const MEAN_TO_SPREAD = 0.7978845608 / 0.7352011421787842;

export interface BaselineParams {
  /** Slow level weight (the expectation). */
  alpha: number;
  /** Fast level weight (the shift test). */
  fastAlpha: number;
  /** Weight of a value in its seasonal slot's offset. */
  seasonAlpha: number;
  /** Weight of a value in the short spread (the spread test). */
  spreadAlpha: number;
  /** Weight of a value in the scales; also the slowest weight of the warm start. */
  scaleAlpha: number;
  /** Values folded before the statistics count. */
  warmup: number;
  /** Clamp of folded residuals in σ; Infinity = not robust. */
  robustK: number;
  minSd: MinSd;
  /** Seasonal period in positions; 0 or 1 = none. */
  period: number;
}

/** One model's state: plain JSON, changed in place by {@link stepBaseline}. */
export interface BaselineState {
  n: number;
  level: number;
  fast: number;
  /** Robust EW mean of |r| ({@link trackSpread}). */
  scale: number;
  /** Robust EW mean of |fast − level|. */
  shiftScale: number;
  /** Short EW mean |x − fast|, and the robust long one it is compared with. */
  spread: number;
  spreadLong: number;
  /** Robust EW mean of |ln(spread / spreadLong)|. */
  spreadScale: number;
  /** EW mean |r| unclamped: how well this model predicts (chooses among seasonal periods). */
  error: number;
  /** Offset per slot (null until the slot's first value); empty without a period. */
  season: (number | null)[];
}

/** What {@link stepBaseline} reports for a value (written into a reused object). */
export interface BaselineReading {
  expected: number;
  sd: number;
  /** Spike statistic (signed). */
  z: number;
  /** Shift statistic (signed: above or below the level). */
  shift: number;
  /** Spread statistic (signed: noisier or frozen). */
  spread: number;
  /** Values folded before this one. */
  n: number;
  warm: boolean;
}

export function createBaseline(period: number): BaselineState {
  return {
    n: 0,
    level: 0,
    fast: 0,
    scale: 0,
    shiftScale: 0,
    spread: 0,
    spreadLong: 0,
    spreadScale: 0,
    error: 0,
    season: period > 1 ? new Array<number | null>(period).fill(null) : [],
  };
}

export function emptyReading(): BaselineReading {
  return { expected: 0, sd: 0, z: 0, shift: 0, spread: 0, n: 0, warm: false };
}

/** The weight of the k-th value: `alpha`, or 1/k while fewer than 1/alpha values were seen (a warm start). */
function weight(n: number, alpha: number): number {
  return Math.max(1 / (n + 1), alpha);
}

/** Scores `x` at position `index` into `out`, then folds it into `s`. */
export function stepBaseline(
  s: BaselineState,
  x: number,
  index: number,
  p: BaselineParams,
  out: BaselineReading,
): void {
  const period = s.season.length;
  const slot = period > 1 ? ((index % period) + period) % period : -1;
  const offset = slot >= 0 ? (s.season[slot] ?? null) : 0;
  if (s.n === 0) {
    s.n = 1;
    s.level = x;
    s.fast = x;
    if (slot >= 0) s.season[slot] = 0;
    out.expected = x;
    out.sd = floorSd(0, x, p.minSd);
    out.z = out.shift = out.spread = 0;
    out.n = 0;
    out.warm = false;
    return;
  }
  // A slot seen for the first time has no offset yet: it is scored against the level alone.
  const seasonal = offset ?? 0;
  const expected = s.level + seasonal;
  const r = x - expected;
  const sd = floorSd(MAD_TO_SD * s.scale, expected, p.minSd);
  // A seasonal model's residuals mean something once every slot's offset averages a few visits: its scales
  // learn from then on (earlier residuals would inflate them for weeks).
  const learned = s.n - (period > 1 ? SEASON_WARMUP_PERIODS * period : 0);
  const warm = learned >= p.warmup;

  // Residuals are clamped once the scale has a few of them, before the warm-up ends: an outlier in the
  // warm-up must not become part of the expectation. The fast level takes them clamped too: one outlier is
  // the outlier test's business, and must not read as a shift for the next values.
  const k = learned >= Math.min(p.warmup, ROBUST_AFTER) ? p.robustK * sd : Number.POSITIVE_INFINITY;
  const deseasoned = x - seasonal;
  const fastResidual = clamp(deseasoned - s.fast, k);
  const fast = s.fast + weight(s.n, p.fastAlpha) * fastResidual;
  const shiftSd = Math.max(MAD_TO_SD * s.shiftScale, sd * Math.sqrt(p.fastAlpha / (2 - p.fastAlpha)) * 0.5);
  const d = fast - s.level;
  // The spread takes residuals clamped twice as wide: it must see noise that grew several-fold.
  const absFast = Math.min(Math.abs(deseasoned - s.fast), 2 * k);
  const spread = s.spread + weight(s.n, p.spreadAlpha) * (absFast - s.spread);
  const g = Math.log((spread + EPSILON + sd * 1e-3) / (MEAN_TO_SPREAD * s.spreadLong + EPSILON + sd * 1e-3));
  const spreadSd = Math.max(MAD_TO_SD * s.spreadScale, 0.05);

  out.expected = expected;
  out.sd = sd;
  out.z = r / sd;
  out.shift = d / shiftSd;
  out.spread = g / spreadSd;
  out.n = s.n;
  out.warm = warm;

  // Fold, with the residual clamped so an outlier moves the state by a bounded step.
  const rc = clamp(r, k);
  const a = weight(s.n, p.alpha);
  s.level += a * rc;
  if (slot >= 0) {
    // Warm start per slot as for the level: the k-th visit of a slot weighs max(γ, 1/k), so a slot's
    // offset is the plain mean of its first visits, not its first value slowly forgotten.
    const gamma = weight(Math.floor(s.n / period), p.seasonAlpha);
    s.season[slot] = offset === null ? x - s.level : offset + gamma * (1 - a) * rc;
  }
  s.fast = fast;
  s.spread = spread;
  s.n++;
  if (learned < 0) return;
  const sa = weight(learned, p.scaleAlpha);
  s.scale = trackSpread(s.scale, Math.abs(r), sa);
  s.shiftScale = trackSpread(s.shiftScale, Math.abs(d), sa);
  s.spreadLong = trackSpread(s.spreadLong, absFast, sa);
  s.spreadScale = trackSpread(s.spreadScale, Math.abs(g), sa);
  s.error += sa * (Math.abs(r) - s.error);
}

/**
 * Restarts the local picture at `x` (position `index`): the level and the
 * fast level jump to x's deseasonalised value and the short spread to its
 * usual value, keeping the scales and the season. For a shift that has been
 * confirmed: from here on, the new level is the normal.
 */
export function rebaseBaseline(s: BaselineState, x: number, index: number): void {
  if (s.n === 0) return;
  const period = s.season.length;
  const offset = period > 1 ? (s.season[((index % period) + period) % period] ?? 0) : 0;
  s.level = x - offset;
  s.fast = s.level;
  s.spread = MEAN_TO_SPREAD * s.spreadLong;
}

function clamp(v: number, k: number): number {
  return Math.min(k, Math.max(-k, v));
}

/**
 * One step of a winsorised EW mean of a non-negative statistic (a robust
 * mean absolute deviation): the value enters capped at twice the current
 * spread. However large an anomaly, it widens the spread by at most a factor
 * (1 + w) per value (a plain mean would move by w × the anomaly), so a burst
 * or a drift does not widen the band it is judged against; below that it
 * converges like a mean, in proportion to the gap. Starts at the first value.
 */
function trackSpread(m: number, v: number, w: number): number {
  if (m <= 0) return v;
  return m + w * (Math.min(v, 2 * m) - m);
}

/** The sd used for scoring: the learned one, floored by `minSd` (absolute, relative to |expected|). */
function floorSd(sd: number, expected: number, minSd: MinSd): number {
  return Math.max(sd, minSd.absolute, minSd.relative * Math.abs(expected), EPSILON);
}
