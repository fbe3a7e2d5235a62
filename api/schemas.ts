/**
 * JSON schemas of the API's answers (TypeBox). Fastify uses them to
 * serialize the answers and to write the OpenAPI document at /docs. Each
 * mirrors a read-model type; the `Same<…>` checks at the bottom make the
 * compiler refuse a schema that drifts from its read model.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { ChannelAnomaly } from '../read/index.ts';
import type { BestTime } from '../read/index.ts';
import type { ChannelListing } from '../read/index.ts';
import type { AnswerMeta } from '../read/index.ts';
import type { OverviewFigures } from '../read/index.ts';
import type { PostDetail, PostPerformance } from '../read/index.ts';
import type { ActivityPoint, ReachPoint } from '../read/index.ts';
import type { Sources } from '../read/index.ts';
import type { TrendPoint } from '../read/index.ts';
import type { Report } from '../read/index.ts';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
/** Times are epoch milliseconds, UTC (CSV exports print them as ISO 8601). */
const Time = Type.Number({ description: 'epoch milliseconds, UTC' });
const Count = Type.Number();
const Ratio = Nullable(Type.Number());

export const Provenance = Type.Union([
  Type.Literal('mtproto'),
  Type.Literal('official_stats'),
  Type.Literal('simulator'),
  Type.Literal('replay'),
  Type.Literal('botapi'),
]);

export const Meta = Type.Object(
  {
    channel_id: Type.String(),
    from: Time,
    to: Time,
    data_updated_at: Type.Number({ description: 'latest observation of anything about the channel (epoch ms)' }),
    sources: Type.Array(Provenance, { description: 'where the channel data came from' }),
    window_open: Type.Boolean({ description: 'part of the period is not final yet: figures may still grow' }),
    granularity: Type.Optional(Type.String()),
  },
  { $id: 'Meta', description: 'Freshness and provenance of the answer' },
);

/** Every analytics answer: the data and the meta block. */
export function answer<T extends TSchema>(data: T) {
  return Type.Object({ meta: Type.Ref(Meta), data });
}

export const OverviewFiguresSchema = Type.Object({
  subscribers: Nullable(Count),
  subscribers_start: Nullable(Count),
  subscribers_change: Nullable(Type.Number()),
  subscribers_gained: Count,
  subscribers_lost: Count,
  views: Type.Number(),
  posts: Count,
  post_views: Count,
  post_forwards: Count,
  post_reactions: Count,
  post_replies: Count,
  reach_per_post: Ratio,
  err: Ratio,
  engagement_rate: Ratio,
});
const PeriodSchema = Type.Object({ from: Time, to: Time });
export const OverviewSchema = Type.Object({
  period: PeriodSchema,
  current: OverviewFiguresSchema,
  previous_period: PeriodSchema,
  previous: OverviewFiguresSchema,
});

export const ActivityPointSchema = Type.Object({
  t: Time,
  subscribers: Nullable(Count),
  subscribers_gained: Count,
  subscribers_lost: Count,
  views: Type.Number(),
  forwards: Type.Number(),
  reactions: Type.Number(),
  replies: Type.Number(),
  final: Type.Boolean(),
});

export const ReachPointSchema = Type.Object({
  t: Time,
  posts: Count,
  post_views: Count,
  reach_per_post: Ratio,
  views: Type.Number(),
});

export const PostPerformanceSchema = Type.Object({
  post_id: Type.Integer(),
  date: Time,
  media_type: Type.String(),
  text_length: Count,
  views: Count,
  forwards: Count,
  reactions: Count,
  replies: Count,
  engagement_rate: Ratio,
  as_of: Time,
});

export const PostDetailSchema = Type.Object({
  post: Type.Composite([
    PostPerformanceSchema,
    Type.Object({
      deleted_at: Nullable(Time),
      forward_from_channel_id: Nullable(Type.String()),
      mentions: Type.Array(Type.String()),
      hashtags: Type.Array(Type.String()),
      links: Type.Array(Type.String()),
    }),
  ]),
  timeline: Type.Array(
    Type.Object({ t: Time, age_hours: Type.Number(), views: Count, forwards: Count, reactions: Count, replies: Count }),
  ),
});

