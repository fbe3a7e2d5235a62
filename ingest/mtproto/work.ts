/**
 * What every collector job works with: the channel it owns through a lease,
 * the account it calls Telegram with, and how it publishes. Jobs are plain
 * async functions over a {@link JobContext} and a {@link ChannelWork}, so the
 * collector loop (collector.ts) only decides *when* each runs.
 */
import bigInt from 'big-integer';
import { Api } from 'telegram';
import type { Pool } from 'pg';
import type { RawEvent } from '../../streams/contract/index.ts';
import type { Logger } from '../../observability/index.ts';
import type { TrackedChannel } from '../../control/index.ts';
import type { AccountSession } from './account.ts';
import type { CollectorMetrics } from './metrics.ts';
import type { SafetyNetSpacing, MembersTrack } from './safety-nets.ts';
import { newPolledPost, type ChannelCurve, type FreshnessTarget, type PolledPost } from './schedule.ts';

/** How often the periodic jobs run, and how far back a new channel's history goes. */
export interface CollectorSchedule {
  /** How stale a post's counters may get, by post age (schedule.ts). */
  freshness: readonly FreshnessTarget[];
  /** Member snapshots and update differences (safety-nets.ts). */
  nets: SafetyNetSpacing;
  statsEveryMs: number;
  /** Per account: updates.getState, without which Telegram stops pushing updates. */
  keepAliveEveryMs: number;
  /** A channel added without a start date is backfilled this far back. */
  backfillDays: number;
  /** History pages (100 posts) one backfill step reads before yielding to other jobs. */
  backfillPagesPerStep: number;
  /** Top posts (by views) whose message stats and public forwards are read with the channel stats. */
  topPostsForStats: number;
}

/** One channel's working state in this collector process. */
export interface ChannelWork {
  /** The registry row as last read or written. */
  channel: TrackedChannel;
  accountId: string;
  /** When this process took the lease: no earlier holder can have read a post dated after it. */
  since: number;
  /** Posts whose counters are polled, by post id. */
  posts: Map<number, PolledPost>;
  /** The channel's usual view growth by post age, learnt from its posts. */
  curve: ChannelCurve;
  /** Epoch ms at which each periodic job is next due. */
  next: { stats: number; difference: number };
  /** The last periodic difference's interval (channels not joined); null before the first. */
  differenceIntervalMs: number | null;
  /** The last member snapshot and the spacing it chose; null before the first of the lease. */
  members: MembersTrack | null;
  /** Whether the account is a member (Telegram pushes its updates); null until a snapshot says. */
  joined: boolean | null;
  /** When the applied pts was last known to be Telegram's: a push applied in order, a difference, a snapshot. */
  ptsConfirmedAt: number | null;
  /** The update state applied and published so far (null until known). */
  pts: number | null;
  /** A job failed transiently: no job runs before this time. */
  backoffUntil: number;
  failures: number;
  /** The recent posts were read once after the lease started (counters need a post list). */
  recentScanned: boolean;
  /** A join was tried in this lease (joining is off by default: membership.ts). */
  joinTried: boolean;
}

/** Publishes events and waits for JetStream's acks, so cursors saved after it are safe. */
export type Emit = (job: string, events: readonly RawEvent[], readAt: number) => Promise<void>;

export interface JobContext {
  account: AccountSession;
  control: Pool;
  emit: Emit;
  log: Logger;
  metrics?: CollectorMetrics;
  clock: () => number;
  schedule: CollectorSchedule;
  /** Time between the collector's passes: a post is read when it would outlive its target before the next. */
  passMs: number;
  signal?: AbortSignal;
  /** Records input Telegram sent that cannot be used (e.g. a malformed stats graph). */
  deadLetter: (channelId: string, what: string, detail: string, payload: string) => Promise<void>;
}

/** The channel as an InputChannel (channels.*, stats.* calls). */
export function inputChannel(ch: Pick<TrackedChannel, 'channelId' | 'accessHash'>): Api.InputChannel {
  return new Api.InputChannel({ channelId: bigInt(ch.channelId), accessHash: bigInt(ch.accessHash) });
}

/** The channel as an InputPeer (messages.* calls). */
export function inputPeer(ch: Pick<TrackedChannel, 'channelId' | 'accessHash'>): Api.InputPeerChannel {
  return new Api.InputPeerChannel({ channelId: bigInt(ch.channelId), accessHash: bigInt(ch.accessHash) });
}

/**
 * Starts tracking a post's counters (keeps what is known of a post already
 * tracked). Counters seen with the post count as its first read.
 */
export function trackPost(
  work: ChannelWork,
  postId: number,
  dateMs: number,
  seen?: { at: number; views: number },
): void {
  if (!work.posts.has(postId)) work.posts.set(postId, newPolledPost(postId, dateMs, seen));
}
