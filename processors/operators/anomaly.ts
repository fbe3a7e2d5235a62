/**
 * The anomaly state machine of one series (channel, metric, window[, post]):
 *
 * ```text
 *         strength ≥ zOpen (allowed side, warm, no cooldown)
 *  closed ───────────────────────────────────────────────► open   → `opened`
 *    ▲                                                      │ strength ≥ zClose, same side → `updated`
 *    │  strength < zClose, or an outlier on the other side   │      (when severity or value changed)
 *    └──── cooldown (no reopen for N values) ◄───────────────┘ → `resolved` (repeats the peak)
 * ```
 *
 * Hysteresis (zClose < zOpen) keeps one lasting anomaly one alert; the
 * cooldown keeps a series that hovers around the threshold from flapping.
 * The scores it compares are the detector's `strength` (its calibrated
 * statistic, see detector.ts), and every event it emits carries an
 * {@link Explanation} whose direction, value − expected and z agree.
 * Pure: {@link stepAlarm} returns a new state.
 */
import type { AnomalyReason, Severity } from '../../streams/contract/index.ts';
import type { SeriesDirection, SeverityThresholds } from './config.ts';

/**
 * What an anomaly row says: the observed value against the expected one and
 * its band, and z = (value − expected) / sd. The direction of the row is the
 * side of value against expected, which is the sign of z.
 */
export interface Explanation {
  value: number;
  expected: number;
  bandLow: number;
  bandHigh: number;
  z: number;
}

/** An anomaly in progress. `openedAt` keys its stable id (see `anomalyKey`). */
export interface OpenAlarm {
  openedAt: number;
  /** Revision of the last event emitted for this anomaly (1 = opened). */
  revision: number;
  direction: SeriesDirection;
  severity: Severity;
  reason: AnomalyReason;
  value: number;
  /** The strongest reading so far on the anomaly's side: what its resolution reports. */
  peak: Explanation & { strength: number };
}

/** Alarm state of one series: plain data, JSON-safe. */
export interface AlarmState {
  open: OpenAlarm | null;
  /** Values still to pass before a new anomaly may open. */
  cooldown: number;
}

export interface AlarmParams {
  zOpen: number;
  zClose: number;
  cooldown: number;
  directions: readonly SeriesDirection[];
  severity: SeverityThresholds;
}

/** One scored value as the alarm sees it. */
export interface AlarmInput {
  /**
   * How anomalous the value is, in (calibrated) z units, ≥ 0: compared with
   * zOpen and zClose and mapped to a severity. For a plain z-score it is |z|.
   */
  strength: number;
  /** The test behind `strength`. */
  reason: AnomalyReason;
  /** False while the detector warms up: nothing opens or changes. */
  warm: boolean;
  /** Position of the value (window start, post time or row index); becomes `openedAt` on open. */
  at: number;
  explanation: Explanation;
}

/**
 * What happened to the series' anomaly at this value. `opened` and
 * `updated` explain the current value; `resolved` repeats the anomaly's
 * peak, so every row's direction agrees with its value − expected and z.
 */
export interface AlarmTransition extends Explanation {
  state: 'opened' | 'updated' | 'resolved';
  revision: number;
  openedAt: number;
  direction: SeriesDirection;
  severity: Severity;
  reason: AnomalyReason;
}

/** A series with no anomaly and no cooldown. */
export function closedAlarm(): AlarmState {
  return { open: null, cooldown: 0 };
}

/** Severity of a score: info from zOpen, then warning and critical at the configured |z|. */
export function severityOf(absZ: number, t: SeverityThresholds): Severity {
  return absZ >= t.critical ? 'critical' : absZ >= t.warning ? 'warning' : 'info';
}

/** The side of a value against its expectation. */
export function sideOf(z: number): SeriesDirection {
  return z >= 0 ? 'spike' : 'drop';
}

/** Advances the alarm by one scored value; returns the new state and the transition, if any. */
export function stepAlarm(
  state: AlarmState,
  input: AlarmInput,
  p: AlarmParams,
): { state: AlarmState; transition: AlarmTransition | null } {
  const { strength, explanation: e } = input;
  const side = sideOf(e.z);
  // A reading whose value − expected and z do not both point to one side cannot explain an anomaly (a zero, or
  // rounding at the edge of a transform): it may hold or end one, never open, update or peak one.
  const explains = e.z !== 0 && Math.sign(e.value - e.expected) === Math.sign(e.z);
  const open = state.open;
  if (open) {
    if (!input.warm) return { state, transition: null };
    // Over: nothing is anomalous any more, or the value itself is now out on the other side.
    if (strength < p.zClose || (side !== open.direction && input.reason === 'outlier')) return resolve(open, p);
    // Still anomalous (a shift or a spread change persists) while this value sits on the other side: nothing new to say.
    if (side !== open.direction || !explains) return { state, transition: null };
    const peak = strength > open.peak.strength ? { ...e, strength } : open.peak;
    const severity = severityOf(strength, p.severity);
    if (severity === open.severity && e.value === open.value) {
      return peak === open.peak
        ? { state, transition: null }
        : { state: { open: { ...open, peak }, cooldown: 0 }, transition: null };
    }
    const next: OpenAlarm = { ...open, revision: open.revision + 1, severity, value: e.value, peak };
    return {
      state: { open: next, cooldown: 0 },
      transition: {
        state: 'updated',
        revision: next.revision,
        openedAt: open.openedAt,
        direction: open.direction,
        severity,
        reason: open.reason,
        ...e,
      },
    };
  }
  if (state.cooldown > 0) return { state: { open: null, cooldown: state.cooldown - 1 }, transition: null };
  if (!input.warm || !explains || strength < p.zOpen || !p.directions.includes(side))
    return { state, transition: null };
  const severity = severityOf(strength, p.severity);
  const opened: OpenAlarm = {
    openedAt: input.at,
    revision: 1,
    direction: side,
    severity,
    reason: input.reason,
    value: e.value,
    peak: { ...e, strength },
  };
  return {
    state: { open: opened, cooldown: 0 },
    transition: {
      state: 'opened',
      revision: 1,
      openedAt: input.at,
      direction: side,
      severity,
      reason: input.reason,
      ...e,
    },
  };
}

/** Resolves `open`: the transition repeats its peak. */
function resolve(open: OpenAlarm, p: AlarmParams): { state: AlarmState; transition: AlarmTransition } {
  const { strength, ...peak } = open.peak;
  return {
    state: { open: null, cooldown: p.cooldown },
    transition: {
      state: 'resolved',
      revision: open.revision + 1,
      openedAt: open.openedAt,
      direction: open.direction,
      severity: severityOf(strength, p.severity),
      reason: open.reason,
      ...peak,
    },
  };
}

/** Ends an open anomaly without a new score (the series ended, e.g. the last age of a post was scored). */
export function closeAlarm(
  state: AlarmState,
  p: AlarmParams,
): { state: AlarmState; transition: AlarmTransition | null } {
  return state.open ? resolve(state.open, p) : { state, transition: null };
}
