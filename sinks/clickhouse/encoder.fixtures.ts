/**
 * Sample events of every kind for the warehouse and encoder tests: valid under
 * the contract, with values chosen to catch lossy mappings (64-bit-sized
 * counters, negative deltas, nulls, optional fields, awkward floats) and, in
 * {@link hostileEvents}, strings that break naive escaping.
 */
import type { DeadLetterRecord } from '../../streams/index.ts';
import type { EventKind, EventOf, TgEvent } from '../../streams/contract/index.ts';

export const CHANNEL = '-1001234567890';
export const T0 = Date.UTC(2024, 0, 31, 22, 0, 0); // close to a month boundary on purpose

function envelope<K extends EventKind>(kind: K, id: string, eventTime: number) {
  return {
    v: 1,
    kind,
    id,
    channel_id: CHANNEL,
    event_time: eventTime,
    observed_at: eventTime + 1234,
    source: 'simulator',
  } as const;
}

export function postEvent(over: Partial<EventOf<'post'>['data']> = {}, id = 'p_1'): EventOf<'post'> {
  return {
    ...envelope('post', id, T0),
    data: {
      post_id: 42,
      date: T0,
      edit_date: null,
      text_length: 1200,
      media_type: 'photo',
      grouped_id: '-9223372036854775808',
      forward_from: { channel_id: '1009', post_id: null },
      mentions: ['@alice'],
      links: ['https://example.org/a?b=c&d=e'],
      hashtags: ['#news'],
      counters: {
        views: 9_007_199_254_740_991,
        forwards: 3,
        replies: 0,
        reactions_total: 7,
        reactions: { '👍': 5, 'custom:5368324170671202286': 2 },
      },
      ...over,
    },
  };
}

export function postCountersEvent(views: number, at: number, id = `pc_${at}`): EventOf<'post_counters'> {
  return {
    ...envelope('post_counters', id, at),
    data: { post_id: 42, post_date: T0, views, forwards: 4, replies: 1, reactions_total: 9, reactions: { '🔥': 9 } },
  };
}

export function membersEvent(members: number, at: number, id = `cm_${at}`): EventOf<'channel_members'> {
  return { ...envelope('channel_members', id, at), data: { members } };
}

export function windowAggEvent(
  window: string,
  windowStart: number,
  revision: number,
  views: number,
  id = `wa_${window}_${windowStart}_${revision}`,
): EventOf<'window_agg'> {
  const size = window === '1d' ? 86_400_000 : 3_600_000;
  return {
    ...envelope('window_agg', id, windowStart + size),
    data: {
      window,
      window_start: windowStart,
      window_end: windowStart + size,
      revision,
      final: revision > 1,
      views,
      forwards: -2,
      replies: 0,
      reactions: 11,
      views_baseline: 50,
      posts: 2,
      members_last: 1500,
      members_min: 1490,
      members_max: 1501,
      subscribers_gained: 12,
      subscribers_lost: 1,
      events: 30,
    },
  };
}

export function anomalyEvent(
  state: 'opened' | 'updated' | 'resolved',
  revision: number,
  at: number,
): EventOf<'anomaly'> {
  return {
    ...envelope('anomaly', `an_${revision}`, at),
    data: {
      anomaly_id: 'anom_views_1',
      state,
      revision,
      metric: 'views',
      window: '1h',
      window_start: T0,
      post_id: null,
      direction: 'spike',
      severity: revision > 1 ? 'critical' : 'warning',
      reason: 'outlier',
      value: 1234.5,
      expected: 100.25,
      band_low: 10.000000000000002,
      band_high: 190.49999999999997,
      z: 7.123456789012345,
      opened_at: T0 + 3_600_000,
    },
  };
}

export function trendEvent(
  windowStart: number,
  value: number,
  postId: number | null = null,
  id = `tr_${windowStart}_${postId ?? 0}`,
): EventOf<'trend'> {
  return {
    ...envelope('trend', id, windowStart + 3_600_000),
    data: {
      metric: 'views',
      window: '1h',
      window_start: windowStart,
      post_id: postId,
      value,
      mean: 0.1 + 0.2,
      sd: 5e-324,
      z: -1.7976931348623157e308,
      n: 12,
      warm: true,
      score: 0.015625,
    },
  };
}

