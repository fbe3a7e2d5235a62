/**
 * The register of forgotten channels against a real nats-server: it names no
 * channel in clear, its watchers see a forget within the watch's latency and
 * a register loaded at start at once, a re-add lets only new messages through,
 * and a purge removes the channel's own subjects and nothing else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { silentLogger } from '../observability/index.ts';
import { startTestNats, type TestNats } from '../test/support/nats.ts';
import { until } from '../test/support/until.ts';
import { defaultStreamsConfig as streams } from './config.ts';
import {
  channelDigest,
  dropsEvent,
  type ForgottenEntry,
  forgottenKey,
  parseForgottenEntry,
  purgeChannelSubjects,
  readForgotten,
  readmitForgotten,
  registerForgotten,
} from './forgotten.ts';
import { ForgottenChannels } from './forgotten-watch.ts';
import { ensureStreams, openCheckpointBucket } from './topology.ts';

describe('the register, pure', () => {
  const entry = (active: boolean): ForgottenEntry => ({
    at: 1,
    active,
    readmittedAt: active ? null : 2,
    seqs: { raw: 100, derived: 50, dlq: 7 },
  });

  it('keys a channel by the sha256 of its id, never the id', () => {
    expect(channelDigest('1001234567')).toMatch(/^[0-9a-f]{64}$/);
    expect(forgottenKey('1001234567')).toBe(`forgotten.${channelDigest('1001234567')}`);
    expect(forgottenKey('1001234567')).not.toContain('1001234567');
  });

  it('drops everything while active, and after a re-add what the streams held then', () => {
    expect(dropsEvent(entry(true), 'raw', 1_000_000)).toBe(true);
    expect(dropsEvent(entry(false), 'raw', 100)).toBe(true);
    expect(dropsEvent(entry(false), 'raw', 101)).toBe(false);
    expect(dropsEvent(entry(false), 'derived', 51)).toBe(false);
    expect(dropsEvent(entry(false), 'dlq', 7)).toBe(true);
  });

  it('reads back what it writes and nothing else', () => {
    expect(parseForgottenEntry(JSON.stringify(entry(false)))).toEqual(entry(false));
    expect(parseForgottenEntry('{')).toBeNull();
    expect(parseForgottenEntry('{"at":1,"active":true}')).toBeNull();
    expect(parseForgottenEntry('{"at":1,"active":"yes","seqs":{"raw":1,"derived":1,"dlq":1}}')).toBeNull();
  });
});

describe('the register on a real nats-server', () => {
  let server: TestNats;
  let nc: NatsConnection;
  let js: JetStreamClient;
  let jsm: JetStreamManager;
  let kv: KV;
  let watcher: ForgottenChannels;

  beforeAll(async () => {
    server = await startTestNats();
    nc = await connect({ servers: server.url });
    js = jetstream(nc);
    jsm = await jetstreamManager(nc);
    await ensureStreams(jsm, streams);
    kv = await openCheckpointBucket(nc, streams);
    watcher = await ForgottenChannels.watch(kv, { log: silentLogger });
  });
  afterAll(async () => {
    await watcher?.stop();
    await nc?.close();
    await server?.stop();
  });

  it('is seen by a running watcher, and the version moves', async () => {
    await js.publish('tg.raw.p01.post.2000000001', '[]');
    const version = watcher.version;
    expect(watcher.isForgotten('2000000001', 'raw', 1)).toBe(false);
    const entry = await registerForgotten(kv, jsm, streams, '2000000001', Date.UTC(2026, 0, 1));
    expect(entry).toMatchObject({ active: true, readmittedAt: null, seqs: { raw: 1, derived: 0, dlq: 0 } });
    await until('the watcher sees the forget', () => watcher.isForgotten('2000000001', 'raw', 1_000_000));
    expect(watcher.version).toBeGreaterThan(version);
    expect(watcher.isForgotten('2000000002', 'raw', 1)).toBe(false);
    expect(await readForgotten(kv, '2000000001')).toEqual(entry);
    expect(await readForgotten(kv, '2000000002')).toBeNull();
  });

  it('lets new messages through after a re-add, and drops what the streams held then', async () => {
    await js.publish('tg.raw.p01.post._', '[]');
    const before = (await jsm.streams.info(streams.names.raw)).state.last_seq;
    const entry = await readmitForgotten(kv, jsm, streams, '2000000001', Date.UTC(2026, 0, 2));
    expect(entry).toMatchObject({ active: false, readmittedAt: Date.UTC(2026, 0, 2), seqs: { raw: before } });
    await until('the watcher sees the re-add', () => !watcher.isForgotten('2000000001', 'raw', before + 1));
    expect(watcher.isForgotten('2000000001', 'raw', before)).toBe(true);
    // Not forgotten, or already readmitted: nothing changes.
    expect(await readmitForgotten(kv, jsm, streams, '2000000009', Date.now())).toBeNull();
    expect(await readmitForgotten(kv, jsm, streams, '2000000001', Date.now())).toBeNull();
    expect(await readForgotten(kv, '2000000001')).toEqual(entry);
  });

  it('is loaded whole before a watcher starting later answers', async () => {
    await registerForgotten(kv, jsm, streams, '2000000003', Date.now());
    const late = await ForgottenChannels.watch(kv, { log: silentLogger });
    try {
      expect(late.isForgotten('2000000003', 'derived', 1)).toBe(true);
      expect(late.isForgotten('2000000001', 'raw', 1)).toBe(true);
      expect(late.isForgotten('2000000001', 'raw', 1_000_000)).toBe(false);
    } finally {
      await late.stop();
    }
  });

  it('ignores an entry it cannot read, and forgets a deleted one', async () => {
    await kv.put('forgotten.junk', 'not json');
    await registerForgotten(kv, jsm, streams, '2000000004', Date.now());
    await until('the watcher sees the forget', () => watcher.isForgotten('2000000004', 'raw', 1));
    await kv.delete(forgottenKey('2000000004'));
    await until('the watcher sees the deletion', () => !watcher.isForgotten('2000000004', 'raw', 1));
  });

  it('reads the whole register again now and then, in case its watch stopped delivering', async () => {
    // A bucket whose watches never see the register.
    const deaf = new Proxy(kv, {
      get(target, prop) {
        if (prop === 'watch') return () => target.watch({ key: 'nothing.>' });
        const value = Reflect.get(target, prop);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const polling = await ForgottenChannels.watch(deaf, { log: silentLogger, reloadMs: 20 });
    try {
      await registerForgotten(kv, jsm, streams, '2000000007', Date.now());
      await until('the reload sees the forget', () => polling.isForgotten('2000000007', 'raw', 1));
      await kv.purge(forgottenKey('2000000007'));
      await until('the reload sees the purge', () => !polling.isForgotten('2000000007', 'raw', 1));
    } finally {
      await polling.stop();
    }
  });

  it('purges the channel’s own subjects from TG_RAW and TG_DERIVED, and nothing else', async () => {
    for (const subject of [
      'tg.raw.p03.post.2000000005',
      'tg.raw.p03.post_counters.2000000005',
      'tg.raw.p03.post._',
      'tg.raw.p03.post.20000000050',
      'tg.derived.p03.trend.2000000005',
      'tg.derived.p03.trend.2000000006',
    ])
      await js.publish(subject, '[]');
    const count = async (stream: string, filter: string) =>
      (await jsm.streams.info(stream, { subjects_filter: filter })).state.subjects ?? {};
    expect(await purgeChannelSubjects(jsm, streams, '2000000005')).toEqual({ raw: 2, derived: 1 });
    expect(Object.keys(await count(streams.names.raw, 'tg.raw.p03.>')).sort()).toEqual([
      'tg.raw.p03.post.20000000050',
      'tg.raw.p03.post._',
    ]);
    expect(Object.keys(await count(streams.names.derived, 'tg.derived.p03.>'))).toEqual([
      'tg.derived.p03.trend.2000000006',
    ]);
    await expect(purgeChannelSubjects(jsm, streams, '2000000005.>')).rejects.toThrow(/bare decimal id/);
  });
});
