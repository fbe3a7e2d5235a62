import { describe, expect, it } from 'vitest';
import { membersDueAt, nextDifferenceInterval, nextMembersTrack, type SafetyNetSpacing } from './safety-nets.ts';
import { HOUR_MS, MINUTE_MS } from '../../common/index.ts';

const SPACING: SafetyNetSpacing = {
  membersFloorMs: 15 * MINUTE_MS,
  membersCeilingMs: 6 * HOUR_MS,
  differenceFloorMs: 15 * MINUTE_MS,
  differenceCeilingMs: HOUR_MS,
  confirmMs: HOUR_MS,
};

describe('member snapshot spacing', () => {
  it('starts at the floor and spaces snapshots by the time the count needs to move 0.1 %', () => {
    const first = nextMembersTrack(null, 50_000, 0, SPACING);
    expect(first.intervalMs).toBe(15 * MINUTE_MS);
    // 50k members moving 20 an hour: a 50-member step takes 2.5 h, reached by doubling from 15 min.
    let t = first;
    const intervals: number[] = [];
    for (let i = 0; i < 6; i++) {
      const at = t.at + t.intervalMs;
      t = nextMembersTrack(t, t.count + Math.round((20 * t.intervalMs) / HOUR_MS), at, SPACING);
      intervals.push(Math.round(t.intervalMs / MINUTE_MS));
    }
    // (The step grows with the count: 0.1 % of 50,100 is a little more than 50.)
    expect(intervals).toEqual([30, 60, 120, 150, 151, 151]);
  });

  it('snapshots a fast-moving count at the floor and a still one at the ceiling', () => {
    const fast = nextMembersTrack({ count: 1000, at: 0, intervalMs: HOUR_MS }, 1100, 15 * MINUTE_MS, SPACING);
    expect(fast.intervalMs).toBe(15 * MINUTE_MS);
    let still = nextMembersTrack(null, 1000, 0, SPACING);
    for (let i = 0; i < 10; i++) still = nextMembersTrack(still, 1000, still.at + still.intervalMs, SPACING);
    expect(still.intervalMs).toBe(6 * HOUR_MS);
  });

  it('brings a joined channel’s snapshot forward when nothing confirmed its pts for the check interval', () => {
    const track = { count: 1000, at: 0, intervalMs: 6 * HOUR_MS };
    expect(membersDueAt(track, false, 0, SPACING)).toBe(6 * HOUR_MS);
    expect(membersDueAt(track, true, 30 * MINUTE_MS, SPACING)).toBe(90 * MINUTE_MS);
    expect(membersDueAt(null, true, 0, SPACING)).toBe(Number.NEGATIVE_INFINITY);
    // Membership unknown (a lease that moved to another account): a snapshot now says what the channel needs.
    expect(membersDueAt(track, null, 0, SPACING)).toBe(Number.NEGATIVE_INFINITY);
  });
});

describe('difference spacing of a channel not joined', () => {
  it('grows while the difference comes back empty and falls back to the floor when it brings something', () => {
    let interval: number | null = null;
    const seen: number[] = [];
    for (const recovered of [0, 0, 0, 0, 0, 3, 0]) {
      interval = nextDifferenceInterval(interval, recovered, SPACING);
      seen.push(interval / MINUTE_MS);
    }
    expect(seen).toEqual([15, 22.5, 33.75, 50.625, 60, 15, 22.5]);
  });
});
