/**
 * Partition ownership: any number of `tgpulse process` processes share the P
 * partitions through leases in NATS KV (see streams/leases.ts). Every tick a
 * member heartbeats, renews the leases it holds, computes its share from the
 * live members, hands off what is no longer its share (drain, checkpoint,
 * release) and takes what is free. A lease it cannot renew is lost: its
 * partition stops at once. A member that dies stops renewing; its leases
 * expire after the TTL and the others take them over.
 *
 * ```ts
 * await runOwnership({ table, partitions: 8, pinned: null, log, metrics, signal,
 *   run: (partition, lease, signal) => runPartition({ ...deps, partition, lease, signal }) });
 * ```
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { assignPartitions, type LeaseTable, type LeaseValue, type ObservedLease } from '../streams/index.ts';
import { sleep } from '../common/index.ts';
import { partitionToken } from '../streams/contract/index.ts';
import type { Logger, PipelineMetrics } from '../observability/index.ts';
import type { PartitionLease } from './runtime.ts';

export interface OwnershipOptions {
  table: LeaseTable;
  partitions: number;
  /** `--partitions`: this member takes exactly these (still under leases); null for a share of the rest. */
  pinned: number[] | null;
  log: Logger;
  metrics: PipelineMetrics;
  signal: AbortSignal;
  memberId?: string;
  /** Runs one owned partition until its signal aborts; resolves once drained and checkpointed. */
  run(partition: number, lease: PartitionLease, signal: AbortSignal): Promise<void>;
}

interface Held {
  partition: number;
  epoch: number;
  revision: number;
  /** The value the lease was taken with; every renewal writes it again. */
  value: LeaseValue;
  /** Monotonic time until which no one else can have taken the lease. */
  validUntil: number;
  /**
   * When the first renewal without an answer (a NATS timeout) was sent, until one is answered:
   * it may have landed, so the lease may have been renewed as early as then.
   */
  unansweredSince: number | null;
  controller: AbortController;
  /** The partition's run, while one is going. */
  running: Promise<void> | null;
  /** Asked to stop for a handoff: release once the run has drained. */
  releasing: boolean;
  /** The lease went to someone else: the run must stop without another write. */
  lost: boolean;
}

