/**
 * Calibrating a test statistic against its own recent distribution: the
 * post-processing that lifts the best streaming detectors. A raw |z| of 6 is
 * rare in a Gaussian series and routine in bursty counts; what makes a value
 * anomalous is how far its score sits in the tail of the scores this series
 * usually gives.
 *
 * Each test keeps an online estimate q of a high quantile τ of its statistic
 * u (a stochastic-approximation quantile, multiplicative so it works at any
 * scale): every value above q raises it by a step, every value below lowers
 * it by a step (1 − τ)/τ as large, so q settles where a fraction 1 − τ of the
 * values exceed it. The calibrated statistic is u · qRef / q: the z a
 * Gaussian series would need to sit as deep in its tail. For Gaussian noise
 * it is u itself; for heavy tails it is smaller. The factor is bounded, so a
 * short or very regular series cannot make a detector hypersensitive. The
 * caller feeds q one step per excursion above it (see detector.ts), so a long
 * anomaly moves q by one step, while frequent bursts raise it.
 *
 * Pure functions of numbers; the caller keeps q in its state.
 */
import { probit } from 'simple-statistics';
import type { CalibrationParams } from './config.ts';

/** The τ-quantile of |N(0, 1)|: where q starts, and what it is compared with. */
export function referenceQuantile(tau: number): number {
  return probit(1 - (1 - tau) / 2);
}

/** q after seeing `u`. */
export function trackQuantile(q: number, u: number, p: CalibrationParams): number {
  return u > q ? q * (1 + p.step) : q / (1 + (p.step * (1 - p.tau)) / p.tau);
}

/** The factor that turns a statistic into Gaussian-equivalent units, given its tracked quantile `q`. */
export function calibrationFactor(q: number, qRef: number, p: CalibrationParams): number {
  const factor = q > 0 ? qRef / q : p.maxFactor;
  return Math.min(p.maxFactor, Math.max(p.minFactor, factor));
}
