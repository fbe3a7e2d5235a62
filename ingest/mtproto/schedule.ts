import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../common/index.ts';
/**
 * When to poll a post's counters. Pushed view and reaction updates are
 * unreliable (Telegram sends them only for some channels and not always), so
 * counters are polled, often while a post is fresh and its views move fast,
 * rarely as it ages, and not at all past the configured age.
 */

/** Posts younger than `maxAgeMs` are polled every `everyMs`. */
export interface PollTier {
  maxAgeMs: number;
  everyMs: number;
}

/**
 * The default schedule: a view curve saturates over days, so most of its
 * change happens in the first hours. Past 7 days a post is not polled.
 */
export const DEFAULT_POLL_TIERS: readonly PollTier[] = [
  { maxAgeMs: 1 * HOUR_MS, everyMs: 5 * MINUTE_MS },
  { maxAgeMs: 6 * HOUR_MS, everyMs: 15 * MINUTE_MS },
  { maxAgeMs: 1 * DAY_MS, everyMs: 30 * MINUTE_MS },
  { maxAgeMs: 3 * DAY_MS, everyMs: 2 * HOUR_MS },
  { maxAgeMs: 7 * DAY_MS, everyMs: 6 * HOUR_MS },
];

/** The poll interval of a post of age `ageMs`, or null when it is too old to poll. */
export function pollInterval(ageMs: number, tiers: readonly PollTier[] = DEFAULT_POLL_TIERS): number | null {
  for (const t of tiers) if (ageMs < t.maxAgeMs) return t.everyMs;
  return null;
}

/** The oldest age the schedule polls. */
export function maxPollAge(tiers: readonly PollTier[] = DEFAULT_POLL_TIERS): number {
  return tiers.length ? tiers[tiers.length - 1].maxAgeMs : 0;
}

/** A post the poller knows: its date and when its counters were last read. */
export interface PolledPost {
  postId: number;
  dateMs: number;
  lastPolledMs: number | null;
}

/**
 * The posts due for a poll at `now`, most overdue first (a never-polled post
 * is the most overdue). Posts past the schedule's oldest age are not due.
 */
export function duePosts(
  posts: Iterable<PolledPost>,
  now: number,
  tiers: readonly PollTier[] = DEFAULT_POLL_TIERS,
): number[] {
  const due: Array<{ id: number; overdue: number }> = [];
  for (const p of posts) {
    const every = pollInterval(now - p.dateMs, tiers);
    if (every === null) continue;
    const overdue = p.lastPolledMs === null ? Number.POSITIVE_INFINITY : now - p.lastPolledMs - every;
    if (overdue >= 0) due.push({ id: p.postId, overdue });
  }
  return due.sort((a, b) => b.overdue - a.overdue || b.id - a.id).map((d) => d.id);
}

/**
 * When {@link duePosts} makes a post due after a poll at `last`: the first
 * time T with T − last ≥ interval(age at T). Null once it ages out.
 */
export function nextPollAt(last: number, dateMs: number, tiers: readonly PollTier[]): number | null {
  let every = pollInterval(last - dateMs, tiers);
  if (every === null) return null;
  for (let i = 0; i <= tiers.length; i++) {
    const at = last + every;
    const then = pollInterval(at - dateMs, tiers);
    if (then === null) return null;
    if (then <= every) return at;
    every = then;
  }
  return last + every;
}

/** Where a collector running since the post appeared would have polled it last, at `now`. */
export function lastPollBy(dateMs: number, now: number, tiers: readonly PollTier[]): number {
  let last = dateMs;
  for (let next = nextPollAt(last, dateMs, tiers); next !== null && next <= now; next = nextPollAt(last, dateMs, tiers))
    last = next;
  return last;
}

/**
 * The posts to read in one poll of a channel: nothing while none is due;
 * otherwise the due posts plus those that will be due within `ahead` of their
 * interval. A call costs the same for 1 or 100 ids, so reading nearly-due
 * posts along with the due ones lines a channel's posts up on shared polls
 * instead of one call per post.
 */
export function pollBatch(
  posts: Iterable<PolledPost>,
  now: number,
  tiers: readonly PollTier[] = DEFAULT_POLL_TIERS,
  ahead = 0.5,
): number[] {
  const list = [...posts];
  const due = duePosts(list, now, tiers);
  if (due.length === 0) return due;
  const taken = new Set(due);
  const early: Array<{ id: number; overdue: number }> = [];
  for (const p of list) {
    if (taken.has(p.postId) || p.lastPolledMs === null) continue;
    const every = pollInterval(now - p.dateMs, tiers);
    if (every === null) continue;
    const overdue = now - p.lastPolledMs - every;
    if (overdue >= -ahead * every) early.push({ id: p.postId, overdue });
  }
  early.sort((a, b) => b.overdue - a.overdue || b.id - a.id);
  return [...due, ...early.map((e) => e.id)];
}

/**
 * Polls per hour one post costs over its polled life, averaged over `spanMs`
 * of posting: the figure the request benchmark multiplies by posts and by
 * requests per poll.
 */
export function pollsOverLife(tiers: readonly PollTier[] = DEFAULT_POLL_TIERS): number {
  let from = 0;
  let polls = 0;
  for (const t of tiers) {
    polls += (t.maxAgeMs - from) / t.everyMs;
    from = t.maxAgeMs;
  }
  return polls;
}

/** Splits ids into requests of at most `size` (getMessagesViews takes 100). */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
