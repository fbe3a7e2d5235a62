/**
 * The quiet detector: a channel that posts regularly and then stops.
 *
 * The usual gap G is a high quantile of the gaps between the channel's recent
 * publications (a high quantile, so a daytime channel's nightly pause counts
 * as usual). Once the channel has `minPosts` publications, it is quiet when
 * no post came for max(k·G, minGapMs); checked at the end of each final window
 * of the configured spec (so the moment is deterministic), resolved by the
 * next post. Posts closer than `burstMs` are one publication (albums).
 *
 * Its anomalies use {@link QUIET_METRIC}: value = hours since the last post,
 * expected = G in hours, band = [0, threshold hours], z = gap / G (how many
 * usual gaps passed; not a z-score).
 */
import type { Severity } from '../../streams/contract.ts';
import type { QuietConfig } from '../config.ts';

/** Metric name of quiet anomalies. */
export const QUIET_METRIC = 'posting_gap_hours';

/** Per channel: recent publication times and the open quiet anomaly. Plain JSON data. */
export interface QuietState {
  /** Distinct publication times, ascending, at most `history + 1`. */
  dates: number[];
  open: { openedAt: number; revision: number; severity: Severity } | null;
}

/** An opened/updated/resolved quiet anomaly. */
export interface QuietTransition {
  state: 'opened' | 'updated' | 'resolved';
  revision: number;
  openedAt: number;
  severity: Severity;
  gapMs: number;
  usualGapMs: number;
  thresholdMs: number;
}

export function createQuietState(): QuietState {
  return { dates: [], open: null };
}

/** G and the threshold max(k·G, minGap), or null while the channel has too few posts. */
export function quietThreshold(state: QuietState, cfg: QuietConfig): { usualGapMs: number; thresholdMs: number } | null {
  if (state.dates.length < cfg.minPosts) return null;
  const gaps: number[] = [];
  for (let i = 1; i < state.dates.length; i++) gaps.push(state.dates[i] - state.dates[i - 1]);
  gaps.sort((a, b) => a - b);
  const usualGapMs = quantile(gaps, cfg.quantile);
  return { usualGapMs, thresholdMs: Math.max(cfg.k * usualGapMs, cfg.minGapMs) };
}

/** Linear-interpolated quantile of sorted values. */
function quantile(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

function severityOf(gapMs: number, thresholdMs: number, cfg: QuietConfig): Severity {
  const r = gapMs / thresholdMs;
  return r >= cfg.severity.critical ? 'critical' : r >= cfg.severity.warning ? 'warning' : 'info';
}

/**
 * Records a publication. A post newer than every known one ends an open quiet
 * anomaly (`resolved`, with the length of the silence); older posts (backfill)
 * only fill in the history.
 */
export function notePost(state: QuietState, date: number, cfg: QuietConfig): { state: QuietState; resolved: QuietTransition | null } {
  const lastBefore = state.dates.length > 0 ? state.dates[state.dates.length - 1] : null;
  let resolved: QuietTransition | null = null;
  let open = state.open;
  if (open && lastBefore !== null && date > lastBefore + cfg.burstMs) {
    const t = quietThreshold(state, cfg);
    const gapMs = date - lastBefore;
    resolved = {
      state: 'resolved',
      revision: open.revision + 1,
      openedAt: open.openedAt,
      severity: t ? severityOf(gapMs, t.thresholdMs, cfg) : open.severity,
      gapMs,
      usualGapMs: t?.usualGapMs ?? 0,
      thresholdMs: t?.thresholdMs ?? 0,
    };
    open = null;
  }
  const dates = insertPublication(state.dates, date, cfg);
  return { state: { dates, open }, resolved };
}

/** Inserts a publication time unless it is within `burstMs` of a known one; keeps the newest history + 1. */
function insertPublication(dates: readonly number[], date: number, cfg: QuietConfig): number[] {
  if (dates.some((d) => Math.abs(d - date) < cfg.burstMs || d === date)) return dates as number[];
  const out = dates.slice();
  let i = out.length;
  while (i > 0 && out[i - 1] > date) i--;
  out.splice(i, 0, date);
  while (out.length > cfg.history + 1) out.shift();
  return out;
}

/**
 * Checks the silence at time `at` (a final window's end): opens the quiet
 * anomaly when the gap reaches the threshold, updates it when its severity
 * rises. `openedAt` is `at`.
 */
export function checkQuiet(state: QuietState, at: number, cfg: QuietConfig): { state: QuietState; transition: QuietTransition | null } {
  const t = quietThreshold(state, cfg);
  if (!t) return { state, transition: null };
  const gapMs = at - state.dates[state.dates.length - 1];
  if (gapMs < t.thresholdMs) return { state, transition: null };
  const severity = severityOf(gapMs, t.thresholdMs, cfg);
  const open = state.open;
  if (!open) {
    const opened = { openedAt: at, revision: 1, severity };
    return { state: { ...state, open: opened }, transition: { state: 'opened', revision: 1, openedAt: at, severity, gapMs, ...t } };
  }
  if (severity === open.severity) return { state, transition: null };
  const next = { ...open, revision: open.revision + 1, severity };
  return { state: { ...state, open: next }, transition: { state: 'updated', revision: next.revision, openedAt: open.openedAt, severity, gapMs, ...t } };
}
