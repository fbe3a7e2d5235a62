import { HOUR_MS, DAY_MS, MINUTE_MS } from '../../common/index.ts';
/**
 * When to read a post's counters. Pushed view and reaction counts are
 * unreliable (Telegram sends them only for some channels and not always), so
 * counters are polled. How often is a service level, not a fixed rhythm:
 *
 * - **Freshness targets.** A post of a given age should have counters read no
 *   longer ago than its band's target (by default 15 min under 1 h, 1 h under
 *   1 day, 6 h under 7 days; older posts are not polled).
 * - **Value.** A post whose views have flattened (its own growth between its
 *   last two reads, or the channel's usual growth at its age) is expected to
 *   change by less than {@link FLAT_GROWTH} within its target: it may go up to
 *   {@link FLAT_STRETCH} × the target between reads. Its reading is then still
 *   within a percent of the truth: the request bench measures that error.
 * - **Full calls.** A call reads up to 100 ids of one channel for the price of
 *   one, so when any post of a channel is due, the call is filled with the
 *   posts closest to due. Young posts thereby carry the old ones along.
 *
 * Everything here is pure: the collector keeps the state, the bench replays it.
 */

/** Counters of a post younger than `maxAgeMs` should be at most `staleMs` old. */
export interface FreshnessTarget {
  maxAgeMs: number;
  staleMs: number;
}

export const DEFAULT_FRESHNESS: readonly FreshnessTarget[] = [
  { maxAgeMs: 1 * HOUR_MS, staleMs: 15 * MINUTE_MS },
  { maxAgeMs: 1 * DAY_MS, staleMs: 1 * HOUR_MS },
  { maxAgeMs: 7 * DAY_MS, staleMs: 6 * HOUR_MS },
];

/** Expected growth over the target below which a post counts as flat (1 %). */
export const FLAT_GROWTH = 0.01;
/** How far past its target a flat post may go between reads. */
export const FLAT_STRETCH = 4;
/** getMessages takes up to 100 ids of one channel. */
export const IDS_PER_CALL = 100;

/** The target staleness of a post of age `ageMs`, or null when it is too old to poll. */
export function targetStaleness(ageMs: number, targets: readonly FreshnessTarget[] = DEFAULT_FRESHNESS): number | null {
  for (const t of targets) if (ageMs < t.maxAgeMs) return t.staleMs;
  return null;
}

/** The oldest age the targets cover: older posts are not polled. */
export function maxPollAge(targets: readonly FreshnessTarget[] = DEFAULT_FRESHNESS): number {
  return targets.length ? targets[targets.length - 1].maxAgeMs : 0;
}

/** A post the poller knows. */
export interface PolledPost {
  postId: number;
  dateMs: number;
  /** When its counters were last read (null: never). */
  lastPolledMs: number | null;
  /** Views at that read. */
  views: number | null;
  /** Relative view growth per hour between its last two reads (null until two reads). */
  growth: number | null;
  /** Telegram pushed a changed counter: read it at the next pass whatever the schedule says. */
  pushed: boolean;
}

/** A post just learnt of, with the counters seen with it (if any) as its first read. */
export function newPolledPost(postId: number, dateMs: number, seen?: { at: number; views: number }): PolledPost {
  return {
    postId,
    dateMs,
    lastPolledMs: seen?.at ?? null,
    views: seen?.views ?? null,
    growth: null,
    pushed: false,
  };
}

/**
 * A channel's usual view growth by post age: relative growth per hour in
 * doubling age buckets (< 1 h, 1–2 h, 2–4 h … 128–256 h), learnt from its
 * posts' consecutive reads. A post with a single read borrows it.
 */
export interface ChannelCurve {
  /** Per bucket; NaN until learnt. */
  growth: number[];
}

const CURVE_BUCKETS = 10;
/** Weight of a new observation in a bucket. */
const CURVE_ALPHA = 0.2;

export function newChannelCurve(): ChannelCurve {
  return { growth: new Array<number>(CURVE_BUCKETS).fill(Number.NaN) };
}

function ageBucket(ageMs: number): number {
  if (ageMs < HOUR_MS) return 0;
  return Math.min(CURVE_BUCKETS - 1, 1 + Math.floor(Math.log2(ageMs / HOUR_MS)));
}

/**
 * Records a read of `views` at `at`: the post's own growth from its previous
 * read, and the channel's curve at the age between the two.
 */
