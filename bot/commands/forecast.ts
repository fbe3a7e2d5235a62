/**
 * `/forecast [channel] [horizon] [subscribers|views]`: where the channel is
 * heading, as the API's forecast chart (history, forecast, 80 % and 95 %
 * bands) with the expected value at the horizon and its 80 % interval in
 * the caption. The period word is the horizon here (30 days by default; the
 * buttons under it offer 7, 30 and 90).
 */
import { InputFile } from 'grammy';
import { channelForecastChart, renderChart } from '../../read/charts/index.ts';
import {
  answerMeta,
  type AnswerMeta,
  type ChannelForecast,
  channelForecast,
  FORECAST_METRICS,
  MAX_HORIZON_DAYS,
} from '../../read/index.ts';
import { compact, daysText, freshnessNote, html, percent } from '../format.ts';
import { chosen, oneOf, otherPeriods, type ChannelCommand } from './channel-command.ts';
import { replyHtml } from './reply.ts';

/** What the model is called in a caption. */
const METHOD_TEXT: Record<ChannelForecast['model']['method'], string> = {
  holt_winters_additive: 'Holt–Winters with a weekly season',
  holt_linear: 'Holt’s linear trend (under 3 weeks of history: no weekly season)',
  none: 'none',
};

/** A forecast rather than a report: the trend of the recent months, projected with its uncertainty. */
export const forecastCommand: ChannelCommand = {
  name: 'forecast',
  defaultDays: 30,
  option: oneOf(FORECAST_METRICS),
  async run(ctx, s, t) {
    if (t.days > MAX_HORIZON_DAYS) {
      return replyHtml(
        ctx,
        `A forecast looks at most ${MAX_HORIZON_DAYS} days ahead, not ${t.days}: try <code>/forecast ${html(t.channelId)} 30d</code>.`,
      );
    }
    const metric = chosen(FORECAST_METRICS, t, 'subscribers');
    const f = await channelForecast(s.warehouse, { channel_id: t.channelId, metric, horizonDays: t.days, now: t.now });
    if (f.points.length === 0) {
      return replyHtml(
        ctx,
        `Channel ${html(t.channelId)} has ${daysText(f.fit.observed_days)} of ${metric} data; a forecast needs at least a week.`,
      );
    }
    // Rendering takes a moment: show "sending photo…" meanwhile.
    await ctx.replyWithChatAction('upload_photo');
    const png = await renderChart(channelForecastChart(f, { channelId: t.channelId }), 'png');
    const meta = answerMeta(t.freshness, { from: f.fit.from, to: f.fit.to });
    await ctx.replyWithPhoto(new InputFile(png, `forecast-${metric}-${t.channelId}-${t.days}d.png`), {
      caption: forecastCaption(f, meta),
      parse_mode: 'HTML',
      ...otherPeriods('forecast', t),
    });
  },
};

/** The forecast at its horizon in words (HTML): the expected value, its 80 % and 95 % intervals, and the model. */
export function forecastCaption(f: ChannelForecast, meta: AnswerMeta): string {
  // The command answers only forecasts with points.
  const end = f.points[f.points.length - 1];
  const last = f.history.filter((p) => p.value !== null).at(-1);
  const what = f.metric === 'subscribers' ? 'Subscribers' : 'Views per day';
  const day = (t: number) => new Date(t).toISOString().slice(0, 10);
  const mape = f.fit.mape === null ? '' : `, one-day error ${percent(f.fit.mape)}`;
  return [
    `<b>Channel ${html(meta.channel_id)}</b> · ${f.metric} forecast, next ${daysText(f.horizon_days)}`,
    `${what} in ${daysText(f.horizon_days)} (${day(end.t)}): <b>${compact(end.expected)}</b>`,
    `80 % likely between ${compact(end.low_80)} and ${compact(end.high_80)} (95 %: ${compact(end.low_95)} – ${compact(end.high_95)})`,
    last ? `Last day (${day(last.t)}): ${compact(last.value ?? 0)}` : '',
    `<i>Model: ${METHOD_TEXT[f.model.method]}, fit on ${daysText(f.fit.days)}${mape}.</i>`,
    freshnessNote(meta),
  ]
    .filter((line) => line !== '')
    .join('\n');
}
