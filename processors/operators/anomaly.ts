/**
 * The anomaly state machine of one series (channel, metric, window[, post]):
 *
 * ```text
 *            |z| ≥ zOpen (allowed direction, warm, no cooldown)
 *  closed ───────────────────────────────────────────────► open   → `opened`
 *    ▲                                                      │ |z| ≥ zClose, same side → `updated`
 *    │         |z| < zClose or z changed side                │      (when severity or value changed)
 *    └──── cooldown (no reopen for N values) ◄───────────────┘ → `resolved`
 * ```
 *
 * Hysteresis (zClose < zOpen) keeps one lasting anomaly one alert; the
 * cooldown keeps a series that hovers around the threshold from flapping.
 * Pure: {@link stepAlarm} returns a new state.
 */
import type { Severity } from '../../streams/contract/index.ts';
import type { SeriesDirection, SeverityThresholds } from './config.ts';

/** An anomaly in progress. `openedAt` keys its stable id (see `anomalyKey`). */
export interface OpenAlarm {
  openedAt: number;
  /** Revision of the last event emitted for this anomaly (1 = opened). */
  revision: number;
  direction: SeriesDirection;
  severity: Severity;
  value: number;
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
  z: number;
  /** False while the detector warms up: nothing opens or changes. */
  warm: boolean;
  value: number;
  /** Position of the value (window start, post time or row index); becomes `openedAt` on open. */
  at: number;
}

/** What happened to the series' anomaly at this value. */
export interface AlarmTransition {
  state: 'opened' | 'updated' | 'resolved';
  revision: number;
  openedAt: number;
  direction: SeriesDirection;
  severity: Severity;
  z: number;
  value: number;
}

/** A series with no anomaly and no cooldown. */
export function closedAlarm(): AlarmState {
  return { open: null, cooldown: 0 };
}

/** Severity of a score: info from zOpen, then warning and critical at the configured |z|. */
export function severityOf(absZ: number, t: SeverityThresholds): Severity {
  return absZ >= t.critical ? 'critical' : absZ >= t.warning ? 'warning' : 'info';
}

/** Advances the alarm by one scored value; returns the new state and the transition, if any. */
export function stepAlarm(
  state: AlarmState,
  input: AlarmInput,
  p: AlarmParams,
): { state: AlarmState; transition: AlarmTransition | null } {
  const { z, value } = input;
  const side: SeriesDirection = z >= 0 ? 'spike' : 'drop';
  const absZ = Math.abs(z);
  const open = state.open;
  if (open) {
    if (!input.warm) return { state, transition: null };
    if (absZ >= p.zClose && side === open.direction) {
      const severity = severityOf(absZ, p.severity);
      if (severity === open.severity && value === open.value) return { state, transition: null };
      const next: OpenAlarm = { ...open, revision: open.revision + 1, severity, value };
      return {
        state: { open: next, cooldown: 0 },
        transition: {
          state: 'updated',
          revision: next.revision,
          openedAt: open.openedAt,
          direction: open.direction,
          severity,
          z,
          value,
        },
      };
    }
    const transition: AlarmTransition = {
      state: 'resolved',
      revision: open.revision + 1,
      openedAt: open.openedAt,
      direction: open.direction,
      severity: severityOf(absZ, p.severity),
      z,
      value,
    };
    return { state: { open: null, cooldown: p.cooldown }, transition };
  }
  if (state.cooldown > 0) return { state: { open: null, cooldown: state.cooldown - 1 }, transition: null };
  if (!input.warm || absZ < p.zOpen || !p.directions.includes(side)) return { state, transition: null };
  const severity = severityOf(absZ, p.severity);
  const opened: OpenAlarm = { openedAt: input.at, revision: 1, direction: side, severity, value };
  return {
    state: { open: opened, cooldown: 0 },
    transition: { state: 'opened', revision: 1, openedAt: input.at, direction: side, severity, z, value },
  };
}

/**
 * Ends an open anomaly without a new score (the series ended, e.g. the last
 * age of a post was scored); the transition repeats the last value.
 */
export function closeAlarm(
  state: AlarmState,
  last: { z: number; value: number },
  p: AlarmParams,
): { state: AlarmState; transition: AlarmTransition | null } {
  const open = state.open;
  if (!open) return { state, transition: null };
  return {
    state: { open: null, cooldown: p.cooldown },
    transition: {
      state: 'resolved',
      revision: open.revision + 1,
      openedAt: open.openedAt,
      direction: open.direction,
      severity: severityOf(Math.abs(last.z), p.severity),
      z: last.z,
      value: last.value,
    },
  };
}
