import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { EVENT_KINDS, EVENT_SCHEMAS } from '../../streams/contract/events.ts';
import {
  DEAD_LETTER_PAYLOAD_MAX,
  EncodeError,
  TABLE_BY_KIND,
  deadLetterRow,
  encodeBatch,
  tableFor,
  toRow,
} from './encoder.ts';
import {
  CHANNEL,
  T0,
  deadLetter,
  hostileEvents,
  oneOfEachKind,
  postCountersEvent,
  postEvent,
} from './encoder.fixtures.ts';

describe('encoder', () => {
  it('fixtures are valid events under the contract (so the tests test real shapes)', () => {
    for (const e of [...oneOfEachKind(), ...hostileEvents()]) {
      expect(Value.Check(EVENT_SCHEMAS[e.kind], e), `${e.kind} ${e.id}`).toBe(true);
    }
  });

  it('has a distinct table for every kind', () => {
    const tables = EVENT_KINDS.map(tableFor);
    expect(new Set(tables).size).toBe(EVENT_KINDS.length);
    expect(tableFor('post_counters')).toBe('raw_post_counters');
    expect(tableFor('anomaly')).toBe('anomaly_events');
    expect(Object.keys(TABLE_BY_KIND).sort()).toEqual([...EVENT_KINDS].sort());
  });

  it('maps the envelope to id, channel_id, times as epoch ms, and source', () => {
    const row = toRow(postCountersEvent(10, Date.UTC(2024, 1, 29, 23, 59, 59, 7)));
    expect(row).toMatchObject({
      v: 1,
      id: 'pc_1709251199007',
      channel_id: CHANNEL,
      event_time: Date.UTC(2024, 1, 29, 23, 59, 59, 7),
      observed_at: Date.UTC(2024, 2, 1, 0, 0, 0, 241),
      source: 'simulator',
      post_date: Date.UTC(2024, 0, 31, 22),
    });
  });

  it('flattens nested objects of a post and keeps nulls as nulls', () => {
    const row = toRow(postEvent());
    expect(row).toMatchObject({
      forward_from_channel_id: '1009',
      forward_from_post_id: null,
      edit_date: null,
      views: 9_007_199_254_740_991,
      reactions: { '👍': 5, 'custom:5368324170671202286': 2 },
    });
    expect(toRow(postEvent({ forward_from: null }))).toMatchObject({
      forward_from_channel_id: null,
      forward_from_post_id: null,
    });
  });

  it('writes an absent optional field as NULL', () => {
    const e = postCountersEvent(1, T0);
    delete e.data.post_date;
    expect(toRow(e).post_date).toBeNull();
  });

  it('stores bot event properties as JSON text that keeps types and key order', () => {
    const e = oneOfEachKind().find((x) => x.kind === 'bot_event');
    expect(toRow(e!).properties).toBe('{"z":1,"a":"x","n":null,"ok":true,"f":0.5}');
  });

  it('produces only JSON-serialisable values', () => {
    for (const e of oneOfEachKind()) {
      const row = toRow(e);
      expect(JSON.parse(JSON.stringify(row))).toEqual(row);
    }
  });

  it('refuses a time a DateTime64 column cannot hold, naming the event and field', () => {
    const e = postCountersEvent(1, 8_000_000_000_000_000);
    expect(() => toRow(e)).toThrow(EncodeError);
    expect(() => toRow(e)).toThrow(/post_counters event pc_8000000000000000: event_time/);
  });

  it('keeps a "__proto__" reaction key (as JSON.parse made it) as a plain key', () => {
    const e = postEvent();
    e.data.counters.reactions = JSON.parse('{"__proto__": 3}') as Record<string, number>;
    const row = toRow(e);
    expect(Object.entries(row.reactions as object)).toEqual([['__proto__', 3]]);
  });

  it('encodes a batch into rows per table and sets apart the events that cannot be stored', () => {
    const bad = postCountersEvent(1, 9_000_000_000_000_000, 'pc_far_future');
    const events = [...oneOfEachKind(), bad];
    const { rows, failures } = encodeBatch(events);
    expect(failures.map((f) => f.event.id)).toEqual(['pc_far_future']);
    expect(failures[0].error).toBeInstanceOf(EncodeError);
    expect(rows.get('raw_post_counters')?.map((r) => r.id)).toEqual([`pc_${T0 + 60_000}`, 'pc_nodate']);
    expect([...rows.values()].flat()).toHaveLength(events.length - 1);
  });

  describe('dead letters', () => {
    it('maps every record field to its column', () => {
      expect(deadLetterRow(deadLetter())).toEqual({
        id: 'dl_abc',
        stage: 'decode',
        reason: 'malformed_json',
        detail: 'Unexpected token } in JSON at position 17',
        stream: 'TG_RAW',
        subject: `tg.raw.p03.post.${CHANNEL}`,
        seq: 123_456_789_012,
        event_id: null,
        channel_id: CHANNEL,
        payload: '{"kind":"post",',
        payload_bytes: 15,
        received_at: Date.UTC(2024, 0, 31, 22, 0, 0, 99),
      });
    });

    it('caps the payload without splitting an emoji, and keeps the original size', () => {
      const payload = `${'a'.repeat(DEAD_LETTER_PAYLOAD_MAX - 1)}😀tail`;
      const row = deadLetterRow(deadLetter({ payload, payload_bytes: 1_000_000 }));
      expect(row.payload).toBe('a'.repeat(DEAD_LETTER_PAYLOAD_MAX - 1));
      expect(row.payload_bytes).toBe(1_000_000);
    });
  });
});
