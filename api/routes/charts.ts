/**
 * `/v1/channels/{id}/charts/{name}.{svg|png|json}`: charts rendered on the
 * server (Vega-Lite → SVG, resvg → PNG), or the Vega-Lite spec itself for the
 * web app to draw; cached and revalidated like any other answer. The names:
 * growth, reach, views, anomalies (of a metric), best-time (a heatmap in
 * `?tz=`) and post (one post's timeline, `?post_id=`).
 */
import {
  channelChart,
  type ChannelChartRequest,
  CHART_METRICS,
  type ChartName,
  isChartMetric,
  UnknownPostError,
} from '../../read/charts/index.ts';
import { answerMeta } from '../../read/index.ts';
import { isTimeZone } from '../../common/index.ts';
import { Chart, chartAnswer, chartFile } from '../chart-answer.ts';
import type { ApiApp, RouteContext } from '../context.ts';
import { ApiError, ErrorBody, invalidParameter, unknownChannel } from '../errors.ts';
import { ChartParams, Query } from '../params.ts';
import { resolvePeriod } from '../period.ts';

/** A `tz` parameter as a zone the warehouse knows; 400 naming it otherwise. */
export function checkedTimeZone(tz: string | undefined): string {
  const zone = tz ?? 'UTC';
  if (!isTimeZone(zone)) throw invalidParameter('tz', 'expected an IANA time zone such as UTC or Europe/Berlin');
  return zone;
}

/** A chart's spec from the read models; an unknown post is a 404. */
export async function drawChannelChart(ctx: RouteContext, q: ChannelChartRequest) {
  try {
    return await channelChart(ctx.warehouse, { now: ctx.now(), ...q });
  } catch (err) {
    if (!(err instanceof UnknownPostError)) throw err;
    throw new ApiError(404, 'unknown_post', err.message, { post_id: err.postId });
  }
}

export function registerChartRoutes(app: ApiApp, ctx: RouteContext): void {
  app.get(
    '/v1/channels/:id/charts/:file',
    {
      schema: {
        summary: 'A chart of the channel as SVG or PNG, or its Vega-Lite spec as JSON',
        description:
          'growth: subscribers and their change; reach: posts and views per post; views: views, forwards, reactions; ' +
          'anomalies: a metric with its anomalies; best-time: engagement by weekday and hour of publishing in `tz`; ' +
          "post: one post's views, forwards and reactions over its age (`post_id` required; the period is the post's life). " +
          '.json answers the Vega-Lite spec the image of the same name is drawn from, its data inline.',
        tags: ['charts'],
        params: ChartParams,
        querystring: Query.chart,
        response: { 200: Chart, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 429: ErrorBody },
      },
      config: { scope: 'read', cache: true },
    },
    async (req, reply) => {
      const { id, file } = req.params;
      const q = req.query;
      const { name, format } = chartFile<ChartName>(file);
      const metric = q.metric ?? 'views';
      if (!isChartMetric(metric)) throw invalidParameter('metric', `one of ${Object.keys(CHART_METRICS).join(', ')}`);
      const timeZone = checkedTimeZone(q.tz);
      if (name === 'post' && q.post_id === undefined)
        throw invalidParameter('post_id', 'the post chart needs the post: ?post_id=<message id in the channel>');
      const freshness = await ctx.freshness(id);
      if (freshness === null) throw unknownChannel(id);
      const granularity = q.granularity ?? (name === 'anomalies' ? 'hour' : 'day');
      const period = resolvePeriod(q, {
        now: ctx.now(),
        defaultDays: granularity === 'hour' ? 7 : 30,
        maxRangeDays: ctx.config.maxRangeDays,
        granularity,
      });
      const spec = await drawChannelChart(ctx, {
        channelId: id,
        chart: name,
        period,
        granularity,
        metric,
        timeZone,
        ...(q.post_id ? { postId: q.post_id } : {}),
        ...(q.width ? { width: q.width } : {}),
        ...(q.height ? { height: q.height } : {}),
      });
      return chartAnswer(reply, spec, { format, look: q.look }, answerMeta(freshness, period));
    },
  );
}
