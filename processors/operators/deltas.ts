/**
 * Counters → deltas, per post. Collectors report cumulative counters; windows
 * and the per-post timeline need what changed since the last snapshot.
 *
 * Rules (each keeps "the deltas of a post sum to its tracked counters"):
 * - views and forwards only grow on Telegram: a lower value is a stale replica
 *   or a glitch, so the tracked value stays at the maximum, the delta is 0 and
 *   the delta is flagged `regressed`;
 * - replies and reactions can drop (deleted comments, withdrawn reactions):
 *   their deltas are signed, per emoji too;
 * - the first snapshot of a post counts from zero (delta = full counters). It
 *   is `first` when the post is younger than `freshPostMs` at the snapshot, or
 *   `baseline` (a backfill: windows keep it apart). A post whose date is
 *   unknown is `baseline`: when we cannot tell new from old, a spurious views
 *   spike from a backfill is worse than a first snapshot kept out of windows;
 * - a snapshot not newer than the newest one applied (out of order, or a
 *   second observation at the same ms) can still raise views/forwards, but
 *   does not roll replies/reactions back;
 * - redelivery is harmless: the same event id, or identical counters at the
 *   same time, is a `duplicate`, and a stale snapshot that changes nothing is
 *   `stale`; neither produces a delta (re-emitting one would overwrite the
 *   original delta of the same id downstream with zeros);
 * - posts older than `postRetentionMs` (at the later of the snapshot and the
 *   watermark) are `expired`: their state is or will be evicted, and a fresh
 *   first snapshot would count their views twice.
 */
import type { DeltaFlag, PostDelta } from '../../streams/contract/index.ts';

/** Cumulative counters of one post as reported by a collector. */
export interface CounterValues {
  views: number;
  forwards: number;
  replies: number;
  reactions_total: number;
  reactions: Record<string, number>;
}

/** One observation of a post's counters (a `post_counters` event or a `post`'s embedded counters). */
export interface CounterSnapshot {
  /**
   * Identity of this observation: catches redelivery, and the derived delta's
   * id comes from it. A `post_counters` event's id already is one; a `post`
   * event keeps its id whenever the post is read again (a collector restart
   * reads history again) while its counters move, so its observation is the
   * id with the read time ({@link postObservationId}): two reads must not
   * make two deltas of one id, of which the warehouse would keep one.
   */
  id: string;
  /** Id of the raw event the snapshot came from: the delta's `source_id`. */
  sourceId: string;
  postId: number;
  /** Publication time when known (the caller merges what the snapshot and the post state know). */
  postDate: number | null;
  /** Observation time. */
  time: number;
  counters: CounterValues;
}

/** What is remembered of a post's counters between snapshots: plain JSON data. */
export interface TrackedCounters extends CounterValues {
  /** Time of the newest snapshot applied. */
  time: number;
  /** Event id of the newest snapshot applied (catches immediate redelivery). */
  lastId: string;
}

export interface DeltaParams {
  freshPostMs: number;
  postRetentionMs: number;
  /** The partition watermark (null before any event): ages the retention check. */
  watermark: number | null;
}

export type DeltaOutcome =
  | { kind: 'delta'; tracked: TrackedCounters; delta: PostDelta }
  | { kind: 'duplicate' | 'stale' | 'expired' };

/** The observation id of the counters a `post` event carries (see {@link CounterSnapshot.id}). */
export function postObservationId(eventId: string, observedAt: number): string {
  return `${eventId}@${observedAt}`;
}

