import { describe, expect, it } from 'vitest';
import { genericSeriesConfig, scoreSeries } from '../processors/operators/index.ts';
import { runOfflineBenchmark } from './offline-benchmark.ts';
import { previous } from '../bench/reference-detectors.ts';
import { FAMILIES, generateCorpus } from './series-families.ts';

describe('labelled series families', () => {
  const corpus = generateCorpus(11);

  it('are a pure function of the seed, with every family and labels past the unscored start', () => {
    expect(generateCorpus(11)).toEqual(corpus);
    expect(generateCorpus(12)[0].values).not.toEqual(corpus[0].values);
    expect(new Set(corpus.map((s) => s.family))).toEqual(new Set(FAMILIES));
    for (const s of corpus) {
      expect(s.timestamps).toHaveLength(s.values.length);
      for (const a of s.anomalies) {
        expect(a).toBeGreaterThanOrEqual(0.15 * s.values.length);
        expect(a).toBeLessThan(s.values.length);
      }
      expect(s.family.startsWith('quiet_') === (s.anomalies.length === 0)).toBe(true);
    }
    // Some series lose samples, as real exports do.
    expect(corpus.some((s) => s.values.includes(null))).toBe(true);
  });
});

describe('the offline benchmark', () => {
  it('scores tgpulse detect far above its previous default, on series the simulator did not make', () => {
    const corpus = generateCorpus(21);
    const now = runOfflineBenchmark(corpus, (t, v) => scoreSeries(v, t, genericSeriesConfig));
    const before = runOfflineBenchmark(corpus, previous);
    const [standard, lowFp, lowFn] = now.profiles;
    expect(standard.normalized).toBeGreaterThan(70);
    expect(lowFp.normalized).toBeGreaterThan(60);
    expect(lowFn.normalized).toBeGreaterThan(75);
    expect(standard.normalized).toBeGreaterThan(before.profiles[0].normalized + 20);
    expect(lowFp.normalized).toBeGreaterThan(before.profiles[1].normalized + 20);
    // 0.5 is the threshold the scores are made for: it is (almost) the best one.
    expect(now.atHalf[0].normalized).toBeGreaterThan(standard.normalized - 2);
    // Seasonal breaks are found only through the daily model the timestamps give.
    const seasonal = now.families.find((f) => f.family === 'seasonal_break');
    expect(seasonal?.normalized).toBeGreaterThan(80);
    expect(before.families.find((f) => f.family === 'seasonal_break')?.normalized).toBeLessThan(20);
  });
});
