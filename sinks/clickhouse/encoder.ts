/**
 * Event → table row, and back. The ClickHouse sink calls {@link toRow} for
 * every event of a batch and inserts the rows into {@link tableFor}(kind); the
 * dead-letter sink does the same with {@link deadLetterRow}.
 *
 * Columns are named like the contract fields (streams/contract/events.ts); nested
 * objects are flattened (`forward_from.channel_id` → `forward_from_channel_id`,
 * `counters.views` → `views`). Rows hold plain values the warehouse writes as
 * RowBinary (clickhouse/rowbinary.ts): times as epoch-ms numbers checked
 * against the DateTime64 range, maps as the event's own objects, strings as
 * they are (the binary writer turns a lone surrogate into U+FFFD). Rows are
 * built for every event the sink stores, so nothing here copies or formats
 * what the writer can take as it is.
 *
 * Both directions live here, next to each other, so a field added to the
 * contract is added in one place; {@link eventFromRow} checks its result
 * against the contract schema, which makes the round trip a test of the mapping.
 */
import { Value } from '@sinclair/typebox/value';
import {
  anomalyReasonOf,
  EVENT_SCHEMAS,
  type EventKind,
  type EventOf,
  type TgEvent,
} from '../../streams/contract/index.ts';
import type { DeadLetterRecord } from '../../streams/index.ts';
import { readAnomaly, readWindowAgg, RowReader, MAX_CH_TIME_MS, MIN_CH_TIME_MS } from '../../clickhouse/index.ts';

export type { DeadLetterRecord };

/** One row for `Warehouse.insertRows`: column name → value (see clickhouse/rowbinary.ts). */
export type TableRow = Record<string, unknown>;

/** The table each event kind is stored in. */
export const TABLE_BY_KIND = {
  post: 'raw_posts',
  post_counters: 'raw_post_counters',
  channel_members: 'raw_channel_members',
  channel_stats: 'raw_channel_stats',
  post_deleted: 'raw_post_deleted',
  bot_event: 'raw_bot_events',
  post_delta: 'post_deltas',
  window_agg: 'window_aggs',
  trend: 'trends',
  anomaly: 'anomaly_events',
} as const satisfies Record<EventKind, string>;

/** The table of dead letters (fed from TG_DLQ). */
export const DEAD_LETTERS_TABLE = 'dead_letters';

/**
 * Longest payload text kept in a dead-letter row (UTF-16 units). The DLQ
 * record is normally truncated already; this guards the column regardless.
 */
export const DEAD_LETTER_PAYLOAD_MAX = 64 * 1024;

/** The table an event kind is written to. */
export function tableFor(kind: EventKind): (typeof TABLE_BY_KIND)[EventKind] {
  return TABLE_BY_KIND[kind];
}

/**
 * An event could not be turned into a row (e.g. a time outside the range a
 * DateTime64 column stores). The sink should dead-letter that event and keep
 * the rest of the batch.
 */
