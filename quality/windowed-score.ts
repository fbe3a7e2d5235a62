/**
 * A windowed, early-rewarding detection score, after the rules of the public
 * Numenta Anomaly Benchmark (Lavin & Ahmad, "Evaluating Real-time Anomaly
 * Detection Algorithms", 2015), so a detector can be judged offline the way
 * that benchmark judges it:
 *
 * - each labelled anomaly has a window around it: together the windows of a
 *   series cover 10 % of its rows, shared equally, centred on the labels;
 * - the first rows of a series (15 %, at most 750) are probation: nothing
 *   there counts, detections or labels;
 * - a row whose score reaches the threshold is a detection. The first
 *   detection in a window earns `tp · σ(y)`, where y ∈ [−1, 0) is its
 *   position in the window and σ(y) = 2/(1 + e^{5y}) − 1, so detecting at the
 *   window's start earns ≈ 1 and at its end ≈ 0; later detections in the same
 *   window count nothing;
 * - a window without a detection costs `fn`;
 * - a detection outside every window costs `fp · σ(y)` with y its distance
 *   past the previous window in window lengths (an alarm just after an
 *   anomaly costs little, one far from any costs the full `fp`);
 * - the corpus total is normalised so a detector that never alarms scores 0
 *   and one that alarms at the start of every window scores 100.
 *
 * One threshold applies to the whole corpus; {@link bestThreshold} sweeps it
 * per profile, as the benchmark does for every detector it ranks.
 */

/** Weights of a scoring profile. */
export interface ScoreProfile {
  name: string;
  tp: number;
  fp: number;
  fn: number;
}

/** The benchmark's three profiles: standard, fewer false positives, fewer false negatives. */
export const PROFILES: readonly ScoreProfile[] = [
  { name: 'standard', tp: 1, fp: 0.11, fn: 1 },
  { name: 'low FP', tp: 1, fp: 0.22, fn: 1 },
  { name: 'low FN', tp: 1, fp: 0.11, fn: 2 },
];

/** A labelled window, as inclusive row indices. */
export interface ScoreWindow {
  start: number;
  end: number;
}

/** One series as the scorer sees it: its length, its windows and the detector's score per row. */
export interface ScoredSeries {
  length: number;
  windows: readonly ScoreWindow[];
  scores: ArrayLike<number>;
}

/** Outcome of one series or of a corpus at one threshold. */
export interface ScoreTally {
  raw: number;
  /** Windows found, windows missed, detections outside every window. */
  tp: number;
  fn: number;
  fp: number;
  windows: number;
}

/** Rows at the start of a series where nothing is scored. */
export function probationOf(length: number): number {
  return Math.min(Math.floor(0.15 * length), 750);
}

/** The scaled sigmoid of a relative position: ≈ 1 at −1, 0 at 0, → −1 beyond. */
export function scaledSigmoid(y: number): number {
  if (y > 3) return -1;
  return 2 / (1 + Math.exp(5 * y)) - 1;
}

/**
 * Windows for labels at `anomalies` (row indices): 10 % of the rows shared
 * equally, centred on each label, clipped to the series; overlapping ones merge.
 */
export function windowsFor(length: number, anomalies: readonly number[]): ScoreWindow[] {
  if (anomalies.length === 0) return [];
  const width = Math.max(1, Math.floor((0.1 * length) / anomalies.length));
  const windows: ScoreWindow[] = [];
  for (const a of [...anomalies].sort((x, y) => x - y)) {
    const start = Math.max(0, a - Math.floor(width / 2));
    const end = Math.min(length - 1, start + width - 1);
    const last = windows.at(-1);
    if (last && start <= last.end) last.end = Math.max(last.end, end);
    else windows.push({ start, end });
  }
  return windows;
}

/** Scores one series at `threshold` under `profile`. */
export function scoreSeries(series: ScoredSeries, threshold: number, profile: ScoreProfile): ScoreTally {
  const { length, windows, scores } = series;
  const probation = probationOf(length);
  const counted = windows.filter((w) => w.end >= probation);
  const tally: ScoreTally = { raw: 0, tp: 0, fn: 0, fp: 0, windows: counted.length };
  const found = new Array<boolean>(counted.length).fill(false);
  let w = 0; // the first window that does not end before the current row
  for (let i = probation; i < length; i++) {
    if (!(scores[i] >= threshold)) continue;
    while (w < counted.length && counted[w].end < i) w++;
    const inside = w < counted.length && counted[w].start <= i;
    if (inside) {
      if (found[w]) continue;
      found[w] = true;
      const win = counted[w];
      const y = -(win.end - i + 1) / (win.end - win.start + 1);
      tally.raw += profile.tp * scaledSigmoid(y);
      tally.tp++;
    } else {
      const prev = w > 0 ? counted[w - 1] : null;
      const y = prev ? (i - prev.end) / (prev.end - prev.start + 1) : Number.POSITIVE_INFINITY;
      tally.raw += profile.fp * scaledSigmoid(y);
      tally.fp++;
    }
  }
  for (const f of found) {
    if (f) continue;
    tally.raw -= profile.fn;
    tally.fn++;
  }
  return tally;
}

/** The corpus tally at one threshold, and its normalised score (0 = never alarms, 100 = perfect). */
export function scoreCorpus(
  corpus: readonly ScoredSeries[],
  threshold: number,
  profile: ScoreProfile,
): ScoreTally & { normalized: number } {
  const total: ScoreTally = { raw: 0, tp: 0, fn: 0, fp: 0, windows: 0 };
  for (const s of corpus) {
    const t = scoreSeries(s, threshold, profile);
    total.raw += t.raw;
    total.tp += t.tp;
    total.fn += t.fn;
    total.fp += t.fp;
    total.windows += t.windows;
  }
  const nullScore = -profile.fn * total.windows;
  const perfect = profile.tp * scaledSigmoid(-1) * total.windows;
  const normalized = total.windows === 0 ? 0 : (100 * (total.raw - nullScore)) / (perfect - nullScore);
  return { ...total, normalized };
}

/** Thresholds the sweep tries: a fine grid over (0, 1]. */
const SWEEP = Array.from({ length: 200 }, (_, i) => (i + 1) / 200);

/** The threshold that scores the corpus best under `profile`, and its score. */
export function bestThreshold(
  corpus: readonly ScoredSeries[],
  profile: ScoreProfile,
): { threshold: number } & ReturnType<typeof scoreCorpus> {
  let best = { threshold: 1, ...scoreCorpus(corpus, 1, profile) };
  for (const t of SWEEP) {
    const s = scoreCorpus(corpus, t, profile);
    if (s.normalized > best.normalized) best = { threshold: t, ...s };
  }
  return best;
}