/** One event of every kind. */
export function oneOfEachKind(): TgEvent[] {
  return [
    postEvent(),
    postCountersEvent(500, T0 + 60_000),
    {
      ...postCountersEvent(501, T0 + 120_000, 'pc_nodate'),
      data: { post_id: 43, views: 501, forwards: 0, replies: 0, reactions_total: 0, reactions: {} },
    },
    membersEvent(1500, T0 + 5_000),
    {
      ...envelope('channel_stats', 'cs_1', T0),
      data: { metric: 'growth', series: 'total', t: T0 - 86_400_000, value: -0.125 },
    },
    { ...envelope('post_deleted', 'pd_1', T0 + 7_000), data: { post_ids: [7, 8, 2_147_483_647] } },
    {
      ...envelope('bot_event', 'be_1', T0 + 8_000),
      data: {
        bot_id: '123456789',
        event_type: 'button_click',
        user_id: null,
        properties: { z: 1, a: 'x', n: null, ok: true, f: 0.5 },
      },
    },
    {
      ...envelope('post_delta', 'dl_1', T0 + 60_000),
      data: {
        post_id: 42,
        source_id: 'pc_1',
        post_date: null,
        age_ms: null,
        flag: 'regressed',
        d_views: 0,
        d_forwards: -3,
        d_replies: 1,
        d_reactions: -9_007_199_254_740_991,
        d_reactions_by: { '👎': -2, '❤️': 4 },
        views: 100,
        forwards: 1,
        replies: 2,
        reactions_total: 3,
      },
    },
    windowAggEvent('1h', T0, 1, 800),
    {
      ...windowAggEvent('24h/1h', T0, 3, 9),
      data: { ...windowAggEvent('24h/1h', T0, 3, 9).data, members_last: null, members_min: null, members_max: null },
    },
    trendEvent(T0, 812.75),
    trendEvent(T0, 3.5, 42),
    anomalyEvent('opened', 1, T0 + 3_600_000),
  ];
}

/** Strings that break naive escaping, and a very long one. */
export const HOSTILE_STRINGS: readonly string[] = [
  `it's "quoted" \\ back\\slash \\n not-a-newline`,
  'line1\nline2\r\nline3\ttab',
  'nul\u0000inside and \u0001\u001f controls',
  '😀 emoji 👨‍👩‍👧‍👦 family, 🇺🇦 flag, ❤️ variation',
  "'; DROP TABLE raw_posts; --",
  '{name:String} {{local x}} $1 %s ?',
  '\u2028\u2029 separators and \uFEFF BOM',
  `${'x'.repeat(200_000)}🙂`,
];

/** Events that carry each hostile string wherever the contract allows a free string. */
export function hostileEvents(): TgEvent[] {
  return HOSTILE_STRINGS.map((s, i) => {
    const short = s.slice(0, 200);
    if (i % 2 === 0) {
      return {
        ...envelope('bot_event', `be_hostile_${i}`, T0 + i),
        data: {
          bot_id: '1',
          event_type: short.slice(0, 64) || 'x',
          user_id: '2',
          properties: { [short.slice(0, 64)]: short.slice(0, 1024), long: s.slice(0, 1024) },
        },
      } satisfies EventOf<'bot_event'>;
    }
    return {
      ...envelope('post', `p_hostile_${i}`, T0 + i),
      data: {
        ...postEvent().data,
        post_id: 100 + i,
        mentions: [short.slice(0, 256)],
        links: [s.slice(0, 2048)],
        hashtags: [short.slice(0, 256), ''],
        counters: {
          views: 1,
          forwards: 0,
          replies: 0,
          reactions_total: 1,
          reactions: { [short.slice(0, 64)]: 1, ['__proto__']: 2 },
        },
      },
    } satisfies EventOf<'post'>;
  });
}

/** A dead-letter record as the DLQ stage produces it. */
export function deadLetter(over: Partial<DeadLetterRecord> = {}): DeadLetterRecord {
  return {
    id: 'dl_abc',
    stage: 'decode',
    reason: 'malformed_json',
    detail: 'Unexpected token } in JSON at position 17',
    stream: 'TG_RAW',
    subject: `tg.raw.p03.post.${CHANNEL}`,
    seq: 123_456_789_012,
    received_at: T0 + 99,
    payload: '{"kind":"post",',
    payload_bytes: 15,
    event_id: null,
    channel_id: CHANNEL,
    ...over,
  };
}