export function recordRead(post: PolledPost, curve: ChannelCurve, at: number, views: number): void {
  if (post.lastPolledMs !== null && post.views !== null && at > post.lastPolledMs && views > 0) {
    const hours = (at - post.lastPolledMs) / HOUR_MS;
    // Views only grow; a lower reading (a recount) is growth 0, not a negative rate.
    const g = Math.max(0, views - post.views) / views / hours;
    post.growth = g;
    const b = ageBucket((post.lastPolledMs + at) / 2 - post.dateMs);
    const old = curve.growth[b];
    curve.growth[b] = Number.isNaN(old) ? g : old + CURVE_ALPHA * (g - old);
  }
  post.lastPolledMs = at;
  post.views = views;
  post.pushed = false;
}

/** The post's expected relative view growth per hour: its own, else the channel's at its age, else null. */
export function expectedGrowth(post: PolledPost, curve: ChannelCurve, now: number): number | null {
  if (post.growth !== null) return post.growth;
  const g = curve.growth[ageBucket(now - post.dateMs)];
  return Number.isNaN(g) ? null : g;
}

/**
 * How stale the post may get at `now`: its target, stretched towards
 * FLAT_STRETCH × target as its expected growth over the target falls below
 * FLAT_GROWTH. Null once it is too old to poll.
 */
export function allowedStaleness(
  post: PolledPost,
  curve: ChannelCurve,
  now: number,
  targets: readonly FreshnessTarget[],
): number | null {
  const target = targetStaleness(now - post.dateMs, targets);
  if (target === null) return null;
  const g = expectedGrowth(post, curve, now);
  if (g === null) return target;
  const overTarget = (g * target) / HOUR_MS;
  if (overTarget >= FLAT_GROWTH) return target;
  return target * Math.min(FLAT_STRETCH, overTarget > 0 ? FLAT_GROWTH / overTarget : FLAT_STRETCH);
}

/**
 * How far through its allowance the post is by `now` (≥ 1: due). A post
 * never read, or with a pushed change, is infinitely due; null when too old.
 */
export function dueness(
  post: PolledPost,
  curve: ChannelCurve,
  now: number,
  targets: readonly FreshnessTarget[],
): number | null {
  const allowed = allowedStaleness(post, curve, now, targets);
  if (allowed === null) return null;
  if (post.lastPolledMs === null || post.pushed) return Number.POSITIVE_INFINITY;
  return (now - post.lastPolledMs) / allowed;
}

/**
 * The ids to read in this pass, in calls of {@link IDS_PER_CALL}: nothing
 * while no post would outlive its allowance before the next pass (`leadMs`
 * from now); otherwise the due posts, most due first, and the calls they need
 * filled with the posts closest to due.
 */
export function pollBatch(
  posts: Iterable<PolledPost>,
  curve: ChannelCurve,
  now: number,
  targets: readonly FreshnessTarget[] = DEFAULT_FRESHNESS,
  leadMs = 0,
): number[] {
  const ranked: Array<{ id: number; d: number; due: boolean }> = [];
  let due = 0;
  for (const p of posts) {
    const d = dueness(p, curve, now, targets);
    if (d === null) continue;
    const isDue = dueness(p, curve, now + leadMs, targets)! >= 1;
    if (isDue) due++;
    ranked.push({ id: p.postId, d, due: isDue });
  }
  if (due === 0) return [];
  ranked.sort((a, b) => Number(b.due) - Number(a.due) || b.d - a.d || b.id - a.id);
  return ranked.slice(0, Math.ceil(due / IDS_PER_CALL) * IDS_PER_CALL).map((r) => r.id);
}

/** How a channel's tracked posts stand against their targets at `now`. */
export interface Freshness {
  /** Posts young enough to poll. */
  posts: number;
  /** Of them, read within their allowance. */
  withinTarget: number;
  /** The worst staleness as a multiple of its allowance (0 with no posts). */
  worst: number;
}

export function freshnessOf(
  posts: Iterable<PolledPost>,
  curve: ChannelCurve,
  now: number,
  targets: readonly FreshnessTarget[] = DEFAULT_FRESHNESS,
): Freshness {
  const out: Freshness = { posts: 0, withinTarget: 0, worst: 0 };
  for (const p of posts) {
    const allowed = allowedStaleness(p, curve, now, targets);
    if (allowed === null) continue;
    out.posts++;
    // A pushed change waits for the next pass like a due post: it counts by its staleness.
    const ratio = p.lastPolledMs === null ? Number.POSITIVE_INFINITY : (now - p.lastPolledMs) / allowed;
    if (ratio <= 1) out.withinTarget++;
    out.worst = Math.max(out.worst, ratio);
  }
  return out;
}

/** Splits ids into requests of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
