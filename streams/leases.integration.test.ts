/**
 * The lease protocol on a real nats-server KV bucket, with each member's own
 * monotonic clock under the test's control: expiry is measured by the
 * observer, and every change of a lease is a compare-and-set.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KV } from '@nats-io/kv';
import { LeaseTable, type LeaseSnapshot } from './leases.ts';
import { sleep } from '../common/retry.ts';
import { startTestKv } from '../test/support/nats.ts';

const TTL = 1000;

describe('partition leases in NATS KV', () => {
  let nats: Awaited<ReturnType<typeof startTestKv>>;
  let kv: KV;

  beforeAll(async () => {
    nats = await startTestKv();
    kv = nats.kv;
  });

  const tables: LeaseTable[] = [];
  afterAll(async () => {
    for (const t of tables) t.close();
    await nats?.stop();
  });

  /** A member's view with its own clock. */
  async function member(group: string, id: string) {
    let t = 0;
    const table = new LeaseTable(kv, { group, ttlMs: TTL, now: () => t });
    await table.open();
    tables.push(table);
    return { table, id, advance: (ms: number) => (t += ms), owner: { owner: id, host: 'test', pid: 1, at: 0 } };
  }

  /** The snapshot once the watches show what `ready` expects (they are pushed, so shortly after a write). */
  async function seen(table: LeaseTable, ready: (s: LeaseSnapshot) => boolean): Promise<LeaseSnapshot> {
    for (const deadline = Date.now() + 5000; ; await sleep(10)) {
      const s = table.snapshot();
      if (ready(s)) return s;
      if (Date.now() > deadline) throw new Error('the watch did not show the expected state');
    }
  }

  it('lets one member take a free lease and keeps the others off it until it expires in their own eyes', async () => {
    const a = await member('g1', 'a');
    const b = await member('g1', 'b');
    const epoch = await a.table.acquire(0, a.owner, undefined);
    expect(epoch).toBeGreaterThan(0);
    expect(await b.table.acquire(0, b.owner, undefined)).toBeNull(); // create refused: it exists

    let lease = (await seen(b.table, (s) => s.leases.has(0))).leases.get(0);
    expect(lease?.owner).toBe('a');
    expect(b.table.isFree(lease)).toBe(false);
    // A renews within the TTL: B's observation starts over, however long B has watched.
    b.advance(TTL - 1);
    const renewed = await a.table.renew(0, a.owner, epoch!);
    expect(renewed).toBeGreaterThan(epoch!);
    await seen(b.table, (s) => s.leases.get(0)?.revision === renewed);
    b.advance(TTL - 1);
    lease = b.table.snapshot().leases.get(0);
    expect(b.table.isFree(lease)).toBe(false);
    // A goes silent: a full TTL later, in B's clock, the lease is free and B takes it.
    b.advance(TTL);
    lease = b.table.snapshot().leases.get(0);
    expect(b.table.isFree(lease)).toBe(true);
    const taken = await b.table.acquire(0, b.owner, lease);
    expect(taken).toBeGreaterThan(renewed!);
    // A's next renewal, at its old revision, is refused: A has lost the lease.
    expect(await a.table.renew(0, a.owner, renewed!)).toBeNull();
  });

  it('lets exactly one of two members win a race for the same expired lease', async () => {
    const a = await member('g2', 'a');
    await a.table.acquire(3, a.owner, undefined);
    const racers = [await member('g2', 'b'), await member('g2', 'c')];
    for (const r of racers) {
      await seen(r.table, (s) => s.leases.has(3));
      r.advance(TTL);
    }
    const views = racers.map((r) => r.table.snapshot());
    const results = await Promise.all(racers.map((r, i) => r.table.acquire(3, r.owner, views[i].leases.get(3))));
    expect(results.filter((r) => r !== null)).toHaveLength(1);
  });

  it('frees a released lease at once, and a release by a former owner changes nothing', async () => {
    const a = await member('g3', 'a');
    const b = await member('g3', 'b');
    const epoch = (await a.table.acquire(1, a.owner, undefined))!;
    await seen(b.table, (s) => s.leases.has(1));
    await a.table.release(1, epoch);
    await seen(b.table, (s) => !s.leases.has(1));
    const bEpoch = (await b.table.acquire(1, b.owner, undefined))!;
    await a.table.release(1, epoch); // stale: refused quietly
    await sleep(100);
    expect(b.table.snapshot().leases.get(1)?.revision).toBe(bEpoch);
  });

  it('counts a member live while it heartbeats and dead a TTL after it stops', async () => {
    const a = await member('g4', 'a');
    const b = await member('g4', 'b');
    await a.table.heartbeat({ id: 'a', pinned: null });
    await b.table.heartbeat({ id: 'b', pinned: [2] });
    const both = await seen(a.table, (s) => s.members.length === 2);
    expect(
      a.table
        .liveMembers(both)
        .map((m) => m.id)
        .sort(),
    ).toEqual(['a', 'b']);
    const aRevision = both.members.find((m) => m.id === 'a')!.revision;
    a.advance(TTL);
    await a.table.heartbeat({ id: 'a', pinned: null });
    const later = await seen(a.table, (s) => s.members.find((m) => m.id === 'a')!.revision > aRevision);
    expect(a.table.liveMembers(later).map((m) => m.id)).toEqual(['a']);
    await b.table.leave('b');
    expect((await seen(a.table, (s) => s.members.length === 1)).members.map((m) => m.id)).toEqual(['a']);
  });
});
