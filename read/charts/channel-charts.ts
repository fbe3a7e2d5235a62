/**
 * A channel's charts from the read models: loads the series a chart needs
 * and builds its Vega-Lite spec. The API renders them as SVG or PNG or hands
 * the spec to the web app as JSON; the bot sends them as photos.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { Warehouse } from '../../clickhouse/index.ts';
import {
  bestTime,
  channelAnomalies,
  postDetail,
  type Granularity,
  type Period,
  activitySeries,
  reachSeries,
  type ActivityPoint,
} from '../index.ts';
import { bestTimeChart } from './best-time-chart.ts';
import { postTimelineChart } from './post-chart.ts';
import { anomaliesChart, growthChart, reachChart, viewsChart } from './specs.ts';
import type { AnomalyMark } from './types.ts';
import { HOUR_MS } from '../../common/index.ts';

export const CHART_NAMES = ['growth', 'reach', 'views', 'anomalies', 'best-time', 'post'] as const;
export type ChartName = (typeof CHART_NAMES)[number];

/** Channel metrics an anomalies chart can plot, and where each comes from in the activity series. */
export const CHART_METRICS = {
  views: (p: ActivityPoint) => p.views,
  forwards: (p: ActivityPoint) => p.forwards,
  reactions: (p: ActivityPoint) => p.reactions,
  replies: (p: ActivityPoint) => p.replies,
  subscribers_gained: (p: ActivityPoint) => p.subscribers_gained,
  subscribers_lost: (p: ActivityPoint) => p.subscribers_lost,
} as const;
export type ChartMetric = keyof typeof CHART_METRICS;

export function isChartMetric(m: string): m is ChartMetric {
  return Object.hasOwn(CHART_METRICS, m);
}

export interface ChannelChartRequest {
  channelId: string;
  channelTitle?: string | null;
  chart: ChartName;
  /** Whole buckets of `granularity` (see alignPeriod). */
  period: Period;
  granularity: Granularity;
  /** Anomalies chart only (default views). */
  metric?: ChartMetric;
  /** Best-time chart only: IANA zone of its hours, checked by the caller (default UTC). */
  timeZone?: string;
  /** Best-time chart only: posts younger than the read model's minimum age by then are left out (default now). */
  now?: number;
  /** Post chart only, required: the post. Its timeline is drawn whatever `period` says. */
  postId?: number;
  width?: number;
  height?: number;
}

/** The post a post chart was asked for is not known (or not of this channel). */
export class UnknownPostError extends Error {
  override readonly name = 'UnknownPostError';
  constructor(
    readonly channelId: string,
    readonly postId: number | undefined,
  ) {
    super(`post ${postId ?? '(none given)'} of channel ${channelId} is not known`);
  }
}

/** Window names of the detectors per bucket size: an anomaly's own value is drawn where they match. */
const WINDOW_OF: Record<Granularity, string> = { hour: '1h', day: '1d', week: '7d' };

/**
 * The chart's spec, its series read from the warehouse: one query, two for
 * the anomalies chart. A caller that already read the activity series of
 * the same period and granularity passes it as `activity` and saves a query.
 */
export async function channelChart(
  wh: Warehouse,
  q: ChannelChartRequest,
  activity?: readonly ActivityPoint[],
): Promise<TopLevelSpec> {
  const frame = {
    channelId: q.channelId,
    channelTitle: q.channelTitle ?? null,
    from: q.period.from,
    to: q.period.to,
    granularity: q.granularity,
    ...(q.width ? { width: q.width } : {}),
    ...(q.height ? { height: q.height } : {}),
  };
  const series = { channel_id: q.channelId, period: q.period, granularity: q.granularity };
  const activityPoints = async () => activity ?? (await activitySeries(wh, series));
  switch (q.chart) {
    case 'growth': {
      const points = await activityPoints();
      return growthChart(
        frame,
        points.map((p) => ({
          t: p.t,
          subscribers: p.subscribers,
          gained: p.subscribers_gained,
          lost: p.subscribers_lost,
        })),
      );
    }
    case 'reach': {
      const points = await reachSeries(wh, series);
      return reachChart(
        frame,
        points.map((p) => ({ t: p.t, views: p.views, posts: p.posts, reachPerPost: p.reach_per_post })),
      );
    }
    case 'views': {
      const points = await activityPoints();
      return viewsChart(
        frame,
        points.map((p) => ({ t: p.t, views: p.views, forwards: p.forwards, reactions: p.reactions })),
      );
    }
    case 'best-time': {
      const timeZone = q.timeZone ?? 'UTC';
      const best = await bestTime(wh, {
        channel_id: q.channelId,
        period: q.period,
        timeZone,
        now: q.now ?? Date.now(),
      });
      return bestTimeChart(
        frame,
        timeZone,
        best.cells.map((c) => ({
          dayOfWeek: c.day_of_week,
          hour: c.hour,
          posts: c.posts,
          avgViews: c.avg_views,
          engagementRate: c.engagement_rate,
        })),
      );
    }
    case 'post': {
      const detail =
        q.postId === undefined ? null : await postDetail(wh, { channel_id: q.channelId, post_id: q.postId });
      if (detail === null) throw new UnknownPostError(q.channelId, q.postId);
      const { post, timeline } = detail;
      const life = { from: post.date, to: Math.max(post.date + HOUR_MS, post.as_of, ...timeline.map((p) => p.t)) };
      return postTimelineChart(
        { ...frame, ...life, granularity: 'hour' },
        post.post_id,
        timeline.map((p) => ({ ageHours: p.age_hours, views: p.views, forwards: p.forwards, reactions: p.reactions })),
      );
    }
    case 'anomalies': {
      const metric = q.metric ?? 'views';
      const [points, anomalies] = await Promise.all([
        activityPoints(),
        channelAnomalies(wh, { channel_id: q.channelId, period: q.period, minSeverity: 'info', limit: 1000 }),
      ]);
      const value = CHART_METRICS[metric];
      const byBucket = new Map(points.map((p) => [p.t, value(p)]));
      const bucketOf = (t: number) => {
        let best = points[0]?.t ?? t;
        for (const p of points) if (p.t <= t) best = p.t;
        return best;
      };
      const marks: AnomalyMark[] = anomalies
        .filter((a) => a.metric === metric && a.post_id === null)
        .map((a) => {
          // An anomaly of another window size is drawn on the bucket holding it, at the bucket's value.
          const own = a.window === WINDOW_OF[q.granularity];
          const t = own ? a.window_start : bucketOf(a.window_start);
          return {
            t,
            metric,
            severity: a.severity,
            direction: a.direction,
            value: own ? a.value : (byBucket.get(t) ?? a.value),
            expected: a.expected,
            bandLow: a.band_low,
            bandHigh: a.band_high,
          };
        });
      return anomaliesChart(
        frame,
        metric,
        points.map((p) => ({ t: p.t, value: value(p) })),
        marks,
      );
    }
  }
}
