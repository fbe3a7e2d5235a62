/**
 * The stream machinery against a real nats-server: topology is idempotent,
 * republished batches are dropped by their Nats-Msg-Id, large batches are
 * split under the size limit, checkpoints survive in chunks, fence stale
 * owners and survive a head write whose answer was lost, and the puller
 * hands out batches and an empty batch when idle.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { setMaxListeners } from 'node:events';
import type { ChannelMembersEvent } from './contract/events.ts';
import { defaultStreamsConfig } from './config.ts';
import { CheckpointStore, FencedError } from './checkpoint.ts';
import { ensureDurable } from './consumers.ts';
import { retryNats } from './nats-errors.ts';
import { eventId } from './contract/ids.ts';
import { EventPublisher } from './publisher.ts';
import { BatchPuller } from './puller.ts';
import { ensureStreams, openCheckpointBucket } from './topology.ts';
import { startTestNats, type TestNats } from '../test/support/nats.ts';

function members(channel: string, i: number): ChannelMembersEvent {
  const t = Date.UTC(2026, 0, 1) + i * 60_000;
  return {
    v: 1,
    kind: 'channel_members',
    id: eventId('cm', channel, t),
    channel_id: channel,
    event_time: t,
    observed_at: t,
    source: 'simulator',
    data: { members: 1000 + i },
  };
}

describe('streams on a real nats-server', () => {
  let server: TestNats;
  let nc: NatsConnection;
  let js: JetStreamClient;
  let jsm: JetStreamManager;

  beforeAll(async () => {
    server = await startTestNats();
    nc = await connect({ servers: server.url });
    js = jetstream(nc);
    jsm = await jetstreamManager(nc);
    await ensureStreams(jsm, defaultStreamsConfig);
  });
  afterAll(async () => {
    await nc?.close();
    await server?.stop();
  });

  it('creates the topology idempotently', async () => {
    await ensureStreams(jsm, defaultStreamsConfig);
    const names = [];
    for await (const s of jsm.streams.list()) names.push(s.config.name);
    expect(names.sort()).toEqual(expect.arrayContaining(['TG_DERIVED', 'TG_DLQ', 'TG_RAW']));
  });

  it('drops a republished batch and splits a large one under the size limit', async () => {
    const before = (await jsm.streams.info('TG_RAW')).state.messages;
    const pub = new EventPublisher(js, { partitions: 8, maxBatchBytes: 4096, maxInflight: 16, stream: 'TG_RAW' });
    const batch = Array.from({ length: 100 }, (_, i) => members('4242', i));
    await pub.publish(batch);
    await pub.flush();
    const first = (await jsm.streams.info('TG_RAW')).state.messages - before;
    expect(first).toBeGreaterThan(1); // 100 events of ~250 bytes do not fit in 4 KiB
    await pub.publish(batch); // a retry of the same facts
    await pub.flush();
    expect((await jsm.streams.info('TG_RAW')).state.messages - before).toBe(first);
    expect(pub.duplicates).toBe(first);
  });

  it('checkpoints a state larger than one NATS message, with deltas on it, and restores it exactly', async () => {
    const kv = await openCheckpointBucket(nc, defaultStreamsConfig);
    const store = new CheckpointStore(kv, 'test.p00');
    expect(await store.claim(5)).toBeNull();
    const big = JSON.stringify({
      posts: Array.from({ length: 40_000 }, (_, i) => ({ id: i, views: i * 7, emoji: '🔥' })),
    });
    const h1 = await store.saveBase(17, big);
    expect(h1.base!.chunks).toBeGreaterThan(1);
    await store.saveDelta(30, '{"d":1}');
    await store.saveDelta(42, '{"d":2}');
    const loaded = await new CheckpointStore(kv, 'test.p00').claim(6);
    expect(loaded?.head.seq).toBe(42);
    expect(loaded?.base).toBe(big);
    expect(loaded?.deltas).toEqual(['{"d":1}', '{"d":2}']);
  });

  it('refuses the checkpoint of a stale owner once a newer owner has claimed it', async () => {
    const kv = await openCheckpointBucket(nc, defaultStreamsConfig);
    const stale = new CheckpointStore(kv, 'test.p01');
    await stale.claim(10);
    await stale.saveBase(100, '{"owner":"stale"}');
    const fresh = new CheckpointStore(kv, 'test.p01');
    expect((await fresh.claim(11))?.base).toBe('{"owner":"stale"}');
    const refused = await stale.saveDelta(150, '{"late":true}').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(FencedError);
    await fresh.saveBase(120, '{"owner":"fresh"}');
    const now = await new CheckpointStore(kv, 'test.p01').claim(12);
    expect(now?.head.seq).toBe(120);
    expect(now?.base).toBe('{"owner":"fresh"}');
    expect(now?.deltas).toEqual([]);
  });

  it('refuses a claim of an older epoch than the one that holds the head (a stale owner retrying its claim)', async () => {
    const kv = await openCheckpointBucket(nc, defaultStreamsConfig);
    const newer = new CheckpointStore(kv, 'test.p02');
    await newer.claim(20);
    await newer.saveBase(200, '{"owner":"newer"}');
    const stale = await new CheckpointStore(kv, 'test.p02').claim(19).catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(FencedError);
    // The newer owner was not fenced by it.
    await newer.saveDelta(210, '{"still":"mine"}');
    expect((await new CheckpointStore(kv, 'test.p02').claim(21))?.deltas).toEqual(['{"still":"mine"}']);
  });

  it.each(['base', 'delta'] as const)(
    'keeps a %s checkpoint whose head write landed but whose answer was lost, when the save is retried',
    async (kind) => {
      const kv = await openCheckpointBucket(nc, defaultStreamsConfig);
      const key = `test.p0${kind === 'base' ? 3 : 4}`;
      const real = new CheckpointStore(kv, key);
      await real.claim(30);
      await real.saveBase(300, '{"n":0}');
      let loseNext = false;
      const lossy = new Proxy(kv, {
        get(target, prop) {
          const value = Reflect.get(target, prop, target) as unknown;
          if (prop !== 'update' || typeof value !== 'function')
            return typeof value === 'function' ? value.bind(target) : value;
          return async (...args: Parameters<typeof kv.update>) => {
            const revision = await target.update(...args);
            if (!loseNext) return revision;
            loseNext = false;
            throw Object.assign(new Error('TIMEOUT'), { name: 'TimeoutError' });
          };
        },
      });
      const store = new CheckpointStore(lossy, key);
      await store.claim(31);
      // The next head update reaches the server, and then its answer is lost (a NATS failover).
      loseNext = true;
      // As the processors save: NATS timeouts are retried.
      const save = () => (kind === 'base' ? store.saveBase(310, '{"n":1}') : store.saveDelta(310, '{"n":1}'));
      await retryNats(save, { maxMs: 50 });
      expect(loseNext).toBe(false);
      // The owner goes on: it was not taken for fenced, and the segment the head names is still there.
      await store.saveDelta(320, '{"n":2}');
      const loaded = await new CheckpointStore(kv, key).claim(32);
      expect(loaded?.head.seq).toBe(320);
      expect([loaded?.base, ...(loaded?.deltas ?? [])]).toEqual(
        kind === 'base' ? ['{"n":1}', '{"n":2}'] : ['{"n":0}', '{"n":1}', '{"n":2}'],
      );
    },
  );

  it('pulls batches, and an empty batch when idle', async () => {
    const spec = {
      stream: 'TG_RAW',
      name: 'puller_test',
      filterSubject: 'tg.raw.>',
      ackWaitMs: 30_000,
      maxAckPending: 10_000,
    };
    await ensureDurable(jsm, spec);
    const ac = new AbortController();
    setMaxListeners(20, ac.signal);
    const puller = new BatchPuller(await js.consumers.get(spec.stream, spec.name), {
      maxBatch: 5,
      maxWaitMs: 20,
      signal: ac.signal,
    });
    await puller.start();
    let seen = 0;
    for (;;) {
      const b = await puller.next(300);
      if (!b.length) break;
      expect(b.length).toBeLessThanOrEqual(5);
      for (const m of b) m.ack();
      seen += b.length;
    }
    expect(seen).toBe((await jsm.streams.info('TG_RAW')).state.messages);
    ac.abort();
  });
});