export class EncodeError extends Error {
  override readonly name = 'EncodeError';
  constructor(
    readonly kind: string,
    readonly eventId: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot encode ${kind} event ${eventId}: ${message}`, options);
  }
}

/** A stored row does not decode into a valid event of its kind. */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
}

// ---- times --------------------------------------------------------------------

/** Epoch ms a DateTime64(3) column stores faithfully (ClickHouse would clamp the others silently). */
function time(ms: number, field: string): number {
  if (!Number.isInteger(ms) || ms < MIN_CH_TIME_MS || ms > MAX_CH_TIME_MS) {
    throw new RangeError(`${field}: time ${ms} is not an integer epoch-ms within 1900..2299 (DateTime64 range)`);
  }
  return ms;
}

function timeOrNull(ms: number | null | undefined, field: string): number | null {
  return ms === null || ms === undefined ? null : time(ms, field);
}

// ---- per-kind mapping ---------------------------------------------------------

type DataOf<K extends EventKind> = EventOf<K>['data'];

interface KindCodec<K extends EventKind> {
  /** Data columns of one event (the envelope columns are added by the caller). */
  encode(data: DataOf<K>): TableRow;
  /** The `data` object back from a row (validated against the contract afterwards). */
  decode(r: RowReader): Record<string, unknown>;
}

const CODECS: { readonly [K in EventKind]: KindCodec<K> } = {
  post: {
    encode: (d) => ({
      post_id: d.post_id,
      date: time(d.date, 'date'),
      edit_date: timeOrNull(d.edit_date, 'edit_date'),
      text_length: d.text_length,
      media_type: d.media_type,
      grouped_id: d.grouped_id,
      forward_from_channel_id: d.forward_from?.channel_id ?? null,
      forward_from_post_id: d.forward_from?.post_id ?? null,
      mentions: d.mentions,
      links: d.links,
      hashtags: d.hashtags,
      views: d.counters.views,
      forwards: d.counters.forwards,
      replies: d.counters.replies,
      reactions_total: d.counters.reactions_total,
      reactions: d.counters.reactions,
    }),
    decode: (r) => {
      const forwardChannel = r.strOrNull('forward_from_channel_id');
      return {
        post_id: r.int('post_id'),
        date: r.time('date'),
        edit_date: r.timeOrNull('edit_date'),
        text_length: r.int('text_length'),
        media_type: r.str('media_type'),
        grouped_id: r.strOrNull('grouped_id'),
        forward_from:
          forwardChannel === null ? null : { channel_id: forwardChannel, post_id: r.intOrNull('forward_from_post_id') },
        mentions: r.strArray('mentions'),
        links: r.strArray('links'),
        hashtags: r.strArray('hashtags'),
        counters: {
          views: r.int('views'),
          forwards: r.int('forwards'),
          replies: r.int('replies'),
          reactions_total: r.int('reactions_total'),
          reactions: r.intMap('reactions'),
        },
      };
    },
  },
  post_counters: {
    encode: (d) => ({
      post_id: d.post_id,
      post_date: timeOrNull(d.post_date, 'post_date'),
      views: d.views,
      forwards: d.forwards,
      replies: d.replies,
      reactions_total: d.reactions_total,
      reactions: d.reactions,
    }),
    decode: (r) => {
      const postDate = r.timeOrNull('post_date');
      return {
        post_id: r.int('post_id'),
        // post_date is optional in the contract: absent, not null.
        ...(postDate === null ? {} : { post_date: postDate }),
        views: r.int('views'),
        forwards: r.int('forwards'),
        replies: r.int('replies'),
        reactions_total: r.int('reactions_total'),
        reactions: r.intMap('reactions'),
      };
    },
  },
  channel_members: {
    encode: (d) => ({ members: d.members }),
    decode: (r) => ({ members: r.int('members') }),
  },
  channel_stats: {
    encode: (d) => ({ metric: d.metric, series: d.series, t: time(d.t, 't'), value: d.value }),
    decode: (r) => ({ metric: r.str('metric'), series: r.str('series'), t: r.time('t'), value: r.float('value') }),
  },
  post_deleted: {
    encode: (d) => ({ post_ids: d.post_ids }),
    decode: (r) => ({ post_ids: r.intArray('post_ids') }),
  },
  bot_event: {
    encode: (d) => ({
      bot_id: d.bot_id,
      event_type: d.event_type,
      user_id: d.user_id,
      // JSON text: values of any JSON type and the key order survive exactly.
      properties: JSON.stringify(d.properties),
    }),
    decode: (r) => ({
      bot_id: r.str('bot_id'),
      event_type: r.str('event_type'),
      user_id: r.strOrNull('user_id'),
      properties: JSON.parse(r.str('properties')) as unknown,
    }),
  },
  post_delta: {
    encode: (d) => ({
      post_id: d.post_id,
      source_id: d.source_id,
      post_date: timeOrNull(d.post_date, 'post_date'),
      age_ms: d.age_ms,
      flag: d.flag,
      d_views: d.d_views,
      d_forwards: d.d_forwards,
      d_replies: d.d_replies,
      d_reactions: d.d_reactions,
      d_reactions_by: d.d_reactions_by,
      views: d.views,
      forwards: d.forwards,
      replies: d.replies,
      reactions_total: d.reactions_total,
    }),
    decode: (r) => ({
      post_id: r.int('post_id'),
      source_id: r.str('source_id'),
      post_date: r.timeOrNull('post_date'),
      age_ms: r.intOrNull('age_ms'),
      flag: r.str('flag'),
      d_views: r.int('d_views'),
      d_forwards: r.int('d_forwards'),
      d_replies: r.int('d_replies'),
      d_reactions: r.int('d_reactions'),
      d_reactions_by: r.intMap('d_reactions_by'),
      views: r.int('views'),
      forwards: r.int('forwards'),
      replies: r.int('replies'),
      reactions_total: r.int('reactions_total'),
    }),
  },
  window_agg: {
    encode: (d) => ({
      window: d.window,
      window_start: time(d.window_start, 'window_start'),
      window_end: time(d.window_end, 'window_end'),
      revision: d.revision,
      final: d.final,
      views: d.views,
      forwards: d.forwards,
      replies: d.replies,
      reactions: d.reactions,
      views_baseline: d.views_baseline,
      posts: d.posts,
      members_last: d.members_last,
      members_min: d.members_min,
      members_max: d.members_max,
      subscribers_gained: d.subscribers_gained,
      subscribers_lost: d.subscribers_lost,
      events: d.events,
    }),
    decode: (r) => readWindowAgg(r),
  },
  trend: {
    encode: (d) => ({
      metric: d.metric,
      window: d.window,
      window_start: time(d.window_start, 'window_start'),
      post_id: d.post_id,
      value: d.value,
      mean: d.mean,
      sd: d.sd,
      z: d.z,
      n: d.n,
      warm: d.warm,
      score: d.score ?? 0,
    }),
    decode: (r) => ({
      metric: r.str('metric'),
      window: r.str('window'),
      window_start: r.time('window_start'),
      post_id: r.intOrNull('post_id'),
      value: r.float('value'),
      mean: r.float('mean'),
      sd: r.float('sd'),
      z: r.float('z'),
      n: r.int('n'),
      warm: r.bool('warm'),
      score: r.float('score'),
    }),
  },
  anomaly: {
    encode: (d) => ({
      anomaly_id: d.anomaly_id,
      state: d.state,
      revision: d.revision,
      metric: d.metric,
      window: d.window,
      window_start: time(d.window_start, 'window_start'),
      post_id: d.post_id,
      direction: d.direction,
      severity: d.severity,
      reason: anomalyReasonOf(d),
      value: d.value,
      expected: d.expected,
      band_low: d.band_low,
      band_high: d.band_high,
      z: d.z,
      opened_at: time(d.opened_at, 'opened_at'),
    }),
    decode: (r) => readAnomaly(r, 'anomaly_events'),
  },
};

/**
 * The codec of a kind. The one cast of this module: TypeScript cannot see that
 * `CODECS[kind]` belongs to the same `K` as the event it came with.
 */
function codecOf<K extends EventKind>(kind: K): KindCodec<K> {
  return CODECS[kind] as KindCodec<K>;
}

function encodeData<K extends EventKind>(kind: K, data: DataOf<K>): TableRow {
  return codecOf(kind).encode(data);
}

// ---- public API ---------------------------------------------------------------

/**
 * The row of one event for its table ({@link tableFor}).
 *
 * ```ts
 * const byTable = new Map<string, TableRow[]>();
 * for (const e of events) byTable.set(tableFor(e.kind), [...(byTable.get(tableFor(e.kind)) ?? []), toRow(e)]);
 * ```
 * @throws EncodeError when a value cannot be stored faithfully (time out of range).
 */
export function toRow(event: TgEvent): TableRow {
  try {
    const data = encodeData(event.kind, event.data);
    return {
      v: event.v,
      id: event.id,
      channel_id: event.channel_id,
      event_time: time(event.event_time, 'event_time'),
      observed_at: time(event.observed_at, 'observed_at'),
      source: event.source,
      ...data,
    };
  } catch (err) {
    throw new EncodeError(event.kind, event.id, err instanceof Error ? err.message : String(err), { cause: err });
  }
}

/** The rows of a batch grouped by table, and the events that could not be encoded. */
export interface EncodedBatch {
  rows: Map<(typeof TABLE_BY_KIND)[EventKind], TableRow[]>;
  /** Dead-letter these (reason `write_rejected`); the rest of the batch goes on. */
  failures: Array<{ event: TgEvent; error: EncodeError }>;
}

/**
 * Encode a batch for insertion: one `insertRows` per table, and a list of the
 * events that cannot be stored so one bad event does not block its batch.
 *
 * ```ts
 * const { rows, failures } = encodeBatch(events);
 * for (const [table, tableRows] of rows) await wh.insertRows(table, tableRows, { dedupToken: `${batchId}:${table}` });
 * ```
 */
export function encodeBatch(events: readonly TgEvent[]): EncodedBatch {
  const batch: EncodedBatch = { rows: new Map(), failures: [] };
  for (const event of events) {
    let row: TableRow;
    try {
      row = toRow(event);
    } catch (err) {
      if (!(err instanceof EncodeError)) throw err;
      batch.failures.push({ event, error: err });
      continue;
    }
    const table = tableFor(event.kind);
    const rows = batch.rows.get(table);
    if (rows) rows.push(row);
    else batch.rows.set(table, [row]);
  }
  return batch;
}

/**
 * Rebuild an event from a row of its table (as returned by `Warehouse.query`,
 * `SELECT *` or the same columns), e.g. to replay stored events or to prove a
 * round trip.
 *
 * @throws DecodeError when the row does not make a valid event of that kind.
 */
export function eventFromRow<K extends EventKind>(kind: K, row: Readonly<Record<string, unknown>>): EventOf<K> {
  const r = new RowReader(row, TABLE_BY_KIND[kind]);
  let event: Record<string, unknown>;
  try {
    event = {
      v: r.int('v'),
      kind,
      id: r.str('id'),
      channel_id: r.str('channel_id'),
      event_time: r.time('event_time'),
      observed_at: r.time('observed_at'),
      source: r.str('source'),
      data: codecOf(kind).decode(r),
    };
  } catch (err) {
    throw new DecodeError(
      `${TABLE_BY_KIND[kind]} row is not a ${kind} event: ${err instanceof Error ? err.message : String(err)}`,
      {
        cause: err,
      },
    );
  }
  const schema = EVENT_SCHEMAS[kind];
  if (!Value.Check(schema, event)) {
    const first = Value.Errors(schema, event).First();
    throw new DecodeError(
      `${TABLE_BY_KIND[kind]} row ${String(event.id)} violates the ${kind} contract at ${first?.path ?? '?'}: ${first?.message ?? ''}`,
    );
  }
  return event as EventOf<K>;
}

/**
 * The `dead_letters` row of a DLQ record.
 *
 * @throws EncodeError when `received_at` is not a storable time.
 */
export function deadLetterRow(record: DeadLetterRecord): TableRow {
  try {
    return {
      id: record.id,
      stage: record.stage,
      reason: record.reason,
      detail: record.detail,
      stream: record.stream,
      subject: record.subject,
      seq: record.seq,
      event_id: record.event_id,
      channel_id: record.channel_id,
      payload: truncate(record.payload, DEAD_LETTER_PAYLOAD_MAX),
      payload_bytes: record.payload_bytes,
      received_at: time(record.received_at, 'received_at'),
    };
  } catch (err) {
    throw new EncodeError('dead_letter', record.id, err instanceof Error ? err.message : String(err), { cause: err });
  }
}

/** A `dead_letters` row back as a DLQ record. */
export function deadLetterFromRow(row: Readonly<Record<string, unknown>>): DeadLetterRecord {
  const r = new RowReader(row, DEAD_LETTERS_TABLE);
  return {
    id: r.str('id'),
    stage: r.str('stage'),
    // Written by deadLetterRow from a typed record; the stage owns the list of reasons.
    reason: r.str('reason') as DeadLetterRecord['reason'],
    detail: r.str('detail'),
    stream: r.str('stream'),
    subject: r.str('subject'),
    seq: r.int('seq'),
    received_at: r.time('received_at'),
    payload: r.str('payload'),
    payload_bytes: r.int('payload_bytes'),
    event_id: r.strOrNull('event_id'),
    channel_id: r.strOrNull('channel_id'),
  };
}

/** Cut to at most `max` UTF-16 units without splitting a surrogate pair. */
function truncate(s: string, max: number): string {
  if (s.length <= max) return s;
  const code = s.charCodeAt(max - 1);
  return s.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}
