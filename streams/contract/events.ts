/**
 * The event contract of tgpulse: every event that crosses NATS has one of the
 * shapes below. This module is the single source of truth — TypeScript types
 * are derived from the TypeBox schemas, the same schemas validate at runtime
 * (see `validate.ts`) and feed the API's OpenAPI document.
 *
 * Nothing outside `streams/` defines an event shape.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';

/** Schema version carried in every envelope (`v`). */
export const SCHEMA_VERSION = 1 as const;

/** Telegram channel id as a decimal string: int64 does not fit a JS number safely. */
export const ChannelId = Type.String({ pattern: '^-?[0-9]{1,20}$', description: 'Telegram channel id, decimal' });
/**
 * Earliest time an event may carry: Telegram launched in August 2013, so nothing
 * it reports can be older (the API's periods start at 2013 too).
 */
export const EARLIEST_EVENT_MS = Date.UTC(2013, 0, 1);
/** Latest time an event may carry: the end of what the warehouse's DateTime64(3) holds. */
export const LATEST_EVENT_MS = Date.UTC(2299, 11, 31, 23, 59, 59, 999);
/** Milliseconds since the Unix epoch, within what Telegram can report and the warehouse can store. */
export const EpochMs = Type.Integer({
  minimum: EARLIEST_EVENT_MS,
  maximum: LATEST_EVENT_MS,
  description: 'epoch ms (UTC)',
});
const Count = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const SignedCount = Type.Integer({ minimum: -Number.MAX_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER });
const PostId = Type.Integer({ minimum: 1, maximum: 2 ** 31 - 1 });
const ShortText = Type.String({ maxLength: 256 });
/**
 * A map in an event, keyed by at most 64 characters. A record's key schema
 * only checks keys when other properties are refused, so say so: otherwise a
 * key of any length passes. (`__proto__` is an ordinary key here: JSON.parse
 * and every consumer keep it as an own property; see the encoder's tests.)
 */
function mapOf<V extends TSchema>(value: V, maxProperties?: number) {
  return Type.Record(Type.String({ pattern: '^[\\s\\S]{0,64}$' }), value, {
    additionalProperties: false,
    ...(maxProperties === undefined ? {} : { maxProperties }),
  });
}
/** Reaction counts keyed by emoji (or `custom:<document id>` for custom emoji). */
const ReactionMap = mapOf(Count);
const ReactionDeltaMap = mapOf(SignedCount);

export const Source = Type.Union([
  Type.Literal('mtproto'),
  Type.Literal('simulator'),
  Type.Literal('replay'),
  Type.Literal('botapi'),
]);
export type Source = Static<typeof Source>;

export const MediaType = Type.Union(
  ['none', 'photo', 'video', 'document', 'audio', 'voice', 'poll', 'webpage', 'sticker', 'other'].map((m) =>
    Type.Literal(m),
  ),
);

/** Cumulative counters of one post at one observation. */
export const PostCountersData = Type.Object(
  {
    post_id: PostId,
    /** Post publication time, when the observer knows it (lets processors age the post). */
    post_date: Type.Optional(EpochMs),
    views: Count,
    forwards: Count,
    replies: Count,
    reactions_total: Count,
    reactions: ReactionMap,
  },
  { additionalProperties: false },
);

export const PostData = Type.Object(
  {
    post_id: PostId,
    date: EpochMs,
    edit_date: Type.Union([EpochMs, Type.Null()]),
    text_length: Count,
    media_type: MediaType,
    grouped_id: Type.Union([Type.String({ pattern: '^-?[0-9]{1,20}$' }), Type.Null()]),
    forward_from: Type.Union([
      Type.Object(
        { channel_id: ChannelId, post_id: Type.Union([PostId, Type.Null()]) },
        { additionalProperties: false },
      ),
      Type.Null(),
    ]),
    mentions: Type.Array(ShortText, { maxItems: 100 }),
    links: Type.Array(Type.String({ maxLength: 2048 }), { maxItems: 100 }),
    hashtags: Type.Array(ShortText, { maxItems: 100 }),
    /** Counters seen together with the post (observed at `observed_at`). */
    counters: Type.Omit(PostCountersData, ['post_id', 'post_date']),
  },
  { additionalProperties: false },
);

