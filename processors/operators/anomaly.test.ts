import { describe, expect, it } from 'vitest';
import {
  closeAlarm,
  closedAlarm,
  severityOf,
  stepAlarm,
  type AlarmParams,
  type AlarmState,
  type AlarmTransition,
} from './anomaly.ts';

const params: AlarmParams = {
  zOpen: 4,
  zClose: 2,
  cooldown: 2,
  directions: ['spike', 'drop'],
  severity: { warning: 5, critical: 7 },
};

/** Runs a sequence of z values (value = z, at = index) and collects the transitions. */
function run(
  zs: number[],
  p: AlarmParams = params,
  warm = true,
): { transitions: (AlarmTransition | null)[]; state: AlarmState } {
  let state = closedAlarm();
  const transitions = zs.map((z, i) => {
    const r = stepAlarm(state, { z, warm, value: z, at: i * 10 }, p);
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

  it('resolves below zClose (hysteresis), keeping the anomaly id key and counting revisions', () => {
    const { transitions, state } = run([5, 3, 1.9]);
    expect(transitions[2]).toMatchObject({ state: 'resolved', revision: 3, openedAt: 0, direction: 'spike' });
    expect(state.open).toBeNull();
  });

  it('resolves when z crosses to the other side', () => {
    const { transitions } = run([5, -5]);
    expect(transitions[1]).toMatchObject({ state: 'resolved', direction: 'spike' });
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

  it('can be ended from outside with the last score', () => {
    const { state } = run([6]);
    const closed = closeAlarm(state, { z: 6, value: 6 }, params);
    expect(closed.transition).toMatchObject({ state: 'resolved', revision: 2, openedAt: 0 });
    expect(closed.state.open).toBeNull();
    expect(closeAlarm(closedAlarm(), { z: 0, value: 0 }, params).transition).toBeNull();
  });
});
