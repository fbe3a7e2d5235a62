/**
 * A channel's forecast: its daily subscribers (the day's last snapshot) or
 * daily views gained, read over the recent history, and the next days
 * forecast with 80 % and 95 % prediction intervals by the model of
 * forecast-model.ts. The answer says what the model was fit on, so a reader
 * can judge how far to trust it.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { Warehouse } from '../../clickhouse/index.ts';
import { DAY_MS } from '../../common/index.ts';
import { forecastDaily, type DailyForecast } from './forecast-model.ts';
import { bucketStart, type Period } from './period.ts';
import { activitySeries, type ActivityPoint } from './series.ts';
import { Nullable, Time } from './shape.ts';

export const FORECAST_METRICS = ['subscribers', 'views'] as const;
export type ForecastMetric = (typeof FORECAST_METRICS)[number];

/** Longest horizon asked for: beyond a quarter, a trend from daily data says little. */
export const MAX_HORIZON_DAYS = 90;
/** Days of history the model is fit on (at most): long enough for several weeks, short enough to follow a change. */
const HISTORY_DAYS = 182;

/** The value of a day of the activity series, per metric. */
export const FORECAST_VALUE: Record<ForecastMetric, (p: ActivityPoint) => number | null> = {
  subscribers: (p) => p.subscribers,
  views: (p) => p.views,
};

export const ForecastPoint = Type.Object({
  t: Type.Number({ description: 'day start (epoch ms, UTC)' }),
  expected: Type.Number({ description: 'point forecast (the median on the log scale)' }),
  low_80: Type.Number(),
  high_80: Type.Number({ description: '80 % prediction interval: low_80 … high_80' }),
  low_95: Type.Number(),
  high_95: Type.Number({ description: '95 % prediction interval: low_95 … high_95' }),
});
export type ForecastPoint = Static<typeof ForecastPoint>;

const HistoryPoint = Type.Object({ t: Time, value: Nullable(Type.Number()) });
type HistoryPoint = Static<typeof HistoryPoint>;

export const ChannelForecast = Type.Object({
  metric: Type.Union(
    FORECAST_METRICS.map((m) => Type.Literal(m)),
    { description: "subscribers: each day's last member count; views: views gained per day by all posts" },
  ),
  horizon_days: Type.Integer(),
  model: Type.Object({
    method: Type.Union([Type.Literal('holt_winters_additive'), Type.Literal('holt_linear'), Type.Literal('none')], {
      description:
        'holt_winters_additive: level, trend and weekly season; holt_linear: level and trend (under 21 days of history); none: under 7 days of history, no forecast',
    }),
    scale: Type.Union([Type.Literal('log'), Type.Literal('linear')], {
      description: 'log: the series was modelled as ln(value) (all values positive), so the trend is a growth rate',
    }),
    season_days: Nullable(Type.Integer()),
    alpha: Type.Number({ description: 'level smoothing weight' }),
    beta: Type.Number({ description: 'trend smoothing weight (innovations form)' }),
    gamma: Type.Number({ description: 'season smoothing weight' }),
    residual_sd: Type.Number({ description: 'standard deviation of the one-step errors, on the model scale' }),
  }),
  fit: Type.Object({
    from: Type.Number({ description: 'first day of the history the model was fit on (epoch ms, UTC)' }),
    to: Type.Number({ description: 'end of that history, exclusive: the forecast starts here' }),
    days: Type.Integer(),
    observed_days: Type.Integer({ description: 'days of the history with a value' }),
    n: Type.Integer({ description: 'one-step forecasts the in-sample error is measured on' }),
    rmse: Type.Number({ description: 'in-sample one-step root mean square error, in units of the metric' }),
    mae: Type.Number(),
    mape: Nullable(Type.Number(), { description: 'in-sample one-step mean absolute percentage error (0.05 = 5 %)' }),
  }),
  history: Type.Array(HistoryPoint, { description: 'the daily series the model was fit on, oldest first' }),
  points: Type.Array(ForecastPoint, { description: 'one per day after the history; empty when method is none' }),
});
export type ChannelForecast = Static<typeof ChannelForecast>;

/**
 * The forecast of `metric` for `horizonDays` days after the last complete
 * UTC day before `now`, fit on up to {@link HISTORY_DAYS} days: one query.
 *
 * @example
 * const f = await channelForecast(wh, { channel_id: '1001234567', metric: 'subscribers', horizonDays: 30, now: Date.now() });
 * f.points.at(-1); // { t, expected, low_80, high_80, low_95, high_95 } in 30 days
 */
export async function channelForecast(
  wh: Warehouse,
  q: { channel_id: string; metric: ForecastMetric; horizonDays: number; now: number },
): Promise<ChannelForecast> {
  if (!Number.isInteger(q.horizonDays) || q.horizonDays < 1 || q.horizonDays > MAX_HORIZON_DAYS) {
    throw new RangeError(`forecast horizon must be 1 to ${MAX_HORIZON_DAYS} whole days, got ${q.horizonDays}`);
  }
  // The running day is left out: its figures are still growing.
  const to = bucketStart(q.now, 'day');
  const period = { from: to - HISTORY_DAYS * DAY_MS, to };
  const days = await activitySeries(wh, { channel_id: q.channel_id, period, granularity: 'day' });
  const history = dailyHistory(days, period, FORECAST_VALUE[q.metric]);
  const f = forecastDaily(
    history.map((p) => p.value),
    q.horizonDays,
  );
  return forecastAnswer(q.metric, history, to, f);
}

/**
 * One value per day from the channel's first day in the period to its end,
 * null on days without one. A channel whose data starts inside the period
 * started being tracked that day, part way through it: that first day is
 * left out, its views and joins being only part of a day's.
 */
function dailyHistory(
  points: readonly ActivityPoint[],
  period: Period,
  value: (p: ActivityPoint) => number | null,
): HistoryPoint[] {
  const first = points[0];
  if (first === undefined) return [];
  const from = first.t > period.from ? first.t + DAY_MS : first.t;
  const byDay = new Map(points.map((p) => [p.t, value(p)]));
  const out: HistoryPoint[] = [];
  for (let t = from; t < period.to; t += DAY_MS) out.push({ t, value: byDay.get(t) ?? null });
  return out;
}

/** The read model's answer from the history and the model's forecast after `to`. */
function forecastAnswer(
  metric: ForecastMetric,
  history: HistoryPoint[],
  to: number,
  f: DailyForecast,
): ChannelForecast {
  const m = f.model;
  return {
    metric,
    horizon_days: f.horizon,
    model: {
      method: m.method,
      scale: m.scale,
      season_days: m.seasonDays,
      alpha: m.alpha,
      beta: m.beta,
      gamma: m.gamma,
      residual_sd: m.residualSd,
    },
    fit: {
      from: history[0]?.t ?? to,
      to,
      days: m.days,
      observed_days: m.observedDays,
      n: m.inSample.n,
      rmse: m.inSample.rmse,
      mae: m.inSample.mae,
      mape: m.inSample.mape,
    },
    history,
    points: f.steps.map((s) => ({
      t: to + (s.h - 1) * DAY_MS,
      expected: s.expected,
      low_80: s.low80,
      high_80: s.high80,
      low_95: s.low95,
      high_95: s.high95,
    })),
  };
}
