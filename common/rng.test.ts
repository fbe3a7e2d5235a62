import { describe, expect, it } from 'vitest';
import { mean } from 'simple-statistics';
import { deriveSeed, Rng, seedToU32 } from './rng.ts';

function draws(rng: Rng, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(rng.next());
  return out;
}

describe('Rng', () => {
  it('repeats the same stream for the same seed and differs for another', () => {
    expect(draws(new Rng(7), 100)).toEqual(draws(new Rng(7), 100));
    expect(draws(new Rng(7), 100)).not.toEqual(draws(new Rng(8), 100));
  });

  it('derives independent sub-streams per key path', () => {
    const root = seedToU32(42);
    const a = draws(new Rng(deriveSeed(root, 0, 1)), 20);
    expect(draws(new Rng(deriveSeed(root, 1, 0)), 20)).not.toEqual(a);
    expect(draws(new Rng(deriveSeed(root, 0, 2)), 20)).not.toEqual(a);
    expect(draws(new Rng(deriveSeed(root, 0, 1)), 20)).toEqual(a);
  });

  it('folds text seeds and the high bits of large integer seeds', () => {
    expect(seedToU32('demo')).toBe(seedToU32('demo'));
    expect(seedToU32('demo')).not.toBe(seedToU32('demo2'));
    expect(seedToU32(2 ** 40 + 5)).not.toBe(seedToU32(5));
  });

  it('draws uniform values in [0, 1) with the right mean', () => {
    const xs = draws(new Rng(1), 50_000);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(mean(xs)).toBeCloseTo(0.5, 2);
  });

  it('draws normals with mean 0 and sd 1', () => {
    const rng = new Rng(2);
    const xs = Array.from({ length: 50_000 }, () => rng.normal());
    const m = mean(xs);
    const sd = Math.sqrt(mean(xs.map((x) => (x - m) ** 2)));
    expect(m).toBeCloseTo(0, 1);
    expect(sd).toBeCloseTo(1, 1);
  });

  it('draws Poisson counts with the requested mean, small and large', () => {
    const rng = new Rng(3);
    for (const lambda of [0.2, 4, 250]) {
      const xs = Array.from({ length: 20_000 }, () => rng.poisson(lambda));
      expect(xs.every((x) => Number.isInteger(x) && x >= 0)).toBe(true);
      expect(Math.abs(mean(xs) - lambda) / lambda).toBeLessThan(0.03);
    }
    expect(rng.poisson(0)).toBe(0);
  });

  it('keeps multiplicative noise at mean 1', () => {
    const rng = new Rng(4);
    expect(mean(Array.from({ length: 50_000 }, () => rng.noise(0.4)))).toBeCloseTo(1, 1);
  });

  it('picks by weight', () => {
    const rng = new Rng(5);
    const counts = [0, 0, 0];
    for (let i = 0; i < 30_000; i++) counts[rng.weighted([1, 0, 3])]++;
    expect(counts[1]).toBe(0);
    expect(counts[2] / counts[0]).toBeGreaterThan(2.7);
    expect(counts[2] / counts[0]).toBeLessThan(3.3);
  });

  it('draws integers within inclusive bounds', () => {
    const rng = new Rng(6);
    const xs = Array.from({ length: 5_000 }, () => rng.int(3, 6));
    expect(new Set(xs)).toEqual(new Set([3, 4, 5, 6]));
  });
});