const CountedName = Type.Object({ name: Type.String(), posts: Count });
export const SourcesSchema = Type.Object({
  forwarded_from: Type.Array(CountedName, { description: 'channels this channel forwards from' }),
  mentions: Type.Array(CountedName),
  link_domains: Type.Array(CountedName),
  forwarded_by: Type.Array(CountedName, { description: 'tracked channels that forward this channel' }),
  official: Type.Array(
    Type.Object({ metric: Type.String(), series: Type.String(), total: Type.Number(), points: Count }),
    { description: 'official statistics by source (stats.getBroadcastStats), where the account may view them' },
  ),
});

export const TrendPointSchema = Type.Object({
  metric: Type.String(),
  window: Type.String(),
  window_start: Time,
  post_id: Nullable(Type.Integer()),
  value: Type.Number(),
  mean: Type.Number({ description: 'EWMA mean before this value' }),
  sd: Type.Number({ description: 'EWMA standard deviation before this value' }),
  z: Type.Number(),
  n: Count,
  warm: Type.Boolean(),
  updated_at: Time,
});
export const TrendingSchema = Type.Object({
  metrics: Type.Array(TrendPointSchema),
  posts: Type.Array(TrendPointSchema),
});

export const AnomalySchema = Type.Object({
  anomaly_id: Type.String(),
  state: Type.Union([Type.Literal('opened'), Type.Literal('updated'), Type.Literal('resolved')]),
  revision: Type.Integer(),
  metric: Type.String(),
  window: Type.String(),
  window_start: Time,
  post_id: Nullable(Type.Integer()),
  direction: Type.Union([Type.Literal('spike'), Type.Literal('drop'), Type.Literal('quiet')]),
  severity: Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')]),
  value: Type.Number(),
  expected: Type.Number(),
  band_low: Type.Number(),
  band_high: Type.Number(),
  z: Type.Number(),
  opened_at: Time,
  updated_at: Time,
  resolved_at: Nullable(Time),
});

export const BestTimeSchema = Type.Object({
  time_zone: Type.String(),
  min_post_age_hours: Type.Number(),
  posts: Count,
  cells: Type.Array(
    Type.Object({
      day_of_week: Type.Integer({ description: 'ISO day of week, 1 = Monday' }),
      hour: Type.Integer(),
      posts: Count,
      avg_views: Type.Number(),
      engagement_rate: Ratio,
      index: Ratio,
      confidence: Type.Union([Type.Literal('low'), Type.Literal('medium'), Type.Literal('high')]),
    }),
  ),
});

export const ChannelListingSchema = Type.Object({
  channel_id: Type.String(),
  sources: Type.Array(Provenance),
  first_observed_at: Time,
  data_updated_at: Time,
  subscribers: Nullable(Count),
  subscribers_as_of: Nullable(Time),
  views_24h: Type.Number(),
  posts_24h: Count,
  open_anomalies: Count,
});

// ---- drift checks: a schema must describe exactly its read model ----------------------------
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
function same<A, B>(ok: Same<A, B>): Same<A, B> {
  return ok;
}
same<Static<typeof Meta>, AnswerMeta & { granularity?: string }>(true);
same<Static<typeof OverviewFiguresSchema>, OverviewFigures>(true);
same<Static<typeof ActivityPointSchema>, ActivityPoint>(true);
same<Static<typeof ReachPointSchema>, ReachPoint>(true);
same<Static<typeof PostPerformanceSchema>, PostPerformance>(true);
same<Static<typeof PostDetailSchema>, PostDetail>(true);
same<Static<typeof SourcesSchema>, Sources>(true);
same<Static<typeof TrendPointSchema>, TrendPoint>(true);
same<Static<typeof AnomalySchema>, ChannelAnomaly>(true);
same<Static<typeof BestTimeSchema>, BestTime>(true);
same<Static<typeof ChannelListingSchema>, ChannelListing>(true);

export const ReportSchema = Type.Object({
  granularity: Type.Union([Type.Literal('hour'), Type.Literal('day'), Type.Literal('week')]),
  overview: Type.Optional(OverviewSchema),
  growth: Type.Optional(Type.Array(ActivityPointSchema)),
  reach: Type.Optional(Type.Array(ReachPointSchema)),
  top_posts: Type.Optional(Type.Array(PostPerformanceSchema)),
  anomalies: Type.Optional(Type.Array(AnomalySchema)),
  best_time: Type.Optional(BestTimeSchema),
});
same<Static<typeof ReportSchema>, Report>(true);
