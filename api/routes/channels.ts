/**
 * `/v1/channels` and the analytics routes of one channel. Each route only
 * maps parameters to a read model (read/models/) and, for series, rows to
 * CSV columns; the request pipeline around them is in plugins/ (in the
 * order app.ts registers them) and channel-route.ts.
 */
import { Type } from '@sinclair/typebox';
import {
  ActivityPoint,
  activitySeries,
  BestTime,
  bestTime,
  ChannelAnomaly,
  channelAnomalies,
  ChannelListing,
  type Granularity,
  listChannels,
  Overview,
  overview,
  PostDetail,
  postDetail,
  PostPerformance,
  ReachPoint,
  reachSeries,
  Sources,
  sources,
  Trending,
  trending,
  topPostsBy,
} from '../../read/index.ts';
import { channelNames, isControlPlaneDown } from '../../control/index.ts';
import { DAY_MS, isTimeZone } from '../../common/index.ts';
import type { ApiApp, RouteContext } from '../context.ts';
import { ApiError, ErrorBody, invalidParameter, unknownChannel } from '../errors.ts';
import { ChannelParams, PostParams, Query } from '../params.ts';
import { resolvePeriod } from '../period.ts';
import { channelRoute } from './channel-route.ts';

const DEFAULT_DAYS = 30;

