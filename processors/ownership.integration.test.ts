/**
 * Partition ownership among several members on a real nats-server: shares
 * are balanced, a joining member gets its share by handoff, a member that
 * goes silent (its NATS requests time out) stops its partitions before the
 * others take them over, and no partition ever has two active owners.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TimeoutError } from '@nats-io/transport-node';
import type { KV } from '@nats-io/kv';
import { setMaxListeners } from 'node:events';
import { LeaseTable } from '../streams/leases.ts';
import { sleep } from '../common/retry.ts';
import { silentLogger } from '../observability/log.ts';
import { PipelineMetrics } from '../observability/metrics.ts';
import { startTestKv } from '../test/support/nats.ts';
import { until } from '../test/support/until.ts';
import { runOwnership } from './ownership.ts';
import { LeaseExpiredError } from './runtime.ts';

const TTL = 900;
const PARTITIONS = 8;

interface Interval {
  member: string;
  partition: number;
  from: number;
  to: number;
}

describe('partition ownership', () => {
  let nats: Awaited<ReturnType<typeof startTestKv>>;
  let kv: KV;
  const intervals: Interval[] = [];

  beforeAll(async () => {
    nats = await startTestKv();
    kv = nats.kv;
  });

  afterAll(async () => {
    await nats?.stop();
  });

  /**
   * A member whose KV requests can be made to time out, as when its link to NATS freezes, or
   * whose next update can reach the server and then lose its answer, as in a NATS failover.
   */
  function startMember(id: string, pinned: number[] | null = null, group = 'owners') {
    let frozen = false;
    let loseNextAnswer = false;
    const flaky = new Proxy(kv, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (typeof v !== 'function') return v;
        const call = (args: unknown[]) => (v as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        return async (...args: unknown[]) => {
          if (frozen) throw new TimeoutError();
          if (prop !== 'update' || !loseNextAnswer) return call(args);
          loseNextAnswer = false;
          await call(args);
          throw new TimeoutError();
        };
      },
    });
    const controller = new AbortController();
    setMaxListeners(100, controller.signal);
    const owned = new Set<number>();
    const done = runOwnership({
      table: new LeaseTable(flaky, { group, ttlMs: TTL }),
      partitions: PARTITIONS,
      pinned,
      log: silentLogger,
      metrics: new PipelineMetrics(),
      signal: controller.signal,
      memberId: id,
      async run(partition, lease, signal) {
        const from = Date.now();
        // The owner acts only after finding its lease valid: its ownership ends at the last such
        // check, not when its loop (which may wake late on a busy machine) notices the expiry.
        let acted = from;
        owned.add(partition);
        try {
          while (!signal.aborted) {
            const now = Date.now();
            if (!lease.valid()) throw new LeaseExpiredError(partition, lease.epoch);
            acted = now;
            await sleep(10, signal);
          }
        } finally {
          owned.delete(partition);
          intervals.push({ member: id, partition, from, to: acted });
        }
      },
    });
    return {
      id,
      owned,
      freeze: () => (frozen = true),
      loseNextAnswer: () => (loseNextAnswer = true),
      answerLost: () => !loseNextAnswer,
      stop: async () => {
        controller.abort();
        await done;
      },
    };
  }

  it('balances, hands off on join, takes over from a silent member, and never has two owners at once', async () => {
    const a = startMember('a');
    await until('A owns everything', () => a.owned.size === PARTITIONS, 10_000);
    const b = startMember('b');
    const c = startMember('c');
    await until(
      'three-way split',
      () => a.owned.size + b.owned.size + c.owned.size === PARTITIONS && [a, b, c].every((m) => m.owned.size >= 2),
      10_000,
    );
    expect([a, b, c].map((m) => m.owned.size).sort()).toEqual([2, 3, 3]);

    // B goes silent: its partitions stop on their own within the TTL, then A and C take them.
    const bHeld = [...b.owned];
    const frozenAt = Date.now();
    b.freeze();
    await until('B stopped its partitions', () => b.owned.size === 0, TTL * 2);
    await until('A and C took them over', () => a.owned.size + c.owned.size === PARTITIONS, TTL * 6);
    const movedIn = Date.now() - frozenAt;
    expect(movedIn).toBeLessThan(TTL * 2 + 1500);
    for (const p of bHeld) expect(a.owned.has(p) || c.owned.has(p)).toBe(true);

    await Promise.all([a.stop(), b.stop(), c.stop()]);
    // Every partition's owners, in time order, never overlap.
    for (let p = 0; p < PARTITIONS; p++) {
      const spans = intervals.filter((i) => i.partition === p).sort((x, y) => x.from - y.from);
      for (let i = 1; i < spans.length; i++)
        expect(spans[i].from, `partition ${p}: ${spans[i - 1].member} then ${spans[i].member}`).toBeGreaterThanOrEqual(
          spans[i - 1].to,
        );
    }
  });

  it('keeps a lease whose renewal landed but lost its answer: the retry finds its own write', async () => {
    const m = startMember('lossy', null, 'lossy');
    await until('it owns everything', () => m.owned.size === PARTITIONS, 10_000);
    m.loseNextAnswer();
    await until('a renewal lost its answer', m.answerLost, 5000);
    // A few heartbeats later every run is still the first one: no lease was taken for lost.
    await sleep(TTL * 3);
    expect(m.owned.size).toBe(PARTITIONS);
    expect(intervals.filter((i) => i.member === 'lossy')).toEqual([]);
    await m.stop();
  });

  it('keeps a pinned member on exactly its partitions and shares the rest among the others', async () => {
    const free = startMember('free', null, 'pinned');
    await until('the free member owns everything', () => free.owned.size === PARTITIONS, 10_000);
    const pin = startMember('pin', [5], 'pinned');
    await until(
      'the pinned member holds its partition',
      () => pin.owned.has(5) && free.owned.size === PARTITIONS - 1,
      10_000,
    );
    expect([...pin.owned]).toEqual([5]);
    expect(free.owned.has(5)).toBe(false);
    await Promise.all([free.stop(), pin.stop()]);
  });
});
