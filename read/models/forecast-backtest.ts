/**
 * Backtest of the channel forecasts: forecasts made as of past days (the
 * origins) by the same read model the API serves, which reads only the days
 * before its clock, set against what the following days brought. Scored by
 * how often the actual value fell inside the 80 % and 95 % intervals and by
 * the point forecast's absolute percentage error.
 */
import { median } from 'simple-statistics';
import type { Warehouse } from '../../clickhouse/index.ts';
import { DAY_MS } from '../../common/index.ts';
import { channelForecast, FORECAST_VALUE, type ForecastMetric, type ForecastPoint } from './forecast.ts';
import { activitySeries } from './series.ts';

/** One forecast day with what actually happened. */
export interface BacktestPoint extends ForecastPoint {
  channel_id: string;
  /** The forecast's clock: it saw the days before this one. */
  origin: number;
  /** Days ahead, from 1. */
  h: number;
  actual: number;
}

export interface BacktestScore {
  points: number;
  /** Share of actuals inside the 80 % interval (ends included). */
  coverage80: number;
  coverage95: number;
  /** Mean absolute percentage error of the point forecast, over actuals above zero (0.05 = 5 %). */
  mape: number | null;
  /** Its median: a few near-zero days (a quiet channel) cannot dominate it. */
  medianApe: number | null;
}

/**
 * Forecasts of `metric` as of each origin (a day start) for each channel,
 * paired with the actual values; days without one are left out.
 *
 * @example
 * const points = await backtestPoints(wh, { channels, metric: 'subscribers', origins: [end - 30 * DAY_MS], horizonDays: 30 });
 * scoreBacktest(points).coverage80; // about 0.8 when the intervals are calibrated
 */
export async function backtestPoints(
  wh: Warehouse,
  q: { channels: readonly string[]; metric: ForecastMetric; origins: readonly number[]; horizonDays: number },
): Promise<BacktestPoint[]> {
  const out: BacktestPoint[] = [];
  if (q.origins.length === 0) return out;
  const period = { from: Math.min(...q.origins), to: Math.max(...q.origins) + q.horizonDays * DAY_MS };
  for (const channel_id of q.channels) {
    const days = await activitySeries(wh, { channel_id, period, granularity: 'day' });
    const actual = new Map(days.map((p) => [p.t, FORECAST_VALUE[q.metric](p)]));
    for (const origin of q.origins) {
      const f = await channelForecast(wh, { channel_id, metric: q.metric, horizonDays: q.horizonDays, now: origin });
      f.points.forEach((p, i) => {
        const value = actual.get(p.t);
        if (value !== undefined && value !== null) out.push({ ...p, channel_id, origin, h: i + 1, actual: value });
      });
    }
  }
  return out;
}

/** Interval coverage and point error of backtest points. */
export function scoreBacktest(points: readonly BacktestPoint[]): BacktestScore {
  const share = (inside: (p: BacktestPoint) => boolean) =>
    points.length === 0 ? 0 : points.filter(inside).length / points.length;
  const ape = points.filter((p) => p.actual > 0).map((p) => Math.abs(p.actual - p.expected) / p.actual);
  return {
    points: points.length,
    coverage80: share((p) => p.actual >= p.low_80 && p.actual <= p.high_80),
    coverage95: share((p) => p.actual >= p.low_95 && p.actual <= p.high_95),
    mape: ape.length > 0 ? ape.reduce((a, b) => a + b, 0) / ape.length : null,
    medianApe: ape.length > 0 ? median(ape) : null,
  };
}
