/**
 * `/growth [channel] [period]`: the API's growth chart as a PNG photo, with
 * the key figures of the same daily series in the caption (a photo alone
 * cannot be searched or quoted).
 */
import { InputFile } from 'grammy';
import { channelChart, renderChart } from '../../read/charts/index.ts';
import { answerMeta, type AnswerMeta, activitySeries, type ActivityPoint } from '../../read/index.ts';
import { compact, freshnessNote, html, periodText, signed } from '../format.ts';
import { otherPeriods, recentBuckets, type ChannelCommand } from './channel-command.ts';
import { replyHtml } from './reply.ts';

/** Subscribers over the period as a chart, because a trend reads faster as a line than as numbers. */
export const growthCommand: ChannelCommand = {
  name: 'growth',
  defaultDays: 30,
  async run(ctx, s, t) {
    const period = recentBuckets(t, 'day');
    const series = { channel_id: t.channelId, period, granularity: 'day' as const };
    const points = await activitySeries(s.warehouse, series);
    if (points.length === 0) {
      return replyHtml(
        ctx,
        `No activity of channel ${html(t.channelId)} was recorded in the ${periodText(period, t.days)}.`,
      );
    }
    // Rendering takes a moment: show "sending photo…" meanwhile.
    await ctx.replyWithChatAction('upload_photo');
    const spec = await channelChart(s.warehouse, { channelId: t.channelId, chart: 'growth', ...series }, points);
    const png = await renderChart(spec, 'png');
    const caption = growthCaption(points, t.days, answerMeta(t.freshness, period));
    await ctx.replyWithPhoto(new InputFile(png, `growth-${t.channelId}-${t.days}d.png`), {
      caption,
      parse_mode: 'HTML',
      ...otherPeriods('growth', t),
    });
  },
};

/** Key figures of a daily activity series (HTML; well under Telegram's 1024 characters of caption). */
export function growthCaption(points: readonly ActivityPoint[], days: number, meta: AnswerMeta): string {
  const last = points.filter((p) => p.subscribers !== null).at(-1);
  const gained = points.reduce((n, p) => n + p.subscribers_gained, 0);
  const lost = points.reduce((n, p) => n + p.subscribers_lost, 0);
  const best = points.reduce((a, b) =>
    b.subscribers_gained - b.subscribers_lost > a.subscribers_gained - a.subscribers_lost ? b : a,
  );
  return [
    `<b>Channel ${html(meta.channel_id)}</b> · growth, ${periodText(meta, days)}`,
    `Subscribers: <b>${last?.subscribers == null ? '–' : compact(last.subscribers)}</b> (${signed(gained - lost)}: +${compact(gained)} / −${compact(lost)})`,
    `Best day: ${signed(best.subscribers_gained - best.subscribers_lost)} on ${new Date(best.t).toISOString().slice(0, 10)}`,
    `Views gained: <b>${compact(points.reduce((n, p) => n + p.views, 0))}</b>`,
    freshnessNote(meta),
  ].join('\n');
}
