/**
 * Partition leases and group membership in a NATS KV bucket.
 *
 * - `member.{group}.{id}`: each member rewrites its key every heartbeat.
 * - `lease.{group}.p{NN}`: the owner of a partition; every change is a
 *   compare-and-set against the revision the writer last saw, so two members
 *   can never both succeed in taking or keeping the same lease.
 *
 * Members and leases are read through KV watches (pushed, no round trip per
 * heartbeat). Expiry needs no shared clock: a key is expired once its revision has not
 * changed for the TTL *as measured by the observer* (monotonic time from the
 * moment it first saw that revision). The owner, in turn, treats its lease as
 * valid only until TTL after it *sent* its last successful renewal, which is
 * never later than any observer's expiry: an owner stops before anyone else
 * may start.
 */
import type { KV, KvEntry } from '@nats-io/kv';
import { isWrongRevision, retryNats } from './nats-errors.ts';
import { sleep } from '../common/index.ts';
import { casWrite } from './kv-cas.ts';
import { partitionToken } from './contract/index.ts';
import type { Member } from './assignment.ts';

export interface LeaseValue {
  owner: string;
  host: string;
  pid: number;
  /**
   * Wall time the owner took the lease, for people reading the bucket (expiry never uses it).
   * Renewals rewrite the same bytes, so a retried renewal whose first try landed (its answer
   * lost) finds its own value at the newer revision and keeps the lease.
   */
  at: number;
}

export interface ObservedLease extends LeaseValue {
  revision: number;
  /** How long this revision has stood, as seen by this observer. */
  ageMs: number;
}

export interface ObservedMember extends Member {
  revision: number;
  ageMs: number;
}

export interface LeaseSnapshot {
  members: ObservedMember[];
  /** Present leases by partition; a missing or deleted lease is free. */
  leases: Map<number, ObservedLease>;
}

export interface LeaseTableOptions {
  /** Which pool of partitions, e.g. `processor`. */
  group: string;
  ttlMs: number;
  /** Monotonic clock (default `performance.now`). */
  now?: () => number;
  /** Told of a failed read (a watch ended or could not open), to log and count. */
  onError?: (err: unknown) => void;
}

/** Remembers since when each key has been at its current revision. */
class RevisionAges {
  #seen = new Map<string, { revision: number; since: number }>();
  constructor(private readonly now: () => number) {}

  age(key: string, revision: number): number {
    const t = this.now();
    const s = this.#seen.get(key);
    if (!s || s.revision !== revision) {
      this.#seen.set(key, { revision, since: t });
      return 0;
    }
    return t - s.since;
  }
}

export class LeaseTable {
  readonly #ages: RevisionAges;
  readonly now: () => number;
  /** Latest entries seen by the watches, by key. */
  readonly #members = new Map<string, KvEntry>();
  readonly #leases = new Map<string, KvEntry>();
  readonly #watches = new Set<{ stop(): void }>();
  readonly #closed = new AbortController();

  constructor(
    private readonly kv: KV,
    private readonly opts: LeaseTableOptions,
  ) {
    this.now = opts.now ?? (() => performance.now());
    this.#ages = new RevisionAges(this.now);
  }

  get ttlMs(): number {
    return this.opts.ttlMs;
  }

  leaseKey(partition: number): string {
    return `lease.${this.opts.group}.${partitionToken(partition)}`;
  }

  memberKey(id: string): string {
    return `member.${this.opts.group}.${id}`;
  }

  /**
   * Starts watching the group's members and leases. Reads then cost no round
   * trip: on a busy event loop every sequential request of a heartbeat
   * waits a full turn, and heartbeats must stay well inside the TTL.
   */
  async open(): Promise<void> {
    await Promise.all([
      this.#watch(`member.${this.opts.group}.>`, this.#members),
      this.#watch(`lease.${this.opts.group}.>`, this.#leases),
    ]);
  }

