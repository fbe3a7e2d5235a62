import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  effectiveSd,
  emptyEwma,
  foldEwma,
  scoreEwma,
  updateEwma,
  Z_CAP,
  type EwmaParams,
  type EwmaState,
} from './ewma.ts';

const params = (over: Partial<EwmaParams> = {}): EwmaParams => ({
  alpha: 0.2,
  warmup: 5,
  robust: false,
  robustK: 3,
  minSd: { absolute: 0, relative: 0 },
  ...over,
});

/**
 * The exponentially weighted moments computed directly from their definition:
 * value i (0-based) enters with αᵢ = max(α, 1/(i+1)) and keeps weight αᵢ·Πⱼ>ᵢ(1 − αⱼ).
 */
function direct(xs: number[], alpha: number): { mean: number; variance: number } {
  const a = xs.map((_, i) => Math.max(alpha, 1 / (i + 1)));
  const w = xs.map((_, i) => a.slice(i + 1).reduce((p, aj) => p * (1 - aj), a[i]));
  const mean = xs.reduce((s, x, i) => s + w[i] * x, 0);
  const variance = xs.reduce((s, x, i) => s + w[i] * (x - mean) ** 2, 0);
  return { mean, variance };
}

function foldAll(xs: number[], alpha: number): EwmaState {
  return xs.reduce((s, x) => foldEwma(s, x, alpha), emptyEwma());
}

describe('EWMA mean and variance', () => {
  it('equal the exponentially weighted moments of all values seen (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.01, max: 1, noNaN: true }),
        fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { minLength: 1, maxLength: 60 }),
        (alpha, xs) => {
          const s = foldAll(xs, alpha);
          const d = direct(xs, alpha);
          const scale = 1 + Math.max(...xs.map(Math.abs));
          expect(s.n).toBe(xs.length);
          expect(Math.abs(s.mean - d.mean)).toBeLessThan(1e-9 * scale);
          expect(Math.abs(s.variance - d.variance)).toBeLessThan(1e-7 * scale * scale);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('start at the first value with zero variance', () => {
    expect(foldEwma(emptyEwma(), 7, 0.3)).toEqual({ n: 1, mean: 7, variance: 0 });
  });

  it('are the plain mean and variance until 1/alpha values were seen, so the first value does not dominate', () => {
    const s = foldAll([2, 4, 6, 8], 0.01);
    expect(s.mean).toBeCloseTo(5, 12);
    expect(s.variance).toBeCloseTo(5, 12); // population variance of 2, 4, 6, 8
  });

  it('never touch the state they are given', () => {
    const s = foldAll([1, 2, 3], 0.5);
    const copy = structuredClone(s);
    updateEwma(s, 100, params({ robust: true, warmup: 1 }));
    expect(s).toEqual(copy);
  });
});

describe('z-score', () => {
  it('is taken against the state before the value', () => {
    const s = foldAll([10, 12, 10, 12, 10, 12], 0.5);
    const { score, next } = updateEwma(s, 30, params());
    expect(score.mean).toBe(s.mean);
    expect(score.sd).toBeCloseTo(Math.sqrt(s.variance), 12);
    expect(score.z).toBeCloseTo((30 - s.mean) / Math.sqrt(s.variance), 12);
    expect(next.n).toBe(s.n + 1);
  });

  it('is 0 for the first value of a series', () => {
    expect(scoreEwma(emptyEwma(), 42, params()).z).toBe(0);
  });

  it('is warm only once `warmup` values were folded in', () => {
    const p = params({ warmup: 3 });
    expect(scoreEwma(foldAll([1, 2], 0.2), 1, p).warm).toBe(false);
    expect(scoreEwma(foldAll([1, 2, 3], 0.2), 1, p).warm).toBe(true);
  });

  it('uses the sd floor on a flat series and stays finite without one', () => {
    const flat = foldAll([5, 5, 5, 5], 0.2);
    expect(scoreEwma(flat, 6, params({ minSd: { absolute: 0.5, relative: 0 } })).z).toBeCloseTo(2, 12);
    expect(scoreEwma(flat, 6, params({ minSd: { absolute: 0, relative: 0.1 } })).z).toBeCloseTo(2, 12);
    const unfloored = scoreEwma(flat, 6, params()).z;
    expect(Number.isFinite(unfloored)).toBe(true);
    expect(unfloored).toBe(Z_CAP);
  });

  it('floors the sd at the largest of absolute and relative minimum', () => {
    const s: EwmaState = { n: 10, mean: 100, variance: 4 };
    expect(effectiveSd(s, { absolute: 1, relative: 0 })).toBe(2);
    expect(effectiveSd(s, { absolute: 3, relative: 0 })).toBe(3);
    expect(effectiveSd(s, { absolute: 3, relative: 0.05 })).toBe(5);
  });
});

describe('robust mode', () => {
  const noisy = Array.from({ length: 40 }, (_, i) => 100 + (i % 2 === 0 ? 1 : -1));

  it('folds an outlier in as mean ± k·sd, so one anomaly barely moves the state', () => {
    const s = foldAll(noisy, 0.1);
    const robust = updateEwma(s, 1000, params({ alpha: 0.1, robust: true, robustK: 3 })).next;
    const plain = updateEwma(s, 1000, params({ alpha: 0.1 })).next;
    const sd = Math.sqrt(s.variance);
    // 40 values seen, so the weight is alpha itself (0.1 > 1/41).
    expect(robust.mean - s.mean).toBeCloseTo(0.1 * 3 * sd, 9);
    expect(plain.mean - s.mean).toBeGreaterThan(80);
    expect(Math.sqrt(robust.variance)).toBeLessThan(3 * sd);
    expect(Math.sqrt(plain.variance)).toBeGreaterThan(50 * sd);
  });

  it('does not clamp while warming up', () => {
    const s = foldAll([1, 2], 0.5);
    const p = params({ alpha: 0.5, robust: true, warmup: 5 });
    expect(updateEwma(s, 100, p).next).toEqual(foldEwma(s, 100, 0.5));
  });

  it('still learns a lasting level shift', () => {
    const p = params({ alpha: 0.1, robust: true, robustK: 3, warmup: 5 });
    let s = foldAll(noisy, 0.1);
    const zs: number[] = [];
    for (let i = 0; i < 80; i++) {
      const r = updateEwma(s, 200 + (i % 2 === 0 ? 1 : -1), p);
      zs.push(r.score.z);
      s = r.next;
    }
    expect(zs[0]).toBeGreaterThan(10);
    expect(Math.abs(zs[zs.length - 1])).toBeLessThan(2);
  });
});