/** Applies one snapshot to a post's tracked counters (null for an unknown post). Pure. */
export function applySnapshot(prev: TrackedCounters | null, snap: CounterSnapshot, p: DeltaParams): DeltaOutcome {
  const now = Math.max(snap.time, p.watermark ?? snap.time);
  if (snap.postDate !== null && now - snap.postDate > p.postRetentionMs) return { kind: 'expired' };
  // Without a post date, retention runs from the last snapshot: state older than that is gone
  // (whether or not the runtime evicted it yet), so the outcome does not depend on eviction timing.
  if (prev && snap.postDate === null && p.watermark !== null && prev.time < p.watermark - p.postRetentionMs)
    prev = null;

  if (!prev) return firstDelta(snap, p);
  if (prev.lastId === snap.id) return { kind: 'duplicate' };
  if (prev.time === snap.time && sameCounters(prev, snap.counters)) return { kind: 'duplicate' };

  const c = snap.counters;
  // Not newer than what we have: another replica of the past, at best raising views/forwards.
  const stale = snap.time <= prev.time;
  const views = Math.max(prev.views, c.views);
  const forwards = Math.max(prev.forwards, c.forwards);
  const regressed = c.views < prev.views || c.forwards < prev.forwards;
  const replies = stale ? prev.replies : c.replies;
  const reactionsTotal = stale ? prev.reactions_total : c.reactions_total;
  const reactions = stale ? prev.reactions : sortedCounts(c.reactions);
  const byEmoji = stale ? {} : reactionDeltas(prev.reactions, reactions);
  const delta: PostDelta = {
    post_id: snap.postId,
    source_id: snap.sourceId,
    post_date: snap.postDate,
    age_ms: ageOf(snap),
    flag: regressed ? 'regressed' : 'normal',
    d_views: views - prev.views,
    d_forwards: forwards - prev.forwards,
    d_replies: replies - prev.replies,
    d_reactions: reactionsTotal - prev.reactions_total,
    d_reactions_by: byEmoji,
    views,
    forwards,
    replies,
    reactions_total: reactionsTotal,
  };
  if (stale && delta.d_views === 0 && delta.d_forwards === 0) return { kind: 'stale' };
  const tracked: TrackedCounters = {
    time: stale ? prev.time : snap.time,
    lastId: stale ? prev.lastId : snap.id,
    views,
    forwards,
    replies,
    reactions_total: reactionsTotal,
    reactions,
  };
  return { kind: 'delta', tracked, delta };
}

function firstDelta(snap: CounterSnapshot, p: DeltaParams): DeltaOutcome {
  const c = snap.counters;
  const age = ageOf(snap);
  const flag: DeltaFlag = age !== null && age < p.freshPostMs ? 'first' : 'baseline';
  const reactions = sortedCounts(c.reactions);
  const tracked: TrackedCounters = {
    time: snap.time,
    lastId: snap.id,
    views: c.views,
    forwards: c.forwards,
    replies: c.replies,
    reactions_total: c.reactions_total,
    reactions,
  };
  const delta: PostDelta = {
    post_id: snap.postId,
    source_id: snap.sourceId,
    post_date: snap.postDate,
    age_ms: age,
    flag,
    d_views: c.views,
    d_forwards: c.forwards,
    d_replies: c.replies,
    d_reactions: c.reactions_total,
    d_reactions_by: reactionDeltas({}, reactions),
    views: c.views,
    forwards: c.forwards,
    replies: c.replies,
    reactions_total: c.reactions_total,
  };
  return { kind: 'delta', tracked, delta };
}

/** Post age at the snapshot; 0 when the observer's clock is behind the post date. */
function ageOf(snap: CounterSnapshot): number | null {
  return snap.postDate === null ? null : Math.max(0, snap.time - snap.postDate);
}

function sameCounters(a: CounterValues, b: CounterValues): boolean {
  if (
    a.views !== b.views ||
    a.forwards !== b.forwards ||
    a.replies !== b.replies ||
    a.reactions_total !== b.reactions_total
  )
    return false;
  const ka = Object.keys(a.reactions).filter((k) => a.reactions[k] !== 0);
  const kb = Object.keys(b.reactions).filter((k) => b.reactions[k] !== 0);
  return ka.length === kb.length && ka.every((k) => countOf(b.reactions, k) === a.reactions[k]);
}

/** A map entry, 0 when absent; own keys only, so an emoji named `constructor` is just a key. */
function countOf(m: Record<string, number>, k: string): number {
  return Object.hasOwn(m, k) ? m[k] : 0;
}

/** Copy with keys sorted, so serialised state and emitted maps do not depend on arrival order. */
function sortedCounts(m: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.keys(m)
      .sort()
      .map((k) => [k, m[k]]),
  );
}

/** Per-emoji signed differences, zero entries left out, keys sorted. */
function reactionDeltas(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return Object.fromEntries(
    keys.map((k) => [k, countOf(after, k) - countOf(before, k)] as const).filter(([, d]) => d !== 0),
  );
}
