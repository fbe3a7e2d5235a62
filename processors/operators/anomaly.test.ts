import { describe, expect, it } from 'vitest';
import {
  closeAlarm,
  closedAlarm,
  severityOf,
  stepAlarm,
  type AlarmParams,
  type AlarmState,
  type AlarmTransition,
  type AlarmInput,
} from './anomaly.ts';

const params: AlarmParams = {
  zOpen: 4,
  zClose: 2,
  cooldown: 2,
  directions: ['spike', 'drop'],
  severity: { warning: 5, critical: 7 },
};

/** An outlier reading of z (value = 100 + z, expected 100, sd 1), or of another test with `strength`. */
function reading(z: number, at: number, warm = true, other?: Pick<AlarmInput, 'strength' | 'reason'>): AlarmInput {
  return {
    strength: other?.strength ?? Math.abs(z),
    reason: other?.reason ?? 'outlier',
    warm,
    at,
    explanation: { value: 100 + z, expected: 100, bandLow: 96, bandHigh: 104, z },
  };
}

/** Runs a sequence of z values (at = index × 10) and collects the transitions. */
function run(
  zs: number[],
  p: AlarmParams = params,
  warm = true,
): { transitions: (AlarmTransition | null)[]; state: AlarmState } {
  let state = closedAlarm();
  const transitions = zs.map((z, i) => {
    const r = stepAlarm(state, reading(z, i * 10, warm), p);
    state = r.state;
    return r.transition;
  });
  return { transitions, state };
}

describe('anomaly state machine', () => {
  it('opens at |z| ≥ zOpen with the direction of z', () => {
    const { transitions } = run([1, 4, 0]);
    expect(transitions[0]).toBeNull();
    expect(transitions[1]).toMatchObject({
      state: 'opened',
      revision: 1,
      direction: 'spike',
      openedAt: 10,
      severity: 'info',
    });
    expect(run([-4.5]).transitions[0]).toMatchObject({ state: 'opened', direction: 'drop' });
  });

  it('stays open while |z| ≥ zClose on the same side, emitting `updated` when the value or severity changes', () => {
    const { transitions } = run([4, 6, 6, 2.5]);
    expect(transitions.map((t) => t?.state ?? null)).toEqual(['opened', 'updated', null, 'updated']);
    expect(transitions[1]).toMatchObject({ revision: 2, severity: 'warning', openedAt: 0 });
    expect(transitions[3]).toMatchObject({ revision: 3, severity: 'info', openedAt: 0 });
  });

  it('resolves below zClose (hysteresis), keeping the anomaly id key, counting revisions and repeating the peak', () => {
    const { transitions, state } = run([5, 7, 3, -1.9]);
    expect(transitions[3]).toMatchObject({
      state: 'resolved',
      revision: 4,
      openedAt: 0,
      direction: 'spike',
      severity: 'critical',
      reason: 'outlier',
      value: 107,
      expected: 100,
      z: 7,
    });
    expect(state.open).toBeNull();
  });

  it('resolves when an outlier crosses to the other side', () => {
    const { transitions } = run([5, -5]);
    expect(transitions[1]).toMatchObject({ state: 'resolved', direction: 'spike', z: 5 });
  });

  it('holds a level shift open while single values fall on the other side, saying nothing about them', () => {
    let state = closedAlarm();
    const transitions = [
      [3, 4.5],
      [-0.5, 3],
      [2, 1],
    ].map(([z, strength], i) => {
      const s = stepAlarm(state, reading(z, i * 10, true, { strength, reason: 'level_shift' }), params);
      state = s.state;
      return s.transition;
    });
    expect(transitions[0]).toMatchObject({ state: 'opened', reason: 'level_shift', direction: 'spike', z: 3 });
    expect(transitions[1]).toBeNull();
    expect(transitions[2]).toMatchObject({ state: 'resolved', reason: 'level_shift', direction: 'spike', z: 3 });
  });

  it('gives every event a direction that agrees with value − expected and z', () => {
    const { transitions } = run([5, 6, -1, -6, -7, 4, 0, 0, 0, 9, 3, -3, 0]);
    for (const t of transitions) {
      if (!t) continue;
      expect(Math.sign(t.z), JSON.stringify(t)).toBe(t.direction === 'spike' ? 1 : -1);
      expect(Math.sign(t.value - t.expected), JSON.stringify(t)).toBe(t.direction === 'spike' ? 1 : -1);
    }
  });

  it('does not reopen during the cooldown after a resolve', () => {
    const { transitions } = run([5, 0, 9, 9, 9]);
    expect(transitions.map((t) => t?.state ?? null)).toEqual(['opened', 'resolved', null, null, 'opened']);
    expect(transitions[4]?.openedAt).toBe(40);
  });

  it('ignores directions it is not configured for', () => {
    const spikesOnly = { ...params, directions: ['spike'] as const };
    expect(run([-10], spikesOnly).transitions[0]).toBeNull();
    expect(run([10], spikesOnly).transitions[0]?.state).toBe('opened');
  });

  it('does nothing while the detector warms up', () => {
    expect(run([10, 10], params, false).transitions).toEqual([null, null]);
  });

  it('maps |z| to severities', () => {
    expect(severityOf(4, params.severity)).toBe('info');
    expect(severityOf(5, params.severity)).toBe('warning');
    expect(severityOf(8, params.severity)).toBe('critical');
  });

  it('can be ended from outside, repeating the peak', () => {
    const { state } = run([6]);
    const closed = closeAlarm(state, params);
    expect(closed.transition).toMatchObject({ state: 'resolved', revision: 2, openedAt: 0, z: 6, value: 106 });
    expect(closed.state.open).toBeNull();
    expect(closeAlarm(closedAlarm(), params).transition).toBeNull();
  });
});
