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
import type { PolledPost, PollTier } from './schedule.ts';

/** How often the periodic jobs run, and how far back a new channel's history goes. */
export interface CollectorSchedule {
  pollTiers: readonly PollTier[];
  membersEveryMs: number;
  statsEveryMs: number;
  /** Safety net for updates that never arrived and left no gap to notice. */
  differenceEveryMs: number;
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
  /** Posts whose counters are polled, by post id. */
  posts: Map<number, PolledPost>;
  /** Epoch ms at which each periodic job is next due. */
  next: { members: number; stats: number; difference: number };
  /** The update state applied and published so far (null until known). */
  pts: number | null;
  /** A job failed transiently: no job runs before this time. */
  backoffUntil: number;
  failures: number;
  /** The recent posts were read once after the lease started (counters need a post list). */
  recentScanned: boolean;
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

/** Starts tracking a post's counters (keeps the poll time of a post already tracked). */
export function trackPost(work: ChannelWork, postId: number, dateMs: number): void {
  if (!work.posts.has(postId)) work.posts.set(postId, { postId, dateMs, lastPolledMs: null });
}
