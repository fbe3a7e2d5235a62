/**
 * The quiet detector: a channel that posts regularly and then stops.
 *
 * A silence is judged by how many posts the channel would usually have
 * published in it, not by its length: per slot of the day (the hour of day,
 * UTC, for a `1h` check window), an EWMA across days of the channel's
 * publications in that slot is its usual rate. At the end of each final
 * check window, λ = the sum of the usual rates over the time since the last
 * publication is the number of posts the silence "should" have held. If
 * posting is a Poisson process with those rates, the chance of a silence that
 * long is e^−λ, and a channel publishing P times a day has P silences a day
 * to be unlucky in, so the silence is anomalous once
 *
 * ```text
 * λ ≥ λ* = max(minExpectedPosts, ln(P / falseAlarmsPerDay))   and   gap ≥ minGapMs
 * ```
 *
 * which keeps the false alarms of a channel near `falseAlarmsPerDay`
 * whatever its volume. The night is not a silence (its slots have rates near
 * zero), and a slow channel's long but normal gaps hold few expected posts.
 * An open quiet anomaly resolves at the next publication. Posts closer than
 * `burstMs` are one publication (albums). The silence of an open anomaly is
 * not learned as the channel's new habit.
 *
 * Its anomalies use {@link QUIET_METRIC}: value = hours since the last post,
 * expected = the channel's mean hours between posts, band = [0, threshold
 * hours] (the gap at which λ reaches λ* from the last post), z = λ: the posts
 * that usually would have come and did not (for a channel posting evenly, the
 * number of usual gaps that passed; not a z-score).
 */
import type { Severity } from '../../streams/contract/index.ts';
import type { QuietConfig } from './config.ts';
import { DAY_MS } from '../../common/index.ts';

/** Per channel: the usual posting rate per slot of the day, the last publication and the open quiet anomaly. Plain JSON data. */
export interface QuietState {
  /** Latest publication time, or null before the first. */
  last: number | null;
  /** Publications not yet folded into their slot (at or after `foldedUntil` − burstMs), ascending. */
  recent: number[];
  /** End of the last check window folded into the rates (null before the first). */
  foldedUntil: number | null;
  /** λ: publications expected from `last` to `foldedUntil` at the rates of each window's time, accumulated window by window. */
  expected: number;
  /** Usual publications per check window, per slot of the day (EWMA across days). */
  rates: number[];
  /** Days folded into each slot. */
  days: number[];
  open: { openedAt: number; revision: number; severity: Severity } | null;
}

/** An opened/updated/resolved quiet anomaly. */
export interface QuietTransition {
  state: 'opened' | 'updated' | 'resolved';
  revision: number;
  openedAt: number;
  severity: Severity;
  gapMs: number;
  /** Mean time between publications at the usual rates (0 if unknown). */
  usualGapMs: number;
  /** The gap at which the silence crosses the threshold (0 if unknown). */
  thresholdMs: number;
  /** Publications expected in the silence (λ). */
  expectedPosts: number;
}

/** A check window: [start, end), and whether it holds the channel's full data (folded into the rates only then). */
export interface QuietWindow {
  start: number;
  end: number;
  complete: boolean;
}

/** Number of slots a day has at a check window's hop (24 for hourly checks). */
export function slotsPerDay(hopMs: number): number {
  return Math.max(1, Math.round(DAY_MS / hopMs));
}

export function createQuietState(): QuietState {
  return { last: null, recent: [], foldedUntil: null, expected: 0, rates: [], days: [], open: null };
}

/** The slot of the day of a time, for check windows of `hopMs`. */
function slotOf(t: number, hopMs: number): number {
  const n = slotsPerDay(hopMs);
  const i = Math.floor(t / hopMs) % n;
  return i < 0 ? i + n : i;
}

/** Whether every slot of the day has seen `warmupDays` days. */
function isWarm(state: QuietState, hopMs: number, cfg: QuietConfig): boolean {
  const n = slotsPerDay(hopMs);
  if (state.days.length < n) return false;
  for (let i = 0; i < n; i++) if (state.days[i] < cfg.warmupDays) return false;
  return true;
}

