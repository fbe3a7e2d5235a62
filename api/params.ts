/**
 * Query and path parameter schemas. Fastify validates requests against them
 * (unknown parameters are refused, not ignored, so a typo is noticed) and
 * they document the parameters in the OpenAPI document.
 */
import { Type } from '@sinclair/typebox';
import { CHART_LOOKS, CHART_SIZE_LIMITS } from '../read/charts/index.ts';
import { Granularity } from '../read/index.ts';

export const ChannelParams = Type.Object(
  { id: Type.String({ pattern: '^-?[0-9]{1,20}$', description: 'Telegram channel id (decimal)' }) },
  { additionalProperties: false },
);

/** The channel a request is about: its `:id` path parameter, on the routes that have one. */
export function channelIdOf(params: unknown): string | undefined {
  if (typeof params !== 'object' || params === null || !('id' in params)) return undefined;
  return typeof params.id === 'string' ? params.id : undefined;
}

const TimeParam = (what: string) =>
  Type.String({
    maxLength: 32,
    description: `${what}: ISO 8601 date or date-time (UTC unless an offset is given), or epoch milliseconds`,
  });

const TimeZoneParam = Type.String({
  maxLength: 64,
  default: 'UTC',
  description: 'IANA time zone of the hours, e.g. Europe/Berlin',
});

/** The size of a chart image in pixels (and of the spec's view). */
/** `.json` only: the spec compiled to Vega as the web app draws it (read/charts/page-look.ts). */
const ChartLookParam = Type.Optional(
  Type.Union(
    CHART_LOOKS.map((l) => Type.Literal(l)),
    {
      description:
        'for .json: the chart as the web page draws it, compiled to Vega, fitted to its container, in that colour scheme (narrow: a phone)',
    },
  ),
);

/** How a chart is drawn: its image's size, or the web page's look of its spec. */
const ChartViewQuery = {
  look: ChartLookParam,
  width: Type.Optional(
    Type.Integer({ minimum: CHART_SIZE_LIMITS.width.min, maximum: CHART_SIZE_LIMITS.width.max, default: 800 }),
  ),
  height: Type.Optional(
    Type.Integer({ minimum: CHART_SIZE_LIMITS.height.min, maximum: CHART_SIZE_LIMITS.height.max, default: 400 }),
  ),
};

export const PeriodQuery = {
  from: Type.Optional(TimeParam('start of the period, inclusive (default: 30 days before `to`)')),
  to: Type.Optional(TimeParam('end of the period, exclusive (default: now)')),
};

export const GranularityParam = Type.Union(Granularity.anyOf, {
  default: 'day',
  description: 'bucket size of the series (UTC; weeks start on Monday)',
});

export const Query = {
  none: Type.Object({}, { additionalProperties: false }),
  period: Type.Object(PeriodQuery, { additionalProperties: false }),
  series: Type.Object(
    { ...PeriodQuery, granularity: Type.Optional(GranularityParam) },
    { additionalProperties: false },
  ),
  topPosts: Type.Object(
    {
      ...PeriodQuery,
      metric: Type.Optional(
        Type.Union(
          [Type.Literal('views'), Type.Literal('forwards'), Type.Literal('reactions'), Type.Literal('engagement')],
          {
            default: 'views',
            description: 'ranking: engagement = (forwards + reactions + replies) / views',
          },
        ),
      ),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 10 })),
    },
    { additionalProperties: false },
  ),
  anomalies: Type.Object(
    {
      ...PeriodQuery,
      severity: Type.Optional(
        Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')], {
          default: 'info',
          description: 'minimum severity',
        }),
      ),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    },
    { additionalProperties: false },
  ),
  bestTime: Type.Object({ ...PeriodQuery, tz: Type.Optional(TimeZoneParam) }, { additionalProperties: false }),
  trending: Type.Object(
    { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 10 })) },
    { additionalProperties: false },
  ),
  channels: Type.Object(
    {
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
      offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 })),
    },
    { additionalProperties: false },
  ),
  chart: Type.Object(
    {
      ...PeriodQuery,
      // No schema default: the anomalies chart's default bucket is the hour, the others' the day.
      granularity: Type.Optional(
        Type.Union(Granularity.anyOf, { description: 'bucket size (UTC): hour for anomalies, else day by default' }),
      ),
      metric: Type.Optional(
        Type.String({
          pattern: '^[a-z_]{1,40}$',
          default: 'views',
          description: 'anomalies chart: the metric to plot',
        }),
      ),
      tz: Type.Optional(Type.String({ ...TimeZoneParam, description: 'best-time chart: IANA time zone of its hours' })),
      post_id: Type.Optional(
        Type.Integer({ minimum: 1, maximum: 2 ** 31 - 1, description: 'post chart (required there): the post' }),
      ),
      ...ChartViewQuery,
    },
    { additionalProperties: false },
  ),
  /** A share link's chart: the link fixes channel and period. */
  sharedChart: Type.Object(
    {
      tz: Type.Optional(Type.String({ ...TimeZoneParam, description: 'best-time chart: IANA time zone of its hours' })),
      ...ChartViewQuery,
    },
    { additionalProperties: false },
  ),
};

export const PostParams = Type.Object(
  {
    id: ChannelParams.properties.id,
    postId: Type.Integer({ minimum: 1, maximum: 2 ** 31 - 1, description: 'message id of the post in the channel' }),
  },
  { additionalProperties: false },
);

export const ChartParams = Type.Object(
  {
    id: ChannelParams.properties.id,
    file: Type.String({
      pattern: '^(growth|reach|views|anomalies|best-time|post)\\.(svg|png|json)$',
      description: 'chart name and format, e.g. growth.png; .json is the Vega-Lite spec the image is drawn from',
    }),
  },
  { additionalProperties: false },
);

export const ShareChartParams = Type.Object(
  {
    token: Type.String({ maxLength: 200 }),
    file: Type.String({
      pattern: '^(growth|reach|views|anomalies|best-time)\\.(svg|png|json)$',
      description: 'chart name and format, e.g. growth.svg; only charts of the sections the link includes',
    }),
  },
  { additionalProperties: false },
);
