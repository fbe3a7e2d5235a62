/**
 * Stream snapshots and restores against real nats-servers: messages (subjects, payloads,
 * headers, sequences and gaps) and a durable's acks come back after a delete and on a fresh
 * server, the checkpoint bucket comes back as a bucket, and what cannot be restored (an existing
 * stream, a truncated or corrupt file, a missing stream, a memory stream) is refused with the
 * reason, leaving no stream behind. A scripted peer on a server without JetStream plays a server
 * that stalls mid-transfer or gives up, which a healthy server cannot be made to do on cue.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AckPolicy,
  type ConsumerInfo,
  jetstream,
  jetstreamManager,
  StorageType,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { dieWithParent, stopChild } from '../clickhouse/local-server/index.ts';
import { findNatsServer, freePort } from '../cli/local-nats.ts';
import { startTestNats, tempDir, type TestNats } from '../test/support/nats.ts';
import { defaultStreamsConfig } from './config.ts';
import { restoreStream, snapshotStream, StreamSnapshotError, type StreamSnapshot } from './index.ts';
import { natsReachable } from './nats.ts';
import { openCheckpointBucket } from './topology.ts';

interface StoredMessage {
  seq: number;
  subject: string;
  data: string;
  headers: string;
  time: string;
}

/** A file-storage stream `name` on `<name>.{a,b,c}` with `count` messages, some with headers, and two deleted (gaps). */
async function seedStream(nc: NatsConnection, name: string, count: number): Promise<void> {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name, subjects: [`${name.toLowerCase()}.>`], storage: StorageType.File });
  const js = jetstream(nc);
  const acks = [];
  for (let i = 0; i < count; i++) {
    const h = headers();
    if (i % 10 === 0) h.set('Nats-Msg-Id', `${name}-${i}`);
    acks.push(js.publish(`${name.toLowerCase()}.${'abc'[i % 3]}`, `${name} message ${i}`, { headers: h }));
    if (acks.length === 256) await Promise.all(acks.splice(0));
  }
  await Promise.all(acks);
  await jsm.streams.deleteMessage(name, 7);
  await jsm.streams.deleteMessage(name, 8);
}

/** Every stored message by sequence (by direct get: a consumer would itself land in a snapshot). */
async function storedMessages(jsm: JetStreamManager, name: string): Promise<StoredMessage[]> {
  const { state } = await jsm.streams.info(name);
  const out: StoredMessage[] = [];
  for (let seq = state.first_seq; seq <= state.last_seq; seq++) {
    const m = await jsm.streams.getMessage(name, { seq }).catch(() => null);
    if (m)
      out.push({
        seq: m.seq,
        subject: m.subject,
        data: m.string(),
        headers: JSON.stringify(m.header ? [...m.header] : []),
        time: m.timestamp,
      });
  }
  return out;
}

/** A durable pull consumer that has acked the first `acked` messages. */
async function durableWithAcks(nc: NatsConnection, stream: string, acked: number): Promise<void> {
  const jsm = await jetstreamManager(nc);
  await jsm.consumers.add(stream, { durable_name: 'reader', ack_policy: AckPolicy.Explicit });
  const consumer = await jetstream(nc).consumers.get(stream, 'reader');
  const batch = await consumer.fetch({ max_messages: acked, expires: 5000 });
  for await (const m of batch) await m.ackAck();
}

async function nextForReader(nc: NatsConnection, stream: string): Promise<number> {
  const consumer = await jetstream(nc).consumers.get(stream, 'reader');
  const m = await consumer.next({ expires: 5000 });
  if (!m) throw new Error(`no message for reader on ${stream}`);
  return m.seq;
}

/** A consumer's ack floor (without its last activity, which a restore does not keep). */
function acks(info: ConsumerInfo): { consumer_seq: number; stream_seq: number } {
  return { consumer_seq: info.ack_floor.consumer_seq, stream_seq: info.ack_floor.stream_seq };
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** The promise's rejection, which must be a StreamSnapshotError. */
async function refusal(p: Promise<unknown>): Promise<StreamSnapshotError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StreamSnapshotError);
  return err as StreamSnapshotError;
}