/** Usual publications per day (the sum of the slot rates). */
function postsPerDay(state: QuietState): number {
  let s = 0;
  for (const r of state.rates) s += r;
  return s;
}

/** λ*: the expected posts a silence must hold to be anomalous, for a channel publishing `perDay` times a day. */
export function quietLambda(perDay: number, cfg: QuietConfig): number {
  return Math.max(cfg.minExpectedPosts, perDay > 0 ? Math.log(perDay / cfg.falseAlarmsPerDay) : 0);
}

/** Publications expected in [from, to) at the state's usual rates. */
export function expectedPosts(state: QuietState, from: number, to: number, hopMs: number): number {
  let lambda = 0;
  let t = from;
  while (t < to) {
    const next = Math.min(to, (Math.floor(t / hopMs) + 1) * hopMs);
    lambda += (state.rates[slotOf(t, hopMs)] ?? 0) * ((next - t) / hopMs);
    t = next;
  }
  return lambda;
}

/** The time after `from` at which the expected publications reach `target` (null if not within `horizonMs`). */
function timeToExpected(
  state: QuietState,
  from: number,
  target: number,
  hopMs: number,
  horizonMs: number,
): number | null {
  let lambda = 0;
  let t = from;
  while (t < from + horizonMs) {
    const next = (Math.floor(t / hopMs) + 1) * hopMs;
    const rate = (state.rates[slotOf(t, hopMs)] ?? 0) / hopMs;
    if (rate > 0 && lambda + rate * (next - t) >= target) return t + (target - lambda) / rate - from;
    lambda += rate * (next - t);
    t = next;
  }
  return null;
}

/** λ* for the state's usual rates, or null while they are warming up. */
function lambdaStar(state: QuietState, hopMs: number, cfg: QuietConfig): number | null {
  return isWarm(state, hopMs, cfg) ? quietLambda(postsPerDay(state), cfg) : null;
}

/**
 * The usual gap, the threshold λ* and the gap at which a silence starting at
 * `from` crosses it (at least `minGapMs`); null while the rates are warming up.
 */
export function quietThreshold(
  state: QuietState,
  from: number,
  hopMs: number,
  cfg: QuietConfig,
): { usualGapMs: number; lambda: number; thresholdMs: number } | null {
  const lambda = lambdaStar(state, hopMs, cfg);
  if (lambda === null) return null;
  const perDay = postsPerDay(state);
  const crossing = timeToExpected(state, from, lambda, hopMs, 60 * DAY_MS);
  return { usualGapMs: perDay > 0 ? DAY_MS / perDay : 0, lambda, thresholdMs: Math.max(cfg.minGapMs, crossing ?? 0) };
}

function severityOf(expected: number, lambda: number, cfg: QuietConfig): Severity {
  const r = lambda > 0 ? expected / lambda : 0;
  return r >= cfg.severity.critical ? 'critical' : r >= cfg.severity.warning ? 'warning' : 'info';
}

/**
 * Records a publication. A publication newer than every known one ends an
 * open quiet anomaly (`resolved`, with the length of the silence); older ones
 * (backfill, or within `burstMs` of a known one) change nothing else.
 * Publications at or after the last folded window wait in `recent` to be
 * counted into their slot.
 */
