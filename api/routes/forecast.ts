/**
 * `/v1/channels/{id}/forecast` and its chart
 * `/v1/channels/{id}/charts/forecast.{svg|png|json}`: subscribers or daily views
 * forecast for up to 90 days with 80 % and 95 % prediction intervals (the
 * forecast read model), and the same forecast drawn as bands after the
 * recent history.
 */
import { Type } from '@sinclair/typebox';
import { channelForecastChart } from '../../read/charts/index.ts';
import {
  answerMeta,
  ChannelForecast,
  channelForecast,
  FORECAST_METRICS,
  type ForecastMetric,
  MAX_HORIZON_DAYS,
} from '../../read/index.ts';
import { DAY_MS } from '../../common/index.ts';
import type { ApiApp, RouteContext } from '../context.ts';
import { ErrorBody, invalidParameter, unknownChannel } from '../errors.ts';
import { ChannelParams, Query } from '../params.ts';
import { channelRoute } from './channel-route.ts';
import { Chart, chartAnswer } from '../chart-answer.ts';

const DEFAULT_HORIZON = '30d';

const forecastParams = {
  metric: Type.Optional(
    Type.Union(
      FORECAST_METRICS.map((m) => Type.Literal(m)),
      {
        default: 'subscribers',
        description: "subscribers: each day's last member count; views: views gained per day",
      },
    ),
  ),
  horizon: Type.Optional(
    Type.String({
      maxLength: 8,
      default: DEFAULT_HORIZON,
      description: `days ahead to forecast, 1d to ${MAX_HORIZON_DAYS}d`,
    }),
  ),
};

const ForecastQuery = Type.Object(forecastParams, { additionalProperties: false });
const ForecastChartQuery = Type.Object(
  {
    ...forecastParams,
    width: Query.chart.properties.width,
    height: Query.chart.properties.height,
    look: Query.chart.properties.look,
  },
  { additionalProperties: false },
);

/** `30d` → 30; a 400 naming the parameter for anything else or beyond the longest horizon. */
function parseHorizon(value: string | undefined): number {
  const m = /^([0-9]{1,3})d$/.exec(value ?? DEFAULT_HORIZON);
  const days = m ? Number(m[1]) : Number.NaN;
  if (!(days >= 1 && days <= MAX_HORIZON_DAYS)) {
    throw invalidParameter('horizon', `expected whole days from 1d to ${MAX_HORIZON_DAYS}d, e.g. 30d`);
  }
  return days;
}

export function registerForecastRoutes(app: ApiApp, ctx: RouteContext): void {
  const wh = ctx.warehouse;
  const load = (channelId: string, metric: ForecastMetric | undefined, horizonDays: number) =>
    channelForecast(wh, { channel_id: channelId, metric: metric ?? 'subscribers', horizonDays, now: ctx.now() });
  // The history the model was fit on; a channel without one still has a (one-day) period.
  const fitPeriod = (f: ChannelForecast) => ({ from: Math.min(f.fit.from, f.fit.to - DAY_MS), to: f.fit.to });

  channelRoute(app, ctx, {
    path: '/forecast',
    summary: 'Subscribers or daily views forecast per day, with 80 % and 95 % prediction intervals',
    description:
      'Additive Holt–Winters (level, trend, weekly season) fit on up to 182 days of daily history, weights chosen by ' +
      'one-step error; intervals from the one-step errors grown with the horizon. `meta` gives the history period. ' +
      'Fewer than 21 days of history: no season; fewer than 7: no forecast (empty `points`).',
    params: ChannelParams,
    querystring: ForecastQuery,
    data: ChannelForecast,
    async load({ channelId, query }) {
      const data = await load(channelId, query.metric, parseHorizon(query.horizon));
      return { period: fitPeriod(data), data };
    },
    csv: (data) => ({
      rows: data.points,
      columns: [
        { name: 't', time: true },
        { name: 'expected' },
        { name: 'low_80' },
        { name: 'high_80' },
        { name: 'low_95' },
        { name: 'high_95' },
      ],
    }),
  });

  for (const format of ['svg', 'png', 'json'] as const) {
    app.get(
      `/v1/channels/:id/charts/forecast.${format}`,
      {
        schema: {
          summary: `The forecast chart ${format === 'json' ? 'as its Vega-Lite spec' : `as ${format.toUpperCase()}`}: recent history, forecast and its 80 % and 95 % bands`,
          tags: ['charts'],
          params: ChannelParams,
          querystring: ForecastChartQuery,
          response: { 200: Chart, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 429: ErrorBody },
        },
        config: { scope: 'read', cache: true },
      },
      async (req, reply) => {
        const { id } = req.params;
        const horizonDays = parseHorizon(req.query.horizon);
        const freshness = await ctx.freshness(id);
        if (freshness === null) throw unknownChannel(id);
        const f = await load(id, req.query.metric, horizonDays);
        const spec = channelForecastChart(f, {
          channelId: id,
          ...(req.query.width ? { width: req.query.width } : {}),
          ...(req.query.height ? { height: req.query.height } : {}),
        });
        return chartAnswer(reply, spec, { format, look: req.query.look }, answerMeta(freshness, fitPeriod(f)));
      },
    );
  }
}