  /** Keeps `into` equal to the keys under `filter`; a watch that ends (NATS restarted) is opened again. */
  async #watch(filter: string, into: Map<string, KvEntry>): Promise<void> {
    const open = () =>
      retryNats(() => this.kv.watch({ key: filter }), { signal: this.#closed.signal, onRetry: this.opts.onError });
    let watch = await open();
    this.#watches.add(watch);
    void (async () => {
      while (!this.#closed.signal.aborted) {
        try {
          for await (const e of watch) {
            if (e.operation === 'PUT') into.set(e.key, e);
            else into.delete(e.key);
          }
        } catch (err) {
          this.opts.onError?.(err);
        }
        this.#watches.delete(watch);
        if (this.#closed.signal.aborted) return;
        await sleep(200, this.#closed.signal);
        // The new watch delivers every current value again; a key deleted meanwhile stays as it was
        // last seen, ages, and counts as gone after the TTL, which errs on the safe side.
        watch = await open().catch(() => watch);
        this.#watches.add(watch);
      }
    })();
  }

  close(): void {
    this.#closed.abort();
    for (const w of this.#watches) w.stop();
    this.#watches.clear();
  }

  /** Every member and lease of the group as the watches have seen them. */
  snapshot(): LeaseSnapshot {
    const members: ObservedMember[] = [];
    const leases = new Map<number, ObservedLease>();
    for (const entry of this.#members.values()) {
      const v = parse<Member>(entry);
      if (v)
        members.push({
          id: v.id,
          pinned: v.pinned,
          revision: entry.revision,
          ageMs: this.#ages.age(entry.key, entry.revision),
        });
    }
    for (const entry of this.#leases.values()) {
      const v = parse<LeaseValue>(entry);
      const partition = Number(entry.key.slice(entry.key.lastIndexOf('.p') + 2));
      if (v && Number.isInteger(partition))
        leases.set(partition, { ...v, revision: entry.revision, ageMs: this.#ages.age(entry.key, entry.revision) });
    }
    return { members, leases };
  }

  /** Members whose key changed within the TTL. */
  liveMembers(snapshot: LeaseSnapshot): ObservedMember[] {
    return snapshot.members.filter((m) => m.ageMs < this.opts.ttlMs);
  }

  /** A lease nobody holds: deleted, or unchanged for the TTL. */
  isFree(lease: ObservedLease | undefined): boolean {
    return lease === undefined || lease.ageMs >= this.opts.ttlMs;
  }

  async heartbeat(member: Member): Promise<void> {
    await this.kv.put(this.memberKey(member.id), JSON.stringify(member));
  }

  async leave(memberId: string): Promise<void> {
    await this.kv.delete(this.memberKey(memberId));
  }

  /**
   * Takes a free lease: creates it, or replaces the expired one at the
   * revision observed. Returns the revision written, which is also the
   * owner's epoch (unique and increasing: the fencing token), or null when
   * another member got there first.
   */
  acquire(partition: number, lease: LeaseValue, expired: ObservedLease | undefined): Promise<number | null> {
    return casWrite(this.kv, this.leaseKey(partition), leaseBytes(lease), expired?.revision ?? 0);
  }

  /**
   * Rewrites a held lease (the value it was acquired with) at the revision
   * last written; null when it is no longer ours.
   */
  renew(partition: number, lease: LeaseValue, revision: number): Promise<number | null> {
    return casWrite(this.kv, this.leaseKey(partition), leaseBytes(lease), revision);
  }

  /** Gives a held lease up (only if still at our revision), so the next owner need not wait for the TTL. */
  async release(partition: number, revision: number): Promise<void> {
    try {
      await this.kv.delete(this.leaseKey(partition), { previousSeq: revision });
    } catch (err) {
      if (!isWrongRevision(err)) throw err;
    }
  }
}

/** A lease's stored bytes, the same for every write of one ownership (fields in a fixed order). */
function leaseBytes(l: LeaseValue): string {
  return JSON.stringify({ owner: l.owner, host: l.host, pid: l.pid, at: l.at });
}

function parse<T>(entry: KvEntry): T | null {
  try {
    return entry.json<T>();
  } catch {
    return null;
  }
}