describe('stream snapshot and restore on nats-server', () => {
  let serverA: TestNats;
  let serverB: TestNats;
  let a: NatsConnection;
  let b: NatsConnection;
  let jsmA: JetStreamManager;
  let jsmB: JetStreamManager;
  let dir: string;

  beforeAll(async () => {
    dir = tempDir('snapshot');
    serverA = await startTestNats();
    serverB = await startTestNats();
    a = await connect({ servers: serverA.url });
    b = await connect({ servers: serverB.url });
    jsmA = await jetstreamManager(a);
    jsmB = await jetstreamManager(b);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await serverA?.stop();
    await serverB?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('brings back every message, its sequence and a durable’s acks after the stream is deleted', async () => {
    await seedStream(a, 'ORDERS', 3000);
    await durableWithAcks(a, 'ORDERS', 500);
    const before = await storedMessages(jsmA, 'ORDERS');
    expect(before.filter((m) => m.headers.includes('Nats-Msg-Id'))).toHaveLength(300);
    const readerBefore = await jsmA.consumers.info('ORDERS', 'reader');
    const file = join(dir, 'ORDERS.tar.s2');

    const snap = await snapshotStream(a, 'ORDERS', file, { chunkSize: 16 * 1024 });
    expect(snap).toMatchObject({ stream: 'ORDERS', bytes: statSync(file).size, sha256: sha256(file) });
    expect(snap.chunks).toBeGreaterThan(1);
    expect(snap.config.name).toBe('ORDERS');
    expect(snap.state).toMatchObject({ messages: 2998, first_seq: 1, last_seq: 3000, num_deleted: 2 });
    expect(existsSync(`${file}.partial`)).toBe(false);

    await jsmA.streams.delete('ORDERS');
    const info = await restoreStream(a, snap, file, { chunkSize: 32 * 1024 });

    expect(info.state).toMatchObject({ messages: 2998, first_seq: 1, last_seq: 3000 });
    expect(await storedMessages(jsmA, 'ORDERS')).toEqual(before);
    const reader = await jsmA.consumers.info('ORDERS', 'reader');
    expect(acks(reader)).toEqual(acks(readerBefore));
    expect(acks(reader)).toEqual({ consumer_seq: 500, stream_seq: 502 });
    expect(reader.num_pending).toBe(readerBefore.num_pending);
    // 500 delivered and acked: sequences 1–502 without the two deleted ones.
    expect(await nextForReader(a, 'ORDERS')).toBe(503);
  });

  it('restores into a fresh server, as into an empty data folder', async () => {
    await seedStream(a, 'EVENTS', 2000);
    await durableWithAcks(a, 'EVENTS', 100);
    const file = join(dir, 'EVENTS.tar.s2');
    const snap = await snapshotStream(a, 'EVENTS', file);

    await restoreStream(b, snap, file);

    expect(await storedMessages(jsmB, 'EVENTS')).toEqual(await storedMessages(jsmA, 'EVENTS'));
    expect(acks(await jsmB.consumers.info('EVENTS', 'reader'))).toEqual(
      acks(await jsmA.consumers.info('EVENTS', 'reader')),
    );
  });

  it('round-trips a stream larger than the server’s flow-control window', async () => {
    await jsmA.streams.add({ name: 'BULK', subjects: ['bulk.>'], storage: StorageType.File });
    const js = jetstream(a);
    const digests: string[] = [];
    for (let i = 0; i < 600; i++) {
      const payload = randomBytes(64 * 1024); // incompressible: about 40 MB in the file
      digests.push(createHash('sha256').update(payload).digest('hex'));
      await js.publish(`bulk.${i % 5}`, payload);
    }
    const file = join(dir, 'BULK.tar.s2');

    const snap = await snapshotStream(a, 'BULK', file);
    expect(snap.bytes).toBeGreaterThan(32 * 1024 * 1024);
    await restoreStream(b, snap, file);

    const restored: string[] = [];
    for (let seq = 1; seq <= 600; seq++) {
      const m = await jsmB.streams.getMessage('BULK', { seq });
      restored.push(createHash('sha256').update(m!.data).digest('hex'));
    }
    expect(restored).toEqual(digests);
  });

  it('brings back the checkpoint bucket with its keys and revisions, and compare-and-set goes on from them', async () => {
    const bucket = defaultStreamsConfig.names.checkpoints;
    const kv = await openCheckpointBucket(a, defaultStreamsConfig);
    for (let i = 0; i < 20; i++) await kv.put(`processor.p0${i % 4}.head`, JSON.stringify({ seq: i * 10, epoch: 1 }));
    await kv.create('lease.p01', 'owner-a');
    const lease = await kv.update('lease.p01', 'owner-a renewed', (await kv.get('lease.p01'))!.revision);
    await kv.put('gone', 'x');
    await kv.delete('gone');
    const keys = ['processor.p00.head', 'processor.p01.head', 'processor.p02.head', 'processor.p03.head', 'lease.p01'];
    const entries = async (bucketView: KV) => {
      const out = [];
      for (const key of keys) {
        const entry = await bucketView.get(key);
        out.push({ key, revision: entry?.revision, value: entry?.string() });
      }
      return out;
    };
    const before = await entries(kv);
    const file = join(dir, 'checkpoints.tar.s2');

    const snap = await snapshotStream(a, `KV_${bucket}`, file);
    await restoreStream(b, snap, file);

    const restored = await new Kvm(b).open(bucket);
    expect(await entries(restored)).toEqual(before);
    expect(await restored.get('gone')).toMatchObject({ operation: 'DEL' });
    // As the processors open it at start, and as a lease renewal continues from the restored revision.
    const reopened = await openCheckpointBucket(b, defaultStreamsConfig);
    expect(await reopened.update('lease.p01', 'owner-a again', lease)).toBeGreaterThan(lease);
    await expect(reopened.create('lease.p01', 'owner-b')).rejects.toThrow();
  });

  it('refuses to restore onto an existing stream and leaves it as it was', async () => {
    await seedStream(a, 'LIVE', 300);
    const file = join(dir, 'LIVE.tar.s2');
    const snap = await snapshotStream(a, 'LIVE', file);
    await jetstream(a).publish('live.a', 'one more');

    const err = await refusal(restoreStream(a, snap, file));

    expect(err).toMatchObject({ operation: 'restore', stream: 'LIVE', failure: 'exists' });
    expect(err.message).toMatch(/restore of stream LIVE: .*already in use.*Delete the stream first/);
    expect((await jsmA.streams.info('LIVE')).state.messages).toBe(299);
  });

  it('refuses a truncated or corrupt file, by its checksums or by the server, and creates no stream', async () => {
    await seedStream(a, 'FRAGILE', 1500);
    const file = join(dir, 'FRAGILE.tar.s2');
    const snap = await snapshotStream(a, 'FRAGILE', file);
    await jsmA.streams.delete('FRAGILE');
    const good = readFileSync(file);
    const truncated = join(dir, 'FRAGILE-truncated.tar.s2');
    writeFileSync(truncated, good.subarray(0, Math.floor(good.length / 2)));
    const corrupt = join(dir, 'FRAGILE-corrupt.tar.s2');
    writeFileSync(
      corrupt,
      good.map((byte, i) => (i > 200 && i < 600 ? byte ^ 0x5a : byte)),
    );
    const withoutChecksums = { stream: snap.stream, config: snap.config, state: snap.state };
    const noStream = async () => expect(jsmA.streams.info('FRAGILE')).rejects.toThrow(/not found/);

    const short = await refusal(restoreStream(a, snap, truncated));
    expect(short).toMatchObject({ failure: 'corrupt' });
    expect(short.message).toMatch(/truncated.*Nothing was sent/);
    await noStream();

    const flipped = await refusal(restoreStream(a, snap, corrupt));
    expect(flipped).toMatchObject({ failure: 'corrupt' });
    expect(flipped.message).toMatch(/sha256 .* the file is corrupt/);
    await noStream();

    for (const bad of [truncated, corrupt]) {
      const byServer = await refusal(restoreStream(a, withoutChecksums, bad));
      expect(byServer).toMatchObject({ failure: 'corrupt' });
      expect(byServer.message).toMatch(/JetStream answered: restore failed: .*corrupt.*no stream/);
      await noStream();
    }

    await restoreStream(a, snap, file);
    expect((await jsmA.streams.info('FRAGILE')).state.messages).toBe(1498);
  });

  it('says when the stream does not exist or cannot be snapshotted, and leaves no file', async () => {
    const file = join(dir, 'MISSING.tar.s2');
    const missing = await refusal(snapshotStream(a, 'MISSING', file));
    expect(missing).toMatchObject({ operation: 'snapshot', stream: 'MISSING', failure: 'not_found' });
    expect(missing.message).toMatch(/stream not found/);
    expect(existsSync(file) || existsSync(`${file}.partial`)).toBe(false);

    await jsmA.streams.add({ name: 'VOLATILE', subjects: ['volatile.>'], storage: StorageType.Memory });
    expect(await refusal(snapshotStream(a, 'VOLATILE', join(dir, 'VOLATILE.tar.s2')))).toMatchObject({
      failure: 'unsupported',
    });
    expect(await refusal(snapshotStream(a, 'BAD.NAME', file))).toMatchObject({ failure: 'refused' });
    const aborted = snapshotStream(a, 'ORDERS', file, { signal: AbortSignal.abort() });
    expect(await refusal(aborted)).toMatchObject({ failure: 'aborted' });
  });
});

describe('a server that stalls or gives up mid-transfer', () => {
  let plain: ChildProcess;
  let nc: NatsConnection;
  let peer: NatsConnection;
  let dir: string;
  const dropped: string[] = [];

  beforeAll(async () => {
    dir = tempDir('snapshot-stall');
    const port = await freePort();
    const bin = findNatsServer();
    if (!bin) throw new Error('nats-server not found');
    const [cmd, ...args] = [...dieWithParent(), bin, '-a', '127.0.0.1', '-p', String(port)];
    plain = spawn(cmd, args, { stdio: 'ignore' });
    const url = `nats://127.0.0.1:${port}`;
    while (!(await natsReachable(url, 500))) if (plain.exitCode !== null) throw new Error('nats-server exited');
    nc = await connect({ servers: url });
    peer = await connect({ servers: url });
    // Plays JetStream: a snapshot sends one chunk and then nothing (STALLED) or gives up (GAVEUP);
    // a restore accepts the request and then never acks a chunk.
    peer.subscribe('$JS.API.STREAM.SNAPSHOT.*', {
      callback: (_err, m) => {
        const stream = m.subject.split('.').pop();
        const { deliver_subject } = m.json<{ deliver_subject: string }>();
        m.respond(JSON.stringify({ config: { name: stream }, state: { messages: 1 } }));
        peer.publish(deliver_subject, new Uint8Array(64), { reply: 'acks.ignored' });
        if (stream === 'GAVEUP')
          peer.publish(deliver_subject, new Uint8Array(0), { headers: headers(408, 'No Flow Response') });
      },
    });
    peer.subscribe('$JS.API.STREAM.RESTORE.*', {
      callback: (_err, m) => {
        m.respond(JSON.stringify({ deliver_subject: 'restore.chunks' }));
      },
    });
    peer.subscribe('restore.chunks', {
      callback: (_err, m) => {
        if (!m.reply) dropped.push(m.subject);
      },
    });
    await peer.flush();
  });
  afterAll(async () => {
    await nc?.close();
    await peer?.close();
    if (plain) await stopChild(plain, 5000);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('gives up on a snapshot whose chunks stop coming, and removes the partial file', async () => {
    const file = join(dir, 'STALLED.tar.s2');
    const err = await refusal(snapshotStream(nc, 'STALLED', file, { timeoutMs: 300 }));
    expect(err).toMatchObject({ failure: 'timeout' });
    expect(err.message).toMatch(/no chunk for 300 ms after 1 chunks \(64 bytes\)/);
    expect(existsSync(file) || existsSync(`${file}.partial`)).toBe(false);
  });

  it('reports a snapshot the server ended early with a status', async () => {
    const err = await refusal(snapshotStream(nc, 'GAVEUP', join(dir, 'GAVEUP.tar.s2')));
    expect(err).toMatchObject({ failure: 'timeout' });
    expect(err.message).toMatch(/ended the snapshot after 1 chunks .* with 408 No Flow Response/);
  });

  it('gives up on a restore whose chunks are not acked, and tells the server to drop what it staged', async () => {
    const file = join(dir, 'UNACKED.tar.s2');
    writeFileSync(file, new Uint8Array(1000));
    const snap = { stream: 'UNACKED', config: { name: 'UNACKED' }, state: {} } as StreamSnapshot;
    const err = await refusal(restoreStream(nc, snap, file, { timeoutMs: 300 }));
    expect(err).toMatchObject({ failure: 'timeout' });
    expect(err.message).toMatch(/no answer to the chunk at byte 0 within 300 ms/);
    await nc.flush();
    await peer.flush();
    expect(dropped).toEqual(['restore.chunks']);
  });
});
