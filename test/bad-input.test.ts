/**
 * Bad input: malformed JSON, schema violations, unknown kinds and oversized
 * messages land in TG_DLQ (and the dead_letters table) with their reason,
 * while good events around them flow through untouched and nothing is retried.
 */
import { listConsumers } from '../streams/consumers.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PostCountersEvent, TgEvent } from '../streams/contract/events.ts';
import { eventId } from '../streams/contract/ids.ts';
import { eventSubject } from '../streams/contract/subjects.ts';
import { startTestNats, tempDir, type TestNats } from './support/nats.ts';
import { startPipeline, type TestPipeline } from './support/pipeline.ts';

const CHANNEL = '1009000001';
const T0 = Date.UTC(2026, 0, 5, 12);

function counters(postId: number, minute: number, views: number): PostCountersEvent {
  const t = T0 + minute * 60_000;
  return {
    v: 1,
    kind: 'post_counters',
    id: eventId('pc', CHANNEL, postId, t),
    channel_id: CHANNEL,
    event_time: t,
    observed_at: t,
    source: 'simulator',
    data: { post_id: postId, post_date: T0, views, forwards: 0, replies: 0, reactions_total: 0, reactions: {} },
  };
}

describe('bad input is dead-lettered with its reason and the pipeline goes on', () => {
  let nats: TestNats;
  let pipe: TestPipeline;
  const good: TgEvent[] = [];

  beforeAll(async () => {
    nats = await startTestNats();
    pipe = await startPipeline({
      natsUrl: nats.url,
      dataDir: tempDir('bad'),
      env: { TGPULSE_MAX_MESSAGE_BYTES: String(64 * 1024), TGPULSE_PARTITIONS: '2' },
    });
    pipe.startRoles();
    const subject = eventSubject('post_counters', CHANNEL, pipe.config.streams.partitions);
    const hostile = 'Robert\'); DROP TABLE raw_posts;-- "\\\n\u0000 😀';
    const bad: Array<{ name: string; payload: Uint8Array }> = [
      { name: 'malformed', payload: Buffer.from('{"v":1,"kind":"post_counters",') },
      { name: 'not-json-at-all', payload: Buffer.from(hostile) },
      {
        name: 'schema',
        payload: Buffer.from(JSON.stringify([{ ...counters(1, 0, 5), data: { post_id: -3, views: 'many' } }])),
      },
      {
        name: 'unknown-kind',
        payload: Buffer.from(JSON.stringify([{ ...counters(1, 0, 5), kind: 'post_teleported' }])),
      },
      {
        name: 'oversized',
        payload: Buffer.from(JSON.stringify([{ ...counters(1, 0, 5), pad: 'x'.repeat(100 * 1024) }])),
      },
      {
        name: 'wrong-channel',
        payload: Buffer.from(JSON.stringify([{ ...counters(1, 0, 5), channel_id: '1009000002' }])),
      },
    ];
    // Interleave: good batch, bad message, good batch, ... so the bad ones sit in the middle of the flow.
    for (let i = 0; i < 60; i++) {
      const batch = [counters(1, i, 100 + i * 10), counters(2, i, 50 + i * 5)];
      good.push(...batch);
      await pipe.publisher.publish(batch);
      const b = bad[i % bad.length];
      await pipe.publisher.publishRaw(subject, b.payload, `bad-${i}`);
    }
    await pipe.publisher.flush();
    await pipe.waitIdle();
  });

  afterAll(async () => {
    await pipe?.close();
    await nats?.stop();
  });

  it('stores every good event exactly once', async () => {
    const [row] = await pipe.warehouse.query<{ n: string | number; ids: string | number }>(
      'SELECT count() AS n, uniqExact(id) AS ids FROM raw_post_counters FINAL',
    );
    expect(Number(row.n)).toBe(good.length);
    expect(Number(row.ids)).toBe(good.length);
  });

  it('dead-letters each bad message with its reason, stage and origin', async () => {
    const rows = await pipe.warehouse.query<{ reason: string; n: string | number }>(
      "SELECT reason, count() AS n FROM dead_letters FINAL WHERE stage = 'process' GROUP BY reason ORDER BY reason",
    );
    const byReason = Object.fromEntries(rows.map((r) => [r.reason, Number(r.n)]));
    expect(byReason).toEqual({
      malformed_json: 20,
      oversized: 10,
      schema_violation: 10,
      subject_mismatch: 10,
      unknown_kind: 10,
    });
    const [one] = await pipe.warehouse.query<{ subject: string; stream: string; seq: string | number; detail: string }>(
      "SELECT subject, stream, seq, detail FROM dead_letters FINAL WHERE reason = 'oversized' LIMIT 1",
    );
    expect(one.stream).toBe('TG_RAW');
    expect(one.subject).toMatch(/^tg\.raw\.p\d\d\.post_counters\.1009000001$/);
    expect(Number(one.seq)).toBeGreaterThan(0);
    expect(one.detail).toMatch(/exceeds the limit of 65536/);
  });

  it('keeps hostile text intact in the dead letter', async () => {
    const rows = await pipe.warehouse.query<{ payload: string }>(
      "SELECT payload FROM dead_letters FINAL WHERE payload LIKE '%DROP TABLE%'",
    );
    expect(rows.length).toBeGreaterThan(0);
    expect(rows[0].payload).toContain("Robert'); DROP TABLE raw_posts;--");
    const [tables] = await pipe.warehouse.query<{ n: string | number }>(
      "SELECT count() AS n FROM system.tables WHERE database = currentDatabase() AND name = 'raw_posts'",
    );
    expect(Number(tables.n)).toBe(1);
  });

  it('never retries a bad message: no redeliveries on the processor consumers', async () => {
    const processors = [];
    for (const info of await listConsumers(pipe.nats.jsm, 'TG_RAW'))
      if (info.name.startsWith('processor_')) processors.push(info);
    expect(processors).toHaveLength(pipe.config.streams.partitions);
    for (const info of processors) {
      expect(info.num_redelivered).toBe(0);
      expect(info.num_ack_pending).toBe(0);
    }
  });

  it('computes deltas for the good events around the bad ones', async () => {
    const rows = await pipe.warehouse.query<{ post_id: number; views: string | number }>(
      'SELECT post_id, sum(d_views) AS views FROM post_deltas FINAL GROUP BY post_id ORDER BY post_id',
    );
    expect(rows.map((r) => [Number(r.post_id), Number(r.views)])).toEqual([
      [1, 100 + 59 * 10],
      [2, 50 + 59 * 5],
    ]);
  });
});