export const ChannelMembersData = Type.Object({ members: Count }, { additionalProperties: false });

/** One point of an official statistics graph (stats.getBroadcastStats / loadAsyncGraph). */
export const ChannelStatsData = Type.Object(
  { metric: ShortText, series: ShortText, t: EpochMs, value: Type.Number() },
  { additionalProperties: false },
);

export const PostDeletedData = Type.Object(
  { post_ids: Type.Array(PostId, { minItems: 1, maxItems: 1000 }) },
  { additionalProperties: false },
);

/** Most properties one bot event carries: a flat object, so its keys, depth and size are all bounded. */
const MAX_BOT_EVENT_PROPERTIES = 32;

/**
 * A custom event a bot reported (`POST /v1/events`). Its envelope's
 * `channel_id` is the bot id, so a bot's events share one partition.
 */
export const BotEventData = Type.Object(
  {
    bot_id: Type.String({ pattern: '^[0-9]{1,20}$' }),
    event_type: Type.String({ minLength: 1, maxLength: 64 }),
    /** The salted hash of the Telegram user id (control/bot-user-hash.ts), never the id itself. */
    user_id: Type.Union([Type.String({ pattern: '^[0-9]{1,20}$' }), Type.Null()]),
    properties: mapOf(
      Type.Union([Type.String({ maxLength: 1024 }), Type.Number(), Type.Boolean(), Type.Null()]),
      MAX_BOT_EVENT_PROPERTIES,
    ),
  },
  { additionalProperties: false },
);

// ---- derived ----------------------------------------------------------------

/** Why a delta is special; `normal` deltas are plain differences. */
export const DeltaFlag = Type.Union([
  Type.Literal('normal'),
  /** First snapshot of a fresh post: counted from zero, belongs in windows. */
  Type.Literal('first'),
  /** First snapshot of an old post (backfill): sums stay exact, windows keep it apart. */
  Type.Literal('baseline'),
  /** A monotone counter went down (views/forwards): ignored, delta 0 for it. */
  Type.Literal('regressed'),
]);
export type DeltaFlag = Static<typeof DeltaFlag>;

export const PostDeltaData = Type.Object(
  {
    post_id: PostId,
    /** Id of the counters event this delta was computed from. */
    source_id: Type.String({ maxLength: 128 }),
    post_date: Type.Union([EpochMs, Type.Null()]),
    /** Post age at the snapshot, ms (null when the post date is unknown). */
    age_ms: Type.Union([Count, Type.Null()]),
    flag: DeltaFlag,
    d_views: SignedCount,
    d_forwards: SignedCount,
    d_replies: SignedCount,
    d_reactions: SignedCount,
    d_reactions_by: ReactionDeltaMap,
    /** Counters after this snapshot (as tracked: monotone counters never go down). */
    views: Count,
    forwards: Count,
    replies: Count,
    reactions_total: Count,
  },
  { additionalProperties: false },
);

export const WindowAggData = Type.Object(
  {
    /** Window name from config, e.g. `1h`, `1d`, `24h/1h`. */
    window: ShortText,
    window_start: EpochMs,
    window_end: EpochMs,
    /** 1 on first emission; each late update emits the next revision of the same row. */
    revision: Type.Integer({ minimum: 1 }),
    /** True once the watermark passed end + lateness: no further revision will come. */
    final: Type.Boolean(),
    views: SignedCount,
    forwards: SignedCount,
    replies: SignedCount,
    reactions: SignedCount,
    /** Views from `baseline` deltas (backfilled old posts), kept out of `views`. */
    views_baseline: SignedCount,
    posts: Count,
    members_last: Type.Union([Count, Type.Null()]),
    members_min: Type.Union([Count, Type.Null()]),
    members_max: Type.Union([Count, Type.Null()]),
    subscribers_gained: Count,
    subscribers_lost: Count,
    events: Count,
  },
  { additionalProperties: false },
);

