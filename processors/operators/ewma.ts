/**
 * Exponentially weighted mean and variance, updated one value at a time, and
 * the z-score of a new value against the state *before* it.
 *
 * The update is the incremental form of the weighted moments
 * (Finch, "Incremental calculation of weighted mean and variance", 2009):
 *
 * ```text
 * d = x − mean;  mean' = mean + α·d;  var' = (1 − α)·(var + α·d²)
 * ```
 *
 * which equals mean = Σwᵢxᵢ and var = Σwᵢ(xᵢ − mean)² with weights
 * wᵢ = αᵢ·Πⱼ>ᵢ(1 − αⱼ). The k-th value (k = 1, 2, …) is folded in with
 * αₖ = max(α, 1/k): until 1/α values were seen the state is the plain mean and
 * variance of all of them, so the first value does not dominate the early
 * state (with a fixed α it would keep weight (1−α)ⁿ, near 1 for a slow EWMA).
 *
 * All functions are pure: they return a new state and never touch the old one.
 */
import type { MinSd } from './config.ts';

/** The EWMA state of one series (or one seasonal slot): plain data, JSON-safe. */
export interface EwmaState {
  /** Values folded in so far. */
  n: number;
  mean: number;
  variance: number;
}

/** Parameters of scoring and folding. */
export interface EwmaParams {
  alpha: number;
  /** Values that must be folded in before a score counts (`warm`). */
  warmup: number;
  robust: boolean;
  robustK: number;
  minSd: MinSd;
}

/** The score of a value against the state before it. */
export interface EwmaScore {
  /** Mean and effective sd (floored by `minSd`) of the state before the value. */
  mean: number;
  sd: number;
  /** (x − mean) / sd; 0 while the state is empty. Always finite. */
  z: number;
  /** Values in the state before this one. */
  n: number;
  /** Whether the state had seen `warmup` values before this one. */
  warm: boolean;
}

/** |z| is capped here so that a score is always a finite JSON number. */
export const Z_CAP = 1e6;
/** The smallest sd ever divided by, so a flat series with `minSd` 0 still gives a finite z. */
const SD_EPSILON = 1e-12;

/** A state that has seen nothing. */
export function emptyEwma(): EwmaState {
  return { n: 0, mean: 0, variance: 0 };
}

/** The sd used for scoring: the EWMA sd floored by the absolute and relative minimum. */
export function effectiveSd(state: EwmaState, minSd: MinSd): number {
  return Math.max(
    Math.sqrt(Math.max(0, state.variance)),
    minSd.absolute,
    minSd.relative * Math.abs(state.mean),
    SD_EPSILON,
  );
}

/** Scores `x` against `state` (the state before `x`). */
export function scoreEwma(state: EwmaState, x: number, p: Pick<EwmaParams, 'warmup' | 'minSd'>): EwmaScore {
  const sd = effectiveSd(state, p.minSd);
  const z = state.n === 0 ? 0 : clampZ((x - state.mean) / sd);
  return { mean: state.n === 0 ? x : state.mean, sd, z, n: state.n, warm: state.n >= p.warmup };
}

/** The weight the next value gets: `alpha`, or more while fewer than 1/alpha values were seen. */
export function foldWeight(state: EwmaState, alpha: number): number {
  return Math.max(alpha, 1 / (state.n + 1));
}

/** Folds `x` into the state (no clamping). */
export function foldEwma(state: EwmaState, x: number, alpha: number): EwmaState {
  if (state.n === 0) return { n: 1, mean: x, variance: 0 };
  const a = foldWeight(state, alpha);
  const d = x - state.mean;
  const incr = a * d;
  return { n: state.n + 1, mean: state.mean + incr, variance: (1 - a) * (state.variance + d * incr) };
}

/**
 * The value robust mode folds in: `x` clamped to mean ± k·sd once the state is
 * warm, so a single outlier moves the state by at most αₙ·k·sd. A lasting level
 * change is still learned, because each clamped step widens the variance.
 */
export function robustValue(state: EwmaState, x: number, p: EwmaParams): number {
  if (!p.robust || state.n < p.warmup) return x;
  const sd = effectiveSd(state, p.minSd);
  const lo = state.mean - p.robustK * sd;
  const hi = state.mean + p.robustK * sd;
  return x < lo ? lo : Math.min(x, hi);
}

/** Scores `x` against the state, then folds it in (clamped in robust mode). */
export function updateEwma(state: EwmaState, x: number, p: EwmaParams): { score: EwmaScore; next: EwmaState } {
  const score = scoreEwma(state, x, p);
  return { score, next: foldEwma(state, robustValue(state, x, p), p.alpha) };
}

function clampZ(z: number): number {
  if (Number.isNaN(z)) return 0;
  return z > Z_CAP ? Z_CAP : Math.max(z, -Z_CAP);
}