/** A member id unique across machines and restarts, safe as a KV key token. */
export function newMemberId(): string {
  const host =
    hostname()
      .replace(/[^A-Za-z0-9_-]/g, '_')
      .slice(0, 40) || 'host';
  return `${host}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/** Runs the ownership loop until the signal aborts; then drains every held partition and releases its lease. */
export async function runOwnership(opts: OwnershipOptions): Promise<void> {
  const { table, log, metrics } = opts;
  const me = { id: opts.memberId ?? newMemberId(), pinned: opts.pinned };
  const owner = { owner: me.id, host: hostname(), pid: process.pid };
  const held = new Map<number, Held>();
  const tickMs = Math.max(100, Math.floor(table.ttlMs / 3));
  const mlog = log.child({ role: 'process', member: me.id });
  mlog.info({ pinned: me.pinned, ttlMs: table.ttlMs }, 'joining the processor group');

  const start = (h: Held) => {
    const lease: PartitionLease = { epoch: h.epoch, valid: () => !h.lost && table.now() < h.validUntil };
    metrics.partitionOwned.set({ partition: partitionToken(h.partition) }, 1);
    h.running = opts.run(h.partition, lease, h.controller.signal).then(
      () => undefined,
      (err: unknown) => {
        const name = (err as Error)?.name ?? 'Error';
        metrics.errors.inc({ stage: 'process', error: name });
        const fields = { err, partition: partitionToken(h.partition), epoch: h.epoch };
        // Fencing and expiry are the protocol working (a newer owner exists, or may), and so is any
        // failure once the lease is gone (the new owner removed our consumer); anything else is a fault.
        if (name === 'FencedError' || name === 'LeaseExpiredError' || !lease.valid())
          mlog.warn(fields, 'partition stopped: no longer its owner');
        else mlog.error(fields, 'partition stopped with an error');
      },
    );
    void h.running.finally(() => {
      h.running = null;
      metrics.partitionOwned.set({ partition: partitionToken(h.partition) }, 0);
    });
  };

  /** A time of `table.now()`'s clock as wall time, for logs. */
  const wallTime = (t: number) => Date.now() - (table.now() - t);

  const lose = (h: Held, why: string) => {
    h.lost = true;
    h.controller.abort(new Error(why));
    held.delete(h.partition);
    metrics.ownershipChanges.inc({ partition: partitionToken(h.partition), change: 'lost' });
    // valid_until in wall time: the end of this owner's claim, for checking that owners never overlap.
    mlog.warn(
      { partition: partitionToken(h.partition), epoch: h.epoch, why, valid_until: wallTime(h.validUntil) },
      'partition lost',
    );
  };

  const tick = async () => {
    // Heartbeat and renewals in one round trip: the lease's validity runs from when the renewal was sent.
    await Promise.all([
      table.heartbeat(me),
      ...[...held.values()].map(async (h) => {
        const sent = table.now();
        let revision: number | null;
        try {
          revision = await table.renew(h.partition, h.value, h.revision);
        } catch (err) {
          h.unansweredSince ??= sent;
          throw err;
        }
        if (revision === null) return lose(h, 'renewal refused: another member holds it');
        h.revision = revision;
        // A renewal that landed unanswered is adopted by this one (same bytes, see LeaseValue.at); others
        // have seen its revision since it was sent, so the validity runs from that send, not this one.
        h.validUntil = Math.min(sent, h.unansweredSince ?? sent) + table.ttlMs;
        h.unansweredSince = null;
      }),
    ]);
    const snapshot = table.snapshot();
    const live = table.liveMembers(snapshot).filter((m) => m.id !== me.id);
    const share = new Set(assignPartitions(opts.partitions, [...live, me]).get(me.id) ?? []);
    for (const h of held.values()) {
      if (share.has(h.partition) || h.releasing) continue;
      // Handoff: drain and checkpoint, then release so the new owner need not wait for the TTL.
      h.releasing = true;
      h.controller.abort(new Error('handoff'));
      mlog.info({ partition: partitionToken(h.partition), epoch: h.epoch }, 'handing partition off');
    }
    for (const h of [...held.values()]) {
      if (h.running !== null) continue;
      if (h.releasing) await release(h);
      // The run ended on its own (an error, or its lease looked expired while paused): start again while we hold it.
      else if (table.now() < h.validUntil) {
        h.controller = childController(opts.signal);
        start(h);
      }
    }
    for (const partition of share) {
      if (held.has(partition)) continue;
      const lease = snapshot.leases.get(partition);
      if (!table.isFree(lease)) continue;
      await acquire(partition, lease);
    }
  };

  const acquire = async (partition: number, lease: ObservedLease | undefined) => {
    const sent = table.now();
    const value = { ...owner, at: Date.now() };
    const epoch = await table.acquire(partition, value, lease);
    if (epoch === null) return;
    const h: Held = {
      partition,
      epoch,
      revision: epoch,
      value,
      validUntil: sent + table.ttlMs,
      unansweredSince: null,
      controller: childController(opts.signal),
      running: null,
      releasing: false,
      lost: false,
    };
    held.set(partition, h);
    metrics.ownershipChanges.inc({ partition: partitionToken(partition), change: 'acquired' });
    const fields = { partition: partitionToken(partition), epoch, previous_owner: lease?.owner ?? null };
    // A member paused right after winning may wake with the lease already gone: "acquired" is only
    // said of a lease still valid, so the log never shows an ownership that did not happen. The run
    // starts either way and stops at its first lease check.
    if (table.now() < h.validUntil) mlog.info(fields, 'partition acquired');
    else mlog.warn(fields, 'partition won, but its lease ran out before it started');
    start(h);
  };

  const release = async (h: Held) => {
    // Its run has ended: from here on this member does nothing with the partition. Its claim may
    // have ended earlier, if renewals ran late while the run drained: the lease ran out then
    // (the run stops writing once it may have), and another member may already hold it.
    const until = Math.min(Date.now(), wallTime(h.validUntil));
    await table.release(h.partition, h.revision);
    held.delete(h.partition);
    metrics.ownershipChanges.inc({ partition: partitionToken(h.partition), change: 'released' });
    mlog.info({ partition: partitionToken(h.partition), epoch: h.epoch, until }, 'partition released');
  };

  await table.open();
  try {
    let lastTick = table.now();
    while (!opts.signal.aborted) {
      const began = table.now();
      // A late heartbeat (a blocked event loop, a slow NATS) is how leases run out under load: say so.
      if (began - lastTick > 2 * tickMs)
        mlog.warn({ lateMs: Math.round(began - lastTick - tickMs) }, 'lease heartbeat late');
      lastTick = began;
      try {
        await tick();
        const took = table.now() - began;
        if (took > tickMs) mlog.warn({ tookMs: Math.round(took) }, 'lease heartbeat slow');
      } catch (err) {
        // NATS frozen or restarting: leases that cannot be renewed run out and their partitions stop on their own.
        metrics.errors.inc({ stage: 'process', error: 'ownership_tick' });
        mlog.warn({ err: String(err) }, 'lease heartbeat failed; retrying');
      }
      await sleep(Math.max(0, tickMs - (table.now() - began)), opts.signal);
    }
  } finally {
    // Shutdown: every partition drains and checkpoints (the signal reached them), then leases go back.
    await Promise.all([...held.values()].map((h) => h.running));
    for (const h of [...held.values()])
      await release(h).catch((err: unknown) =>
        mlog.warn(
          { err: String(err), partition: partitionToken(h.partition) },
          'could not release lease; it expires after the TTL',
        ),
      );
    await table.leave(me.id).catch(() => undefined);
    table.close();
    mlog.info('left the processor group');
  }
}

/** An abort controller that also aborts with the parent signal. */
function childController(parent: AbortSignal): AbortController {
  const c = new AbortController();
  setMaxListeners(100, c.signal);
  if (parent.aborted) c.abort(parent.reason);
  else {
    // Runs restart many times under one process signal: drop the link once this child is done.
    const follow = () => c.abort(parent.reason);
    parent.addEventListener('abort', follow, { once: true });
    c.signal.addEventListener('abort', () => parent.removeEventListener('abort', follow), { once: true });
  }
  return c;
}
