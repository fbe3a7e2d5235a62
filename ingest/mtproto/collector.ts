/**
 * The collector loop of one process: it leases channels for its accounts,
 * runs each leased channel's jobs when they are due (history backfill, the
 * update difference, member snapshots, official statistics, counter polling),
 * feeds pushed updates to their channel, and reacts to what Telegram answers:
 *
 * - FLOOD_WAIT parks the account; its channels move to another account of the
 *   process, or go back to the pool for other processes.
 * - A channel that became private or disappeared is marked in the registry and
 *   its lease released; a lost admin right stops only its statistics.
 * - A revoked session disables the account.
 * - Anything transient backs the channel off and is tried again.
 *
 * One channel's jobs and updates run one at a time (a promise chain), so its
 * pts and cursors move in order; channels run side by side, held to each
 * account's rate limits.
 */
import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import { Api } from 'telegram';
import type { RawEvent } from '../../streams/contract/index.ts';
import { backoffMs, sleep } from '../../common/index.ts';
import type { Logger } from '../../observability/index.ts';
import {
  acquireLeases,
  moveLeases,
  recordAccountLoad,
  releaseLeases,
  recordAccountHealth,
  setAccountStatus,
  listChannels,
  setChannelStatus,
  updateChannelFacts,
  type TrackedChannel,
} from '../../control/index.ts';
import type { AccountSession } from './account.ts';
import { backfillStep, scanRecent, type BackfillProgress } from './history.ts';
import { applyUpdate, channelOfUpdate, recoverDifference } from './live-updates.ts';
import { snapshotMembers } from './members.ts';
import { DEFAULT_JOIN_POLICY, joinChannel, type JoinPolicy } from './membership.ts';
import { membersDueAt, nextDifferenceInterval } from './safety-nets.ts';
import { freshnessOf, newChannelCurve } from './schedule.ts';
import type { CollectorMetrics } from './metrics.ts';
import { collectOfficialStats } from './official-stats.ts';
import { pollCounters } from './counters.ts';
import { MtprotoCallError } from './rpc-errors.ts';
import type { ChannelWork, CollectorSchedule, Emit, JobContext } from './work.ts';

export interface CollectorOptions {
  /** This process among collectors sharing the control plane (default: random). */
  holder?: string;
  accounts: AccountSession[];
  control: Pool;
  emit: Emit;
  deadLetter: JobContext['deadLetter'];
  schedule: CollectorSchedule;
  leaseTtlMs: number;
  /** Channels one account takes at most. */
  channelsPerAccount: number;
  /** Whether to join public channels so their updates are pushed (off by default). */
  join?: JoinPolicy;
  /** How often the loop looks for due work. */
  tickMs: number;
  log: Logger;
  metrics?: CollectorMetrics;
  clock?: () => number;
  /** Told after each history page of a backfill (the CLI's progress line). */
  onBackfillProgress?: (p: BackfillProgress) => void;
}

export class Collector {
  readonly holder: string;
  readonly works = new Map<string, ChannelWork>();
  readonly #opts: CollectorOptions;
  readonly #clock: () => number;
  readonly #accounts = new Map<string, AccountSession>();
  readonly #chains = new Map<string, Promise<void>>();
  #lastLeases = 0;
  #lastKeepAlive = new Map<string, number>();
  /** When each account last tried a join. */
  #lastJoin = new Map<string, number>();
  readonly #join: JoinPolicy;
  #signal: AbortSignal | undefined;

  constructor(opts: CollectorOptions) {
    this.#opts = opts;
    this.holder = opts.holder ?? `collector-${randomBytes(4).toString('hex')}`;
    this.#clock = opts.clock ?? Date.now;
    this.#join = opts.join ?? DEFAULT_JOIN_POLICY;
    for (const a of opts.accounts) {
      this.#accounts.set(a.accountId, a);
      a.onUpdate((update) => this.onUpdate(a.accountId, update));
    }
  }

  /** Runs until `signal` aborts, then waits for running jobs and releases the leases. */
  async run(signal: AbortSignal): Promise<void> {
    this.#signal = signal;
    // gramjs looks itself up before dispatching each update until it knows who it is; ask once now,
    // or a burst of pushed updates becomes a burst of users.getUsers outside the rate limits.
    for (const a of this.#accounts.values()) {
      await a.client
        .getMe(true)
        .catch((err: unknown) =>
          this.#opts.log.warn(
            { err, account: a.accountId },
            "could not read the account's own user; updates will ask for it",
          ),
        );
    }
    try {
      while (!signal.aborted) {
        try {
          await this.step();
        } catch (err) {
          // The control plane failed (leases, registry): say so and try again next tick.
          this.#opts.log.error({ err }, 'collector step failed; retrying');
          this.#opts.metrics?.jobFailures.inc({ job: 'step', kind: 'control' });
        }
        await sleep(this.#opts.tickMs, signal);
      }
    } finally {
      await this.idle();
      await releaseLeases(this.#opts.control, this.holder).catch((err: unknown) =>
        this.#opts.log.warn({ err }, 'could not release leases; they expire on their own'),
      );
      this.#opts.metrics?.leaseChanges.inc({ change: 'released' }, this.works.size);
      this.works.clear();
    }
  }