export const TrendData = Type.Object(
  {
    metric: ShortText,
    window: ShortText,
    window_start: EpochMs,
    /** Post id for post-level metrics (views at age), else null. */
    post_id: Type.Union([PostId, Type.Null()]),
    value: Type.Number(),
    /** EWMA mean/sd before this value was folded in (the expectation it is scored against). */
    mean: Type.Number({ description: 'EWMA mean before this value (the expectation it is scored against)' }),
    sd: Type.Number({ description: 'EWMA standard deviation before this value' }),
    z: Type.Number({ description: '(value − mean) / sd' }),
    /** Values folded into the state so far (warm-up when below the configured minimum). */
    n: Type.Integer({
      minimum: 0,
      maximum: Number.MAX_SAFE_INTEGER,
      description: 'values folded into the state so far',
    }),
    warm: Type.Boolean({ description: 'past the warm-up: the z-score may open anomalies' }),
    /** Optional only so events of processors older than the score still decode (read as 0). */
    score: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 1,
        description: 'anomaly score in [0, 1] of the strongest test: 0.5 where an anomaly would open',
      }),
    ),
  },
  { additionalProperties: false },
);

export const AnomalyState = Type.Union([Type.Literal('opened'), Type.Literal('updated'), Type.Literal('resolved')]);
export const AnomalyDirection = Type.Union([Type.Literal('spike'), Type.Literal('drop'), Type.Literal('quiet')]);
/**
 * The test that raised an anomaly: the value outside its band (`outlier`),
 * the level moving away from its baseline (`level_shift`), the noise growing
 * or the series freezing (`variance`), a channel that stopped posting (`silence`).
 */
export const AnomalyReason = Type.Union([
  Type.Literal('outlier'),
  Type.Literal('level_shift'),
  Type.Literal('variance'),
  Type.Literal('silence'),
]);
export type AnomalyReason = Static<typeof AnomalyReason>;
export const Severity = Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')]);
export type Severity = Static<typeof Severity>;
/** Severities, lowest first: "at or above" compares positions in this list. */
export const SEVERITIES: readonly Severity[] = ['info', 'warning', 'critical'];

/** Channel-level metrics of a window that a detector scores, in the order their trends are emitted. */
export const WINDOW_METRICS = [
  'views',
  'forwards',
  'reactions',
  'subscribers_gained',
  'subscribers_lost',
  'posts',
] as const;
export type WindowMetric = (typeof WINDOW_METRICS)[number];
/** Metric of a post's views at an age, against the channel's usual curve. */
export const POST_VIEWS_METRIC = 'views_at_age';
/** Metric of quiet anomalies: hours since the channel's last post. */
export const QUIET_METRIC = 'posting_gap_hours';

export const AnomalyData = Type.Object(
  {
    /** Stable id of the anomaly across its opened/updated/resolved events. */
    anomaly_id: Type.String({ maxLength: 128 }),
    state: AnomalyState,
    /** 1 for opened, +1 per later event of the same anomaly. */
    revision: Type.Integer({ minimum: 1 }),
    metric: ShortText,
    window: ShortText,
    window_start: EpochMs,
    post_id: Type.Union([PostId, Type.Null()]),
    direction: AnomalyDirection,
    severity: Severity,
    /** Optional only so events of processors older than the reason still decode (see `anomalyReasonOf`). */
    reason: Type.Optional(AnomalyReason),
    value: Type.Number(),
    expected: Type.Number({ description: 'the expectation the value was scored against' }),
    band_low: Type.Number({ description: 'lower end of the expected band' }),
    band_high: Type.Number({ description: 'upper end of the expected band' }),
    z: Type.Number({ description: '(value − expected) / sd: its sign is the side of value against expected' }),
    opened_at: EpochMs,
  },
  { additionalProperties: false },
);

