import { describe, expect, it } from 'vitest';
import {
  bestThreshold,
  PROFILES,
  probationOf,
  scaledSigmoid,
  scoreCorpus,
  scoreSeries,
  windowsFor,
  type ScoredSeries,
} from './windowed-score.ts';

const [standard, lowFp, lowFn] = PROFILES;

/** A 1,000-row series with one label at row 500 (a 100-row window, 450–549) and detections at `rows`. */
function series(rows: number[], length = 1000, labels = [500]): ScoredSeries {
  const scores = new Float64Array(length);
  for (const r of rows) scores[r] = 1;
  return { length, windows: windowsFor(length, labels), scores };
}

describe('windowed scoring', () => {
  it('gives each label a window of 10 % of the rows shared equally, centred, merging overlaps', () => {
    expect(windowsFor(1000, [500])).toEqual([{ start: 450, end: 549 }]);
    expect(windowsFor(1000, [300, 700])).toEqual([
      { start: 275, end: 324 },
      { start: 675, end: 724 },
    ]);
    expect(windowsFor(1000, [500, 510])).toEqual([{ start: 475, end: 534 }]);
    expect(windowsFor(1000, [2])).toEqual([{ start: 0, end: 99 }]);
    expect(windowsFor(1000, [])).toEqual([]);
  });

  it('leaves the first 15 % (at most 750 rows) unscored', () => {
    expect(probationOf(1000)).toBe(150);
    expect(probationOf(10_000)).toBe(750);
    // A detection in probation is neither a hit nor a false alarm.
    expect(scoreSeries(series([100]), 0.5, standard)).toMatchObject({ tp: 0, fp: 0, fn: 1, raw: -1 });
  });

  it('rewards the earliest detection in a window, ignores later ones there, and charges a missed window', () => {
    expect(scaledSigmoid(-1)).toBeCloseTo(0.9866, 4);
    expect(scaledSigmoid(0)).toBe(0);
    expect(scaledSigmoid(4)).toBe(-1);
    const early = scoreSeries(series([450, 460, 470]), 0.5, standard);
    expect(early).toMatchObject({ tp: 1, fp: 0, fn: 0 });
    expect(early.raw).toBeCloseTo(scaledSigmoid(-1), 10);
    const late = scoreSeries(series([540]), 0.5, standard);
    expect(late.raw).toBeCloseTo(scaledSigmoid(-10 / 100), 10);
    expect(late.raw).toBeLessThan(early.raw);
    expect(scoreSeries(series([]), 0.5, standard).raw).toBe(-1);
    expect(scoreSeries(series([]), 0.5, lowFn).raw).toBe(-2);
  });

  it('charges a false alarm by its distance past the last window, the full weight with none before it', () => {
    const before = scoreSeries(series([300, 450]), 0.5, standard);
    expect(before.fp).toBe(1);
    expect(before.raw).toBeCloseTo(scaledSigmoid(-1) - 0.11, 10);
    const justAfter = scoreSeries(series([450, 560]), 0.5, standard);
    const farAfter = scoreSeries(series([450, 900]), 0.5, standard);
    expect(justAfter.raw - scaledSigmoid(-1)).toBeCloseTo(0.11 * scaledSigmoid(11 / 100), 10);
    expect(farAfter.raw - scaledSigmoid(-1)).toBeCloseTo(-0.11, 10);
    expect(scoreSeries(series([450, 900]), 0.5, lowFp).raw - scaledSigmoid(-1)).toBeCloseTo(-0.22, 10);
  });

  it('normalises a corpus to 0 for a detector that never alarms and 100 for one at every window start', () => {
    const corpus = [series([]), series([], 2000, [800, 1500])];
    expect(scoreCorpus(corpus, 0.5, standard).normalized).toBe(0);
    const perfect = [series([450]), series([750, 1450], 2000, [800, 1500])];
    expect(perfect[1].windows).toEqual([
      { start: 750, end: 849 },
      { start: 1450, end: 1549 },
    ]);
    expect(scoreCorpus(perfect, 0.5, standard).normalized).toBeCloseTo(100, 10);
  });

  it('sweeps the threshold for the best corpus score', () => {
    // Strong scores on the hits, weaker ones on false alarms: the best threshold sits between them.
    const s = series([]);
    const scores = s.scores as Float64Array;
    scores[455] = 0.9;
    for (const r of [200, 300, 700, 800]) scores[r] = 0.6;
    const best = bestThreshold([s], standard);
    expect(best.threshold).toBeGreaterThan(0.6);
    expect(best.threshold).toBeLessThanOrEqual(0.9);
    expect(best).toMatchObject({ tp: 1, fp: 0, fn: 0 });
  });
});
