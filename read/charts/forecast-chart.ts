/**
 * The forecast chart of a channel from the forecast read model: the recent
 * history and the forecast with its bands, drawn by `forecastChart`. The API
 * serves it and the bot sends it, so both show the same picture.
 */
import type { TopLevelSpec } from 'vega-lite';
import { DAY_MS } from '../../common/index.ts';
import type { ChannelForecast, ForecastMetric } from '../index.ts';
import { forecastChart } from './specs.ts';

/** The series' name on the chart. */
const LABELS: Record<ForecastMetric, string> = { subscribers: 'Subscribers', views: 'Views per day' };

/** History shown before the forecast, at least: four weeks show the trend and the week's rhythm. */
const MIN_SHOWN_DAYS = 28;

/**
 * The chart of a forecast: as much history as twice the horizon (at least
 * four weeks, at most what the model was fit on), then the forecast.
 *
 * @example
 * const png = await renderChart(channelForecastChart(await channelForecast(wh, q), { channelId: q.channel_id }), 'png');
 */
export function channelForecastChart(
  f: ChannelForecast,
  view: { channelId: string; channelTitle?: string | null; width?: number; height?: number },
): TopLevelSpec {
  const shownFrom = f.fit.to - Math.max(MIN_SHOWN_DAYS, 2 * f.horizon_days) * DAY_MS;
  const history = f.history.filter((p) => p.t >= shownFrom);
  const frame = {
    channelId: view.channelId,
    channelTitle: view.channelTitle ?? null,
    from: Math.max(shownFrom, history[0]?.t ?? f.fit.to - MIN_SHOWN_DAYS * DAY_MS),
    to: f.fit.to + f.horizon_days * DAY_MS,
    granularity: 'day' as const,
    ...(view.width ? { width: view.width } : {}),
    ...(view.height ? { height: view.height } : {}),
  };
  const bands = f.points.map((p) => ({
    t: p.t,
    expected: p.expected,
    low80: p.low_80,
    high80: p.high_80,
    low95: p.low_95,
    high95: p.high_95,
  }));
  return forecastChart(frame, LABELS[f.metric], history, bands);
}