// ---- envelope ---------------------------------------------------------------

function envelope<K extends string, D extends TSchema>(kind: K, data: D) {
  return Type.Object(
    {
      v: Type.Literal(SCHEMA_VERSION),
      kind: Type.Literal(kind),
      /** Deterministic: the same fact always gets the same id (see `ids.ts`). */
      id: Type.String({ minLength: 1, maxLength: 128 }),
      channel_id: ChannelId,
      /** When it happened: post date, or the observation time of a snapshot. */
      event_time: EpochMs,
      observed_at: EpochMs,
      source: Source,
      data,
    },
    { additionalProperties: false, $id: `tgpulse.${kind}` },
  );
}

export const RAW_SCHEMAS = {
  post: envelope('post', PostData),
  post_counters: envelope('post_counters', PostCountersData),
  channel_members: envelope('channel_members', ChannelMembersData),
  channel_stats: envelope('channel_stats', ChannelStatsData),
  post_deleted: envelope('post_deleted', PostDeletedData),
  bot_event: envelope('bot_event', BotEventData),
} as const;

export const DERIVED_SCHEMAS = {
  post_delta: envelope('post_delta', PostDeltaData),
  window_agg: envelope('window_agg', WindowAggData),
  trend: envelope('trend', TrendData),
  anomaly: envelope('anomaly', AnomalyData),
} as const;

export const EVENT_SCHEMAS = { ...RAW_SCHEMAS, ...DERIVED_SCHEMAS } as const;

export type RawKind = keyof typeof RAW_SCHEMAS;
export type DerivedKind = keyof typeof DERIVED_SCHEMAS;
export type EventKind = RawKind | DerivedKind;
export const RAW_KINDS = Object.keys(RAW_SCHEMAS) as RawKind[];
export const DERIVED_KINDS = Object.keys(DERIVED_SCHEMAS) as DerivedKind[];
export const EVENT_KINDS = [...RAW_KINDS, ...DERIVED_KINDS] as EventKind[];

export function isRawKind(k: string): k is RawKind {
  return Object.hasOwn(RAW_SCHEMAS, k);
}
export function isDerivedKind(k: string): k is DerivedKind {
  return Object.hasOwn(DERIVED_SCHEMAS, k);
}
export function isEventKind(k: string): k is EventKind {
  return isRawKind(k) || isDerivedKind(k);
}

/** The event of a given kind, e.g. `EventOf<'post_counters'>`. */
export type EventOf<K extends EventKind> = Static<(typeof EVENT_SCHEMAS)[K]>;

export type PostEvent = EventOf<'post'>;
export type PostCountersEvent = EventOf<'post_counters'>;
export type ChannelMembersEvent = EventOf<'channel_members'>;
export type ChannelStatsEvent = EventOf<'channel_stats'>;
export type PostDeletedEvent = EventOf<'post_deleted'>;
export type PostDeltaEvent = EventOf<'post_delta'>;
export type WindowAggEvent = EventOf<'window_agg'>;
export type TrendEvent = EventOf<'trend'>;
export type AnomalyEvent = EventOf<'anomaly'>;

export type PostDelta = Static<typeof PostDeltaData>;
export type WindowAgg = Static<typeof WindowAggData>;
export type Trend = Static<typeof TrendData>;
export type Anomaly = Static<typeof AnomalyData>;

/** An anomaly's reason; events from processors older than the field were silences or outliers. */
export function anomalyReasonOf(a: Pick<Anomaly, 'reason' | 'direction'>): AnomalyReason {
  return a.reason ?? (a.direction === 'quiet' ? 'silence' : 'outlier');
}

export type RawEvent = { [K in RawKind]: EventOf<K> }[RawKind];
export type DerivedEvent = { [K in DerivedKind]: EventOf<K> }[DerivedKind];
export type TgEvent = RawEvent | DerivedEvent;
