/**
 * A small seeded pseudo-random generator: the simulator, the detection
 * benchmark's series and the fault tests draw from it.
 *
 * Everything the simulator produces must be a pure function of its seed, so
 * `Math.random` is never used. Each concern of each channel (posting,
 * counters, members, anomalies) gets its own sub-stream derived from
 * `(seed, channel index, stream tag)`: adding channels or changing how often
 * one concern draws numbers never shifts the numbers another one sees.
 *
 * The generator is a 32-bit counter passed through an avalanche hash (the
 * splitmix idea in 32 bits). Its period of 2^32 draws per sub-stream is far
 * more than one channel uses in a simulated year.
 */
import { fnv1a32 } from './hash.ts';

const TWO_POW_32 = 4294967296;
const GOLDEN_GAMMA = 0x9e3779b9;

/** 32-bit avalanche finalizer: every input bit flips about half the output bits. */
export function mix32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** A user seed: any integer (all 53 bits count) or any text. */
export type Seed = number | string;

/** Folds a seed into 32 bits, keeping the high bits of large integers. */
export function seedToU32(seed: Seed): number {
  if (typeof seed === 'string') return mix32(fnv1a32(seed));
  const lo = seed >>> 0;
  const hi = Math.floor(seed / TWO_POW_32) >>> 0;
  return mix32(lo ^ mix32(hi + GOLDEN_GAMMA));
}

/**
 * Derives the seed of an independent sub-stream from a root seed and integer
 * keys, e.g. `deriveSeed(root, channelIndex, Stream.Posts)`.
 */
export function deriveSeed(root: number, ...keys: number[]): number {
  let h = mix32(root ^ 0x5bd1e995);
  for (const k of keys) {
    const lo = k >>> 0;
    const hi = Math.floor(k / TWO_POW_32) >>> 0;
    h = mix32((h ^ mix32((lo + GOLDEN_GAMMA) >>> 0) ^ mix32(hi ^ 0x27d4eb2f)) >>> 0);
  }
  return h;
}

/**
 * A deterministic random stream.
 *
 * ```ts
 * const rng = new Rng(deriveSeed(seedToU32('demo'), 0, 1));
 * const posts = rng.poisson(3.2);
 * ```
 */
export class Rng {
  #state: number;
  #spare = 0;
  #hasSpare = false;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.#state = (this.#state + GOLDEN_GAMMA) | 0;
    return mix32(this.#state) / TWO_POW_32;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Uniform integer in [lo, hi], both inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor((hi - lo + 1) * this.next());
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** Log-uniform in [lo, hi): spreads values evenly over orders of magnitude. */
  logUniform(lo: number, hi: number): number {
    return lo * Math.exp(Math.log(hi / lo) * this.next());
  }

  /** Standard normal (Box–Muller; the second value of each pair is kept for the next call). */
  normal(): number {
    if (this.#hasSpare) {
      this.#hasSpare = false;
      return this.#spare;
    }
    let u = this.next();
    while (u === 0) u = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    const theta = 2 * Math.PI * this.next();
    this.#spare = r * Math.sin(theta);
    this.#hasSpare = true;
    return r * Math.cos(theta);
  }

  /** Normal with the given mean and standard deviation. */
  gaussian(mean: number, sd: number): number {
    return mean + sd * this.normal();
  }

  /** exp(N(mu, sigma)): multiplicative noise that never goes negative. */
  lognormal(mu: number, sigma: number): number {
    return Math.exp(mu + sigma * this.normal());
  }

  /** Multiplicative noise with mean exactly 1 and log-sd `sigma`. */
  noise(sigma: number): number {
    return Math.exp(sigma * this.normal() - 0.5 * sigma * sigma);
  }

  /**
   * Poisson count with mean `lambda`: exact (Knuth) for small means, a rounded
   * normal approximation above 30 where the difference is immaterial here.
   */
  poisson(lambda: number): number {
    if (!(lambda > 0)) return 0;
    if (lambda > 30) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * this.normal()));
    const limit = Math.exp(-lambda);
    let k = 0;
    let p = this.next();
    while (p > limit) {
      k++;
      p *= this.next();
    }
    return k;
  }

  /** One element of a non-empty array, uniformly. */
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(items.length * this.next())];
  }

  /** Index drawn with probability proportional to `weights` (non-negative, not all zero). */
  weighted(weights: ArrayLike<number>): number {
    let total = 0;
    for (let i = 0; i < weights.length; i++) total += weights[i];
    let r = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i];
      if (r < 0) return i;
    }
    return weights.length - 1;
  }
}
