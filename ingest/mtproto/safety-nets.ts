/**
 * The per-channel checks that do not follow posts: member snapshots
 * (channels.getFullChannel) and the update difference
 * (updates.getChannelDifference). Both used to run every 15 minutes for every
 * channel, whatever it did: 8 calls per channel-hour. Here they adapt:
 *
 * - **Members** are snapshotted when the count has likely moved by a step
 *   worth a point (0.1 % of it, at least one member), judged from how fast it
 *   moved between the last two snapshots, within a floor and a ceiling.
 * - **The difference** is how a channel the account has not joined shows its
 *   new posts (Telegram pushes updates to members only). Its interval starts
 *   at the floor, grows while the difference comes back empty and falls back
 *   to the floor when it brings something.
 * - **A joined channel** gets no periodic difference: pushed updates carry its
 *   changes, a pts gap in them is filled at once, and every member snapshot
 *   compares Telegram's pts with the applied one, so an update lost without a
 *   gap is found by the next snapshot. While no push or difference confirmed
 *   the pts for `confirmMs`, the snapshot comes that much sooner.
 *
 * Pure: the collector keeps the state in its ChannelWork.
 */

/** How the checks are spaced; every field is configurable (cli/config.ts). */
export interface SafetyNetSpacing {
  membersFloorMs: number;
  membersCeilingMs: number;
  differenceFloorMs: number;
  differenceCeilingMs: number;
  /** A joined channel whose pts nothing confirmed for this long gets a member snapshot (which reads the pts). */
  confirmMs: number;
}

/** A member snapshot worth taking moves the count by this share of it (at least one member). */
export const MEMBERS_STEP = 0.001;
/** Growth of the difference interval after an empty answer. */
const DIFFERENCE_GROWTH = 1.5;

/** A channel's member-count history as the spacing needs it. */
export interface MembersTrack {
  count: number;
  at: number;
  /** The interval chosen after this snapshot. */
  intervalMs: number;
}

/**
 * The snapshot after `prev` that read `count` at `at`: when to take the next
 * one. The interval is the time the count needs to move by a step at the
 * rate seen, at most double the previous one (one quiet reading is not a
 * trend), within the floor and the ceiling.
 */
export function nextMembersTrack(
  prev: MembersTrack | null,
  count: number,
  at: number,
  spacing: SafetyNetSpacing,
): MembersTrack {
  const { membersFloorMs: floor, membersCeilingMs: ceiling } = spacing;
  if (prev === null || at <= prev.at) return { count, at, intervalMs: floor };
  const rate = Math.abs(count - prev.count) / (at - prev.at);
  const step = Math.max(1, MEMBERS_STEP * count);
  const wanted = rate > 0 ? step / rate : Number.POSITIVE_INFINITY;
  const intervalMs = Math.min(ceiling, Math.max(floor, Math.min(wanted, 2 * prev.intervalMs)));
  return { count, at, intervalMs };
}

/** The interval until the next periodic difference of a channel not joined, after one that recovered `recovered` changes. */
export function nextDifferenceInterval(lastMs: number | null, recovered: number, spacing: SafetyNetSpacing): number {
  const { differenceFloorMs: floor, differenceCeilingMs: ceiling } = spacing;
  if (recovered > 0 || lastMs === null) return floor;
  return Math.min(ceiling, Math.max(floor, lastMs * DIFFERENCE_GROWTH));
}

/**
 * When the next member snapshot is due: the members' own spacing, or sooner
 * for a joined channel whose pts was last confirmed at `confirmedAt`, or now
 * while the account's membership is unknown (a new lease, or a channel that
 * moved to another account): the snapshot says whether differences are needed.
 */
export function membersDueAt(
  track: MembersTrack | null,
  joined: boolean | null,
  confirmedAt: number | null,
  spacing: SafetyNetSpacing,
): number {
  if (joined === null) return Number.NEGATIVE_INFINITY;
  const own = track === null ? Number.NEGATIVE_INFINITY : track.at + track.intervalMs;
  if (!joined || confirmedAt === null) return own;
  return Math.min(own, confirmedAt + spacing.confirmMs);
}