  /** One pass: refresh leases when due, keep accounts' updates alive, start due jobs. */
  async step(): Promise<void> {
    const now = this.#clock();
    if (now - this.#lastLeases >= this.#opts.leaseTtlMs / 3) {
      await this.refreshLeases();
      this.#lastLeases = now;
    }
    for (const account of this.#accounts.values()) this.#keepAlive(account, now);
    for (const work of this.works.values()) {
      if (!this.#chains.has(work.channel.channelId) && now >= work.backoffUntil)
        this.#enqueue(work, () => this.#runDue(work));
    }
  }

  /** Resolves when no job or update is running. */
  async idle(): Promise<void> {
    while (this.#chains.size) await Promise.allSettled([...this.#chains.values()]);
  }

  /** Takes, renews and drops leases so `works` matches what this process may do. */
  async refreshLeases(): Promise<void> {
    const usable = [...this.#accounts.values()].filter((a) => !a.parked());
    for (const a of this.#accounts.values()) {
      await recordAccountHealth(this.#opts.control, a.accountId, {
        health: a.state.health,
        parkedUntil: a.state.parkedUntil,
        lastError: a.state.lastError,
      });
    }
    const grants = await acquireLeases(this.#opts.control, {
      holder: this.holder,
      accountIds: usable.map((a) => a.accountId),
      want: usable.length * this.#opts.channelsPerAccount,
      perAccount: this.#opts.channelsPerAccount,
      ttlMs: this.#opts.leaseTtlMs,
      now: this.#clock(),
    });
    const granted = new Map(grants.map((g) => [g.channelId, g.accountId]));
    for (const [id, work] of this.works) {
      if (!granted.has(id)) {
        this.works.delete(id);
        this.#opts.metrics?.leaseChanges.inc({ change: 'lost' });
        this.#opts.log.info({ channel: id }, 'lease lost; another collector has the channel now');
      } else if (work.accountId !== granted.get(id)) {
        work.accountId = granted.get(id)!;
        forgetAccountFacts(work);
      }
    }
    const fresh = [...granted.keys()].filter((id) => !this.works.has(id));
    // One registry read for all newly leased channels, not one per channel.
    const registry = fresh.length
      ? new Map((await listChannels(this.#opts.control)).map((c) => [c.channelId, c]))
      : new Map<string, TrackedChannel>();
    for (const id of fresh) {
      const accountId = granted.get(id)!;
      const channel = registry.get(id);
      if (!channel) continue;
      const now = this.#clock();
      // A backfill starting from the newest post tracks the recent posts itself; otherwise they are read once.
      const recentScanned = !channel.backfillDone && !channel.backfillOffsetId;
      this.works.set(id, {
        channel,
        accountId,
        since: now,
        posts: new Map(),
        curve: newChannelCurve(),
        next: { stats: now, difference: now },
        differenceIntervalMs: null,
        members: null,
        joined: null,
        ptsConfirmedAt: null,
        pts: channel.pts,
        backoffUntil: 0,
        failures: 0,
        recentScanned,
        joinTried: false,
      });
      this.#opts.metrics?.leaseChanges.inc({ change: 'acquired' });
    }
    await this.#reportLoad();
  }

  /**
   * Per account: the channels it holds, how many of them have every polled
   * post within its freshness target, and the share of its request budget
   * the last hour used; to the metrics and the control plane (`tgpulse status`).
   */
  async #reportLoad(): Promise<void> {
    const now = this.#clock();
    const { freshness } = this.#opts.schedule;
    for (const a of this.#accounts.values()) {
      const works = [...this.works.values()].filter((w) => w.accountId === a.accountId);
      const stale = works
        .map((w) => ({ id: w.channel.channelId, worst: freshnessOf(w.posts.values(), w.curve, now, freshness).worst }))
        .filter((c) => c.worst > 1)
        .sort((x, y) => y.worst - x.worst);
      const fresh = works.length - stale.length;
      const budgetUsed = a.budgetUsed(now);
      this.#opts.metrics?.leasedChannels.set({ account: a.accountId }, works.length);
      this.#opts.metrics?.channelsFresh.set({ account: a.accountId }, fresh);
      this.#opts.metrics?.budgetUsed.set({ account: a.accountId }, budgetUsed);
      await recordAccountLoad(this.#opts.control, a.accountId, {
        budgetUsed,
        channelsHeld: works.length,
        channelsFresh: fresh,
        staleChannels: stale.map((c) => c.id),
        at: now,
      });
    }
  }

  /** A pushed update: handed to its channel's chain when this process works on that channel. */
  onUpdate(accountId: string, update: Api.TypeUpdate): void {
    const channelId = channelOfUpdate(update);
    const work = channelId === null ? undefined : this.works.get(channelId);
    // Other accounts see the same channel's updates; only the lease holder's account applies them.
    if (!work || work.accountId !== accountId) return;
    this.#enqueue(work, () => applyUpdate(this.#context(work), work, update));
  }

  #enqueue(work: ChannelWork, job: () => Promise<unknown>): void {
    const id = work.channel.channelId;
    const prev = this.#chains.get(id) ?? Promise.resolve();
    const next = prev.then(job).then(
      () => {
        work.failures = 0;
      },
      (err: unknown) => this.#failed(work, err),
    );
    const tracked = next.finally(() => {
      if (this.#chains.get(id) === tracked) this.#chains.delete(id);
    });
    this.#chains.set(id, tracked);
  }

  /** The channel's due jobs, in the order that keeps data consistent. */
  async #runDue(work: ChannelWork): Promise<void> {
    if (!this.works.has(work.channel.channelId)) return;
    const ctx = this.#context(work);
    const s = this.#opts.schedule;
    const now = this.#clock();
    // No update state yet (a channel never collected): take Telegram's pts before reading history, so a
    // post published between the history read and the first snapshot is fetched by the difference.
    if (work.pts === null) await snapshotMembers(ctx, work);
    // Telegram pushes nothing of a channel the account has not joined: the difference is how its posts arrive.
    // Until a pts is known (the member snapshot below reads it) there is nothing to take a difference from.
    if (work.pts !== null && work.joined === false && now >= work.next.difference) {
      const recovered = await recoverDifference(ctx, work, 'periodic');
      work.differenceIntervalMs = nextDifferenceInterval(work.differenceIntervalMs, recovered, s.nets);
      work.next.difference = now + work.differenceIntervalMs;
    }
    if (!work.recentScanned) {
      await scanRecent(ctx, work);
      work.recentScanned = true;
    }
    if (!work.channel.backfillDone) await backfillStep(ctx, work, this.#opts.onBackfillProgress);
    if (now >= membersDueAt(work.members, work.joined, work.ptsConfirmedAt, s.nets)) await snapshotMembers(ctx, work);
    const join = this.#join;
    if (join.enabled && work.joined === false && !work.joinTried) {
      const last = this.#lastJoin.get(work.accountId) ?? Number.NEGATIVE_INFINITY;
      if (now - last >= join.everyMs) {
        this.#lastJoin.set(work.accountId, now);
        work.joinTried = true;
        this.#opts.metrics?.joins.inc({ outcome: await joinChannel(ctx, work, join) });
      }
    }
    if (work.channel.canViewStats && now >= work.next.stats) {
      await collectOfficialStats(ctx, work);
      work.next.stats = now + s.statsEveryMs;
    }
    await pollCounters(ctx, work);
  }

  #context(work: ChannelWork): JobContext {
    const account = this.#accounts.get(work.accountId);
    if (!account)
      throw new Error(
        `channel ${work.channel.channelId} is leased to account ${work.accountId}, which this process does not hold`,
      );
    return {
      account,
      control: this.#opts.control,
      emit: this.#opts.emit,
      deadLetter: this.#opts.deadLetter,
      log: this.#opts.log.child({ channel: work.channel.channelId, account: work.accountId }),
      metrics: this.#opts.metrics,
      clock: this.#clock,
      schedule: this.#opts.schedule,
      passMs: this.#opts.tickMs,
      signal: this.#signal,
    };
  }

  /** updates.getState now and then: Telegram stops pushing updates to a session that never asks. */
  #keepAlive(account: AccountSession, now: number): void {
    const last = this.#lastKeepAlive.get(account.accountId) ?? 0;
    if (now - last < this.#opts.schedule.keepAliveEveryMs || account.parked(now)) return;
    this.#lastKeepAlive.set(account.accountId, now);
    account.call(new Api.updates.GetState(), { signal: this.#signal }).catch((err: unknown) => {
      this.#opts.log.warn({ err, account: account.accountId }, 'updates.getState keep-alive failed');
    });
  }

  /** What a failed job means for the channel, the account and the lease. */
  async #failed(work: ChannelWork, err: unknown): Promise<void> {
    const id = work.channel.channelId;
    const log = this.#opts.log.child({ channel: id, account: work.accountId });
    const kind = err instanceof MtprotoCallError ? err.failure.kind : 'error';
    this.#opts.metrics?.jobFailures.inc({ job: 'channel', kind });
    try {
      if (err instanceof MtprotoCallError && err.failure.kind === 'flood') {
        await this.#moveOffParkedAccount(work.accountId);
        return;
      }
      if (err instanceof MtprotoCallError && err.failure.kind === 'channel_gone') {
        const status = err.failure.message === 'CHANNEL_PRIVATE' ? 'private' : 'gone';
        log.warn(
          { reason: err.failure.message },
          `channel is ${status}: it stays in the registry with that status and is no longer collected`,
        );
        this.#opts.metrics?.channelProblems.inc({ problem: status });
        await setChannelStatus(this.#opts.control, id, status, err.failure.message);
        await this.#drop(id);
        return;
      }
      if (err instanceof MtprotoCallError && err.failure.kind === 'no_rights') {
        if (err.method.startsWith('stats.')) {
          log.warn(
            { reason: err.failure.message },
            'no right to view statistics of this channel: official stats stop for it',
          );
          await updateChannelFacts(this.#opts.control, id, { canViewStats: false });
          work.channel.canViewStats = false;
        } else {
          log.warn({ reason: err.failure.message }, 'the account has no rights to read this channel');
          await setChannelStatus(this.#opts.control, id, 'no_rights', err.failure.message);
          await this.#drop(id);
        }
        this.#opts.metrics?.channelProblems.inc({ problem: 'no_rights' });
        return;
      }
      if (err instanceof MtprotoCallError && err.failure.kind === 'auth') {
        log.error(
          { reason: err.failure.message },
          "Telegram no longer accepts this account's session: disabled; log in again with `tgpulse login`",
        );
        await setAccountStatus(this.#opts.control, work.accountId, 'disabled', { actor: 'collector' });
        await this.#moveOffParkedAccount(work.accountId, true);
        return;
      }
      work.failures++;
      const waitMs = backoffMs(work.failures, 1000, 5 * 60_000);
      work.backoffUntil = this.#clock() + waitMs;
      log.warn({ err, waitMs }, 'collector job failed; the channel is tried again after a pause');
    } catch (handlingErr) {
      work.failures++;
      work.backoffUntil = this.#clock() + backoffMs(work.failures, 1000, 5 * 60_000);
      log.error(
        { err: handlingErr, cause: err },
        'could not record a collector failure in the control plane; retrying later',
      );
    }
  }

  /** Moves a parked (or disabled) account's channels to the healthiest usable account, or back to the pool. */
  async #moveOffParkedAccount(accountId: string, remove = false): Promise<void> {
    const to = [...this.#accounts.values()]
      .filter((a) => a.accountId !== accountId && !a.parked())
      .sort((a, b) => b.state.health - a.state.health)[0];
    const moved = [...this.works.values()].filter((w) => w.accountId === accountId);
    if (to) {
      await moveLeases(this.#opts.control, this.holder, accountId, to.accountId, { now: this.#clock() });
      for (const w of moved) {
        w.accountId = to.accountId;
        forgetAccountFacts(w);
      }
      this.#opts.metrics?.leaseChanges.inc({ change: 'moved' }, moved.length);
      this.#opts.log.info(
        { from: accountId, to: to.accountId, channels: moved.length },
        'channels moved off a parked account',
      );
    } else {
      await releaseLeases(
        this.#opts.control,
        this.holder,
        moved.map((w) => w.channel.channelId),
      );
      for (const w of moved) this.works.delete(w.channel.channelId);
      this.#opts.metrics?.leaseChanges.inc({ change: 'released' }, moved.length);
      this.#opts.log.warn(
        { account: accountId, channels: moved.length },
        'no other account to take over: channels go back to the pool until the account is free',
      );
    }
    if (remove) this.#accounts.delete(accountId);
  }

  async #drop(channelId: string): Promise<void> {
    this.works.delete(channelId);
    await releaseLeases(this.#opts.control, this.holder, [channelId]);
    this.#opts.metrics?.leaseChanges.inc({ change: 'released' });
  }
}

/** Membership is the account's: a channel moved to another account learns it again from its next snapshot. */
function forgetAccountFacts(work: ChannelWork): void {
  work.joined = null;
  work.joinTried = false;
}

/** Publishes through `publish` + `flush` and measures the lag from reading to the ack. */
export function emitVia(
  publisher: { publish(events: readonly RawEvent[]): Promise<void>; flush(): Promise<void> },
  metrics?: CollectorMetrics,
  clock: () => number = Date.now,
): Emit {
  return async (job, events, readAt) => {
    if (events.length === 0) return;
    await publisher.publish(events);
    await publisher.flush();
    metrics?.publishLag.observe({ job }, (clock() - readAt) / 1000);
    for (const e of events) metrics?.events.inc({ job, kind: e.kind });
  };
}
