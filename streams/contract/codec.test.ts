import { describe, expect, it } from 'vitest';
import type { PostCountersEvent } from './events.ts';
import { decodeBatch, encodeBatch, validateEvent } from './codec.ts';
import { eventId, partitionOf } from './ids.ts';
import { chunkPayloads } from '../publisher.ts';
import { batchSubject, eventSubject, parseSubject } from './subjects.ts';

const T = Date.UTC(2026, 0, 1);
function counters(channel: string, postId: number): PostCountersEvent {
  return {
    v: 1,
    kind: 'post_counters',
    id: eventId('pc', channel, postId, T),
    channel_id: channel,
    event_time: T,
    observed_at: T,
    source: 'simulator',
    data: { post_id: postId, views: 10, forwards: 1, replies: 0, reactions_total: 2, reactions: { '👍': 2 } },
  };
}
const limits = { maxMessageBytes: 64 * 1024 };

describe('the wire codec decodes every message without throwing', () => {
  it('round-trips a batch of valid events', () => {
    const batch = [counters('100', 1), counters('100', 2)];
    const out = decodeBatch(encodeBatch(batch), {
      ...limits,
      subject: parseSubject(eventSubject('post_counters', '100', 8)),
      partitions: 8,
    });
    expect(out.failures).toEqual([]);
    expect(out.events).toEqual(batch);
  });

  it('names the reason of each failure', () => {
    expect(decodeBatch(Buffer.from('[{"v":'), limits).failures[0].reason).toBe('malformed_json');
    expect(decodeBatch(Buffer.from('42'), limits).failures[0].reason).toBe('not_a_batch');
    expect(decodeBatch(Buffer.from('x'.repeat(70_000)), limits).failures[0]).toMatchObject({
      reason: 'oversized',
      detail: expect.stringMatching(/70000 bytes/),
    });
    const unknown = decodeBatch(encodeBatch([{ ...counters('1', 1), kind: 'teleport' } as never]), limits);
    expect(unknown.failures[0].reason).toBe('unknown_kind');
    const invalid = decodeBatch(Buffer.from(JSON.stringify([{ ...counters('1', 1), channel_id: 'abc' }])), limits);
    expect(invalid.failures[0]).toMatchObject({
      reason: 'schema_violation',
      detail: expect.stringMatching(/channel_id/),
    });
  });

  it('keeps the valid events of a batch that also holds invalid ones', () => {
    const good = counters('5', 1);
    const out = decodeBatch(
      Buffer.from(JSON.stringify([good, { ...good, data: { ...good.data, views: -1 } }])),
      limits,
    );
    expect(out.events).toEqual([good]);
    expect(out.failures.map((f) => f.reason)).toEqual(['schema_violation']);
  });

  it('rejects events that do not belong to the subject they came on', () => {
    const subject = parseSubject(eventSubject('post_counters', '100', 8));
    expect(decodeBatch(encodeBatch([counters('200', 1)]), { ...limits, subject }).failures[0].reason).toBe(
      'subject_mismatch',
    );
    // A several-channel batch accepts any channel of its partition, and only those.
    const p = partitionOf('100', 8);
    const other = ['1', '2', '3', '4', '5', '6', '7', '8', '9'].find((c) => partitionOf(c, 8) !== p)!;
    const several = parseSubject(batchSubject('post_counters', p));
    const out = decodeBatch(encodeBatch([counters('100', 1), counters(other, 1)]), {
      ...limits,
      subject: several,
      partitions: 8,
    });
    expect(out.events.map((e) => e.channel_id)).toEqual(['100']);
    expect(out.failures[0].reason).toBe('subject_mismatch');
  });

  it('rejects a derived kind on the raw stream', () => {
    const r = validateEvent({ ...counters('1', 1) });
    expect(r.ok).toBe(true);
    const delta = { ...counters('1', 1), kind: 'post_delta' };
    expect(decodeBatch(Buffer.from(JSON.stringify([delta])), { ...limits, layer: 'raw' }).failures[0].reason).toBe(
      'schema_violation',
    );
  });
});

describe('subjects and partitions', () => {
  it('puts every event of a channel on one partition', () => {
    expect(eventSubject('post', '1001234567', 8)).toMatch(/^tg\.raw\.p0\d\.post\.1001234567$/);
    expect(eventSubject('anomaly', '1001234567', 8).split('.')[2]).toBe(
      eventSubject('post', '1001234567', 8).split('.')[2],
    );
    expect(parseSubject('tg.raw.p03.post_counters._')).toEqual({
      layer: 'raw',
      partition: 3,
      kind: 'post_counters',
      channelId: '_',
    });
    expect(parseSubject('tg.dlq.process')).toBeNull();
  });

  it('gives the same fact the same id', () => {
    expect(eventId('pc', '1', 2, T)).toBe(eventId('pc', '1', 2, T));
    expect(eventId('pc', '1', 2, T)).not.toBe(eventId('pc', '1', 2, T + 1));
    // Parts are separated, so ("1","23") and ("12","3") differ.
    expect(eventId('x', '1', '23')).not.toBe(eventId('x', '12', '3'));
  });
});

describe('chunkPayloads', () => {
  const decode = (p: Uint8Array) => decodeBatch(p, { maxMessageBytes: 1 << 20 }).events;

  it('sends a batch that fits as one payload', () => {
    const batch = [counters('100', 1), counters('100', 2)];
    const chunks = chunkPayloads(batch, 64 * 1024);
    expect(chunks).toHaveLength(1);
    expect(decode(chunks[0].payload)).toEqual(batch);
  });

  it('splits a larger batch into payloads within the limit, in order, keeping an oversized event alone', () => {
    const batch = Array.from({ length: 40 }, (_, i) => counters('100', i + 1));
    const one = encodeBatch([batch[0]]).byteLength;
    const chunks = chunkPayloads(batch, one * 5);
    expect(chunks.length).toBeGreaterThan(7);
    for (const c of chunks) {
      expect(c.payload.byteLength).toBeLessThanOrEqual(one * 5);
      expect(decode(c.payload)).toEqual(c.events);
    }
    expect(chunks.flatMap((c) => c.events)).toEqual(batch);
    const tiny = chunkPayloads(batch.slice(0, 3), 10);
    expect(tiny.map((c) => c.events.length)).toEqual([1, 1, 1]);
  });
});