export function notePost(
  state: QuietState,
  date: number,
  hopMs: number,
  cfg: QuietConfig,
): { state: QuietState; resolved: QuietTransition | null } {
  if (state.recent.some((d) => d === date || Math.abs(d - date) < cfg.burstMs)) return { state, resolved: null };
  if (state.last !== null && Math.abs(state.last - date) < cfg.burstMs) return { state, resolved: null };
  let resolved: QuietTransition | null = null;
  let open = state.open;
  const newest = state.last === null || date > state.last;
  if (open && newest && state.last !== null) {
    const t = quietThreshold(state, state.last, hopMs, cfg);
    const gapMs = date - state.last;
    const lambda =
      state.expected + expectedPosts(state, Math.max(state.last, state.foldedUntil ?? state.last), date, hopMs);
    resolved = {
      state: 'resolved',
      revision: open.revision + 1,
      openedAt: open.openedAt,
      severity: t ? severityOf(lambda, t.lambda, cfg) : open.severity,
      gapMs,
      usualGapMs: t?.usualGapMs ?? 0,
      thresholdMs: t?.thresholdMs ?? 0,
      expectedPosts: lambda,
    };
    open = null;
  }
  let recent = state.recent;
  if (state.foldedUntil === null || date >= state.foldedUntil) {
    recent = state.recent.slice();
    let i = recent.length;
    while (i > 0 && recent[i - 1] > date) i--;
    recent.splice(i, 0, date);
  }
  // λ restarts at the new publication (from the last folded window end, when it came late).
  let expected = state.expected;
  if (newest)
    expected =
      state.foldedUntil !== null && date < state.foldedUntil ? expectedPosts(state, date, state.foldedUntil, hopMs) : 0;
  return { state: { ...state, last: newest ? date : state.last, recent, expected, open }, resolved };
}

/**
 * Checks the silence at the end of a final check window: opens the quiet
 * anomaly when λ since the last publication reaches λ* (and the gap
 * `minGapMs`), raises its severity as the silence grows; then folds the
 * window's publications into its slot's rate (complete windows only, and
 * not while an anomaly is open). `openedAt` is the window's end.
 */
export function checkQuiet(
  state: QuietState,
  w: QuietWindow,
  cfg: QuietConfig,
): { state: QuietState; transition: QuietTransition | null } {
  const hopMs = w.end - w.start;
  let transition: QuietTransition | null = null;
  let open = state.open;
  let expected = state.expected;
  if (state.last !== null && state.last < w.end) {
    // This window's share of the silence, at the usual rate of its slot (before this window is folded in).
    const from = Math.max(w.start, state.last, state.foldedUntil ?? -Infinity);
    if (from < w.end) expected += ((state.rates[slotOf(w.start, hopMs)] ?? 0) * (w.end - from)) / hopMs;
    const lambda = lambdaStar(state, hopMs, cfg);
    const gapMs = w.end - state.last;
    if (lambda !== null && gapMs >= cfg.minGapMs && expected >= lambda) {
      const severity = severityOf(expected, lambda, cfg);
      if (!open || severity !== open.severity) {
        const t = quietThreshold(state, state.last, hopMs, cfg)!;
        const common = {
          severity,
          gapMs,
          usualGapMs: t.usualGapMs,
          thresholdMs: t.thresholdMs,
          expectedPosts: expected,
        };
        if (!open) {
          open = { openedAt: w.end, revision: 1, severity };
          transition = { state: 'opened', revision: 1, openedAt: w.end, ...common };
        } else {
          open = { ...open, revision: open.revision + 1, severity };
          transition = { state: 'updated', revision: open.revision, openedAt: open.openedAt, ...common };
        }
      }
    }
  }
  return { state: fold({ ...state, open, expected }, w, cfg), transition };
}

/** Counts the window's publications into its slot and forgets publications no later window needs. */
function fold(state: QuietState, w: QuietWindow, cfg: QuietConfig): QuietState {
  const hopMs = w.end - w.start;
  let count = 0;
  for (const d of state.recent) if (d >= w.start && d < w.end) count++;
  const recent = state.recent.filter((d) => d >= w.end - cfg.burstMs);
  if (!w.complete || state.open) return { ...state, recent, foldedUntil: w.end };
  const slot = slotOf(w.start, hopMs);
  const n = slotsPerDay(hopMs);
  const rates = state.rates.slice();
  const days = state.days.slice();
  while (rates.length < n) rates.push(0);
  while (days.length < n) days.push(0);
  // Plain mean of the first 1/alpha days, then an EWMA: early days do not dominate.
  const a = Math.max(cfg.alpha, 1 / (days[slot] + 1));
  rates[slot] += a * (count - rates[slot]);
  days[slot] += 1;
  return { ...state, recent, foldedUntil: w.end, rates, days };
}
