/**
 * `/v1/channels/{id}/charts/{growth|reach|views|anomalies}.{svg|png}`:
 * charts rendered on the server (Vega-Lite → SVG, resvg → PNG), cached and
 * revalidated like any other answer. Freshness travels in headers, since an
 * image has no room for a meta block.
 */
import { Type } from '@sinclair/typebox';
import { channelChart, isChartMetric, type ChartName, CHART_METRICS, renderChart } from '../../read/charts/index.ts';
import { answerMeta } from '../../read/index.ts';
import type { ApiApp, RouteContext } from '../context.ts';
import { ErrorBody, invalidParameter, unknownChannel } from '../errors.ts';
import { ChartParams, Query } from '../params.ts';
import { resolvePeriod } from '../period.ts';

/** The image, in the format its file name asks for. */
const Chart = {
  description: 'the chart',
  content: {
    'image/svg+xml': { schema: Type.String() },
    'image/png': { schema: Type.Unsafe<Buffer>({ type: 'string', format: 'binary' }) },
  },
};

export function registerChartRoutes(app: ApiApp, ctx: RouteContext): void {
  app.get(
    '/v1/channels/:id/charts/:file',
    {
      schema: {
        summary: 'A chart of the channel as SVG or PNG',
        description:
          'growth: subscribers and their change; reach: posts and views per post; views: views, forwards, reactions; anomalies: a metric with its anomalies.',
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
      const [chart, format] = file.split('.') as [ChartName, 'svg' | 'png'];
      const metric = q.metric ?? 'views';
      if (!isChartMetric(metric)) throw invalidParameter('metric', `one of ${Object.keys(CHART_METRICS).join(', ')}`);
      const freshness = await ctx.freshness(id);
      if (freshness === null) throw unknownChannel(id);
      const granularity = q.granularity ?? (chart === 'anomalies' ? 'hour' : 'day');
      const period = resolvePeriod(q, {
        now: ctx.now(),
        defaultDays: granularity === 'hour' ? 7 : 30,
        maxRangeDays: ctx.config.maxRangeDays,
        granularity,
      });
      const spec = await channelChart(ctx.warehouse, {
        channelId: id,
        chart,
        period,
        granularity,
        metric,
        ...(q.width ? { width: q.width } : {}),
        ...(q.height ? { height: q.height } : {}),
      });
      const meta = answerMeta(freshness, period);
      reply.header('x-data-updated-at', new Date(meta.data_updated_at).toISOString());
      reply.header('x-data-sources', meta.sources.join(','));
      reply.header('x-window-open', String(meta.window_open));
      if (format === 'svg') {
        reply.type('image/svg+xml; charset=utf-8');
        return renderChart(spec, 'svg');
      }
      reply.type('image/png');
      return renderChart(spec, 'png');
    },
  );
}
