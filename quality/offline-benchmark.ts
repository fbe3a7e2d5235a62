/**
 * The offline detection benchmark: a scorer (anything mapping a series to a
 * score per row) run over a labelled corpus and judged with the windowed
 * rules of `windowed-score.ts`, per profile at its best threshold, and per
 * family at the standard profile's threshold.
 *
 * ```ts
 * const result = runOfflineBenchmark(generateCorpus(1), (t, v) => detectSeries(t, v));
 * ```
 */
import type { LabelledSeries } from './series-families.ts';
import {
  bestThreshold,
  PROFILES,
  type ScoredSeries,
  scoreCorpus,
  type ScoreTally,
  windowsFor,
} from './windowed-score.ts';

/** A detector as the benchmark runs it: timestamps and values in, a score in [0, 1] per row out. */
export type SeriesScorer = (timestamps: readonly number[], values: readonly (number | null)[]) => ArrayLike<number>;

export interface ProfileResult extends ScoreTally {
  profile: string;
  threshold: number;
  normalized: number;
}

export interface FamilyResult extends ScoreTally {
  family: string;
  /** Normalised score of the family alone; null for families without labels. */
  normalized: number | null;
}

export interface OfflineResult {
  profiles: ProfileResult[];
  /** Every profile at the fixed threshold 0.5, where a score means an alarm. */
  atHalf: ProfileResult[];
  families: FamilyResult[];
  rows: number;
  /** Rows scored per second (the scorer alone). */
  rowsPerSecond: number;
}

export function runOfflineBenchmark(corpus: readonly LabelledSeries[], scorer: SeriesScorer): OfflineResult {
  const scored: (ScoredSeries & { family: string })[] = [];
  let rows = 0;
  let ms = 0;
  for (const s of corpus) {
    const t0 = performance.now();
    const scores = scorer(s.timestamps, s.values);
    ms += performance.now() - t0;
    rows += s.values.length;
    scored.push({
      family: s.family,
      length: s.values.length,
      windows: windowsFor(s.values.length, s.anomalies),
      scores,
    });
  }
  const profiles = PROFILES.map((p) => {
    const best = bestThreshold(scored, p);
    return { profile: p.name, ...best };
  });
  const atHalf = PROFILES.map((p) => ({ profile: p.name, threshold: 0.5, ...scoreCorpus(scored, 0.5, p) }));
  const standard = PROFILES[0];
  const threshold = profiles[0].threshold;
  const families = [...new Set(scored.map((s) => s.family))].map((family) => {
    const r = scoreCorpus(
      scored.filter((s) => s.family === family),
      threshold,
      standard,
    );
    return { family, ...r, normalized: r.windows === 0 ? null : r.normalized };
  });
  return { profiles, atHalf, families, rows, rowsPerSecond: rows / (ms / 1000) };
}