export function registerChannelRoutes(app: ApiApp, ctx: RouteContext): void {
  const wh = ctx.warehouse;
  // Names only decorate a listing: while the control plane is down it still answers, without them.
  const names = (ids: readonly string[]) =>
    channelNames(ctx.control, ids).catch((err: unknown) => {
      if (!isControlPlaneDown(err)) throw err;
      ctx.log.warn({ err }, 'channel names unavailable: the control plane is down');
      return new Map();
    });
  const period = (q: { from?: string; to?: string }, granularity?: Granularity) =>
    resolvePeriod(q, {
      now: ctx.now(),
      defaultDays: granularity === 'hour' ? 7 : DEFAULT_DAYS,
      maxRangeDays: ctx.config.maxRangeDays,
      ...(granularity ? { granularity } : {}),
    });

  app.get(
    '/v1/channels',
    {
      schema: {
        summary: 'Tracked channels with their latest figures',
        tags: ['channels'],
        querystring: Query.channels,
        response: {
          200: Type.Object({
            meta: Type.Object({
              total: Type.Integer(),
              limit: Type.Integer(),
              offset: Type.Integer(),
              generated_at: Type.Number(),
            }),
            data: Type.Array(ChannelListing),
          }),
          401: ErrorBody,
          429: ErrorBody,
        },
      },
      config: { scope: 'read', cache: true, perKey: true },
    },
    async (req) => {
      const limit = req.query.limit ?? 100;
      const offset = req.query.offset ?? 0;
      const now = ctx.now();
      const page = await listChannels(wh, { ids: req.apiKey?.channels ?? null, limit, offset, now, names });
      return { meta: { total: page.total, limit, offset, generated_at: now }, data: page.channels };
    },
  );

  channelRoute(app, ctx, {
    path: '',
    summary: 'One channel with its name and latest figures, as the list shows it',
    params: ChannelParams,
    querystring: Query.none,
    data: ChannelListing,
    async load({ channelId }) {
      const now = ctx.now();
      const page = await listChannels(wh, { ids: [channelId], limit: 1, offset: 0, now, names });
      // The freshness board (a few seconds old) may still know a channel forgotten since.
      if (page.channels.length === 0) throw unknownChannel(channelId);
      return { period: { from: now - DAY_MS, to: now }, data: page.channels[0] };
    },
  });

  channelRoute(app, ctx, {
    path: '/overview',
    summary: 'Subscribers, posts, views, reach per post, ERR and engagement, with the previous period of equal length',
    params: ChannelParams,
    querystring: Query.period,
    data: Overview,
    async load({ channelId, query }) {
      const p = period(query);
      return { period: p, data: await overview(wh, { channel_id: channelId, period: p }) };
    },
  });

  const activityColumns = [
    { name: 't', time: true },
    { name: 'subscribers' },
    { name: 'subscribers_gained' },
    { name: 'subscribers_lost' },
    { name: 'views' },
    { name: 'forwards' },
    { name: 'reactions' },
    { name: 'replies' },
    { name: 'final' },
  ];
  channelRoute(app, ctx, {
    path: '/growth',
    summary: 'Subscribers and their change per hour, day or week',
    description:
      'Each bucket: subscribers at its last snapshot, subscribers gained and lost, and the views and interactions gained in it.',
    params: ChannelParams,
    querystring: Query.series,
    data: Type.Array(ActivityPoint),
    async load({ channelId, query }) {
      const granularity = query.granularity ?? 'day';
      const p = period(query, granularity);
      return {
        period: p,
        granularity,
        data: await activitySeries(wh, { channel_id: channelId, period: p, granularity }),
      };
    },
    csv: (data) => ({ rows: data, columns: activityColumns }),
  });

  channelRoute(app, ctx, {
    path: '/reach',
    summary: 'Posts published per bucket, the views they reached, and views gained per bucket',
    params: ChannelParams,
    querystring: Query.series,
    data: Type.Array(ReachPoint),
    async load({ channelId, query }) {
      const granularity = query.granularity ?? 'day';
      const p = period(query, granularity);
      return { period: p, granularity, data: await reachSeries(wh, { channel_id: channelId, period: p, granularity }) };
    },
    csv: (data) => ({
      rows: data,
      columns: [
        { name: 't', time: true },
        { name: 'posts' },
        { name: 'post_views' },
        { name: 'reach_per_post' },
        { name: 'views' },
      ],
    }),
  });

  channelRoute(app, ctx, {
    path: '/posts/top',
    summary: 'Best posts published in the period by views, forwards, reactions or engagement',
    params: ChannelParams,
    querystring: Query.topPosts,
    data: Type.Array(PostPerformance),
    async load({ channelId, query }) {
      const p = period(query);
      const data = await topPostsBy(wh, {
        channel_id: channelId,
        period: p,
        metric: query.metric ?? 'views',
        limit: query.limit ?? 10,
      });
      return { period: p, data };
    },
    csv: (data) => ({
      rows: data,
      columns: [
        { name: 'post_id' },
        { name: 'date', time: true },
        { name: 'media_type' },
        { name: 'text_length' },
        { name: 'views' },
        { name: 'forwards' },
        { name: 'reactions' },
        { name: 'replies' },
        { name: 'engagement_rate' },
        { name: 'as_of', time: true },
      ],
    }),
  });

  channelRoute(app, ctx, {
    path: '/posts/:postId',
    summary: "One post's counters over its age (the last snapshot of each hour)",
    params: PostParams,
    querystring: Type.Object({}, { additionalProperties: false }),
    data: PostDetail,
    async load({ channelId, params }) {
      const detail = await postDetail(wh, { channel_id: channelId, post_id: params.postId });
      if (detail === null) {
        throw new ApiError(404, 'unknown_post', `post ${params.postId} of channel ${channelId} is not known`, {
          post_id: params.postId,
        });
      }
      const last = detail.timeline.at(-1)?.t ?? detail.post.as_of;
      return { period: { from: detail.post.date, to: Math.max(last, detail.post.as_of) + 1 }, data: detail };
    },
    csv: (data) => ({
      rows: data.timeline,
      columns: [
        { name: 't', time: true },
        { name: 'age_hours' },
        { name: 'views' },
        { name: 'forwards' },
        { name: 'reactions' },
        { name: 'replies' },
      ],
    }),
  });

  channelRoute(app, ctx, {
    path: '/sources',
    summary:
      'Forward sources, mentions, linked sites, tracked channels forwarding this one, and official statistics by source',
    params: ChannelParams,
    querystring: Query.period,
    data: Sources,
    // `forwarded_by` names other tracked channels: only those the key may see.
    perKey: true,
    async load({ channelId, visible, query }) {
      const p = period(query);
      return { period: p, data: await sources(wh, { channel_id: channelId, period: p, visible }) };
    },
  });

  channelRoute(app, ctx, {
    path: '/trending',
    summary:
      'Latest EWMA mean, standard deviation and z-score per metric, and the posts furthest above their expected views',
    params: ChannelParams,
    querystring: Query.trending,
    data: Trending,
    async load({ channelId, query, freshness }) {
      const data = await trending(wh, { channel_id: channelId, postLimit: query.limit ?? 10 });
      const starts = [...data.metrics, ...data.posts].map((t) => t.window_start);
      const from = starts.length > 0 ? Math.min(...starts) : freshness.data_updated_at;
      return { period: { from, to: Math.max(from + 1, freshness.data_updated_at) }, data };
    },
    csv: (data) => ({
      rows: [...data.metrics, ...data.posts],
      columns: ['metric', 'window', 'post_id', 'value', 'mean', 'sd', 'z', 'n', 'warm'].flatMap((name) =>
        name === 'window' ? [{ name }, { name: 'window_start', time: true }] : [{ name }],
      ),
    }),
  });

  channelRoute(app, ctx, {
    path: '/anomalies',
    summary: 'Anomalies whose window starts in the period, at or above a severity, newest first',
    params: ChannelParams,
    querystring: Query.anomalies,
    data: Type.Array(ChannelAnomaly),
    async load({ channelId, query }) {
      const p = period(query);
      const data = await channelAnomalies(wh, {
        channel_id: channelId,
        period: p,
        minSeverity: query.severity ?? 'info',
        limit: query.limit ?? 100,
      });
      return { period: p, data };
    },
    csv: (data) => ({
      rows: data,
      columns: [
        { name: 'anomaly_id' },
        { name: 'state' },
        { name: 'metric' },
        { name: 'window' },
        { name: 'window_start', time: true },
        { name: 'post_id' },
        { name: 'direction' },
        { name: 'severity' },
        { name: 'reason' },
        { name: 'value' },
        { name: 'expected' },
        { name: 'band_low' },
        { name: 'band_high' },
        { name: 'z' },
        { name: 'opened_at', time: true },
        { name: 'resolved_at', time: true },
      ],
    }),
  });

  channelRoute(app, ctx, {
    path: '/best-time',
    summary: 'Engagement by hour of the week of publishing, with how many posts back each cell',
    params: ChannelParams,
    querystring: Query.bestTime,
    data: BestTime,
    async load({ channelId, query }) {
      const timeZone = query.tz ?? 'UTC';
      if (!isTimeZone(timeZone))
        throw invalidParameter('tz', 'expected an IANA time zone such as UTC or Europe/Berlin');
      const p = period(query);
      return { period: p, data: await bestTime(wh, { channel_id: channelId, period: p, timeZone, now: ctx.now() }) };
    },
    csv: (data) => ({
      rows: data.cells,
      columns: ['day_of_week', 'hour', 'posts', 'avg_views', 'engagement_rate', 'index', 'confidence'].map((name) => ({
        name,
      })),
    }),
  });
}
