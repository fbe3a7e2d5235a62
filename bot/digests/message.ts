/**
 * A digest's content: the headline figures of the period (the API's overview
 * read model, against the period before) as a caption, under the growth
 * chart of the weeks around it (the chart the API and /growth draw). A
 * channel without any activity in the chart's span gets the caption alone.
 */
import type { Warehouse } from '../../clickhouse/index.ts';
import { DAY_MS } from '../../common/index.ts';
import type { DigestCadence } from '../../control/index.ts';
import { channelChart, renderChart } from '../../read/charts/index.ts';
import { activitySeries, alignPeriod, overview, type Overview } from '../../read/index.ts';
import { compact, html, percent, signed } from '../format.ts';
import { type DigestPeriod, periodLabel } from './period.ts';

/** What one digest sends: a photo with the caption, or the caption alone when `png` is null. */
export interface DigestContent {
  caption: string;
  png: Buffer | null;
}

/** Days the chart spans, ending with the period: a week of days for a daily digest, four weeks for a weekly one. */
const CHART_DAYS: Record<DigestCadence, number> = { daily: 7, weekly: 28 };

/** A figure and its change from the period before, e.g. `Posts: <b>12</b> (+3)`. */
function line(label: string, now: number, before: number | null): string {
  const change = before === null ? '' : ` (${signed(now - before)})`;
  return `${label}: <b>${compact(now)}</b>${change}`;
}

/** The caption (HTML, well under Telegram's 1024 characters of a photo caption). */
export function digestCaption(
  d: { channelId: string; cadence: DigestCadence; timeZone: string },
  p: DigestPeriod,
  o: Overview,
): string {
  const c = o.current;
  const prev = o.previous;
  const compared = prev.subscribers !== null || prev.posts > 0 || prev.views > 0;
  const subscribers =
    c.subscribers === null
      ? 'Subscribers: <b>–</b>'
      : `Subscribers: <b>${compact(c.subscribers)}</b>` +
        (c.subscribers_change === null
          ? ''
          : ` (${signed(c.subscribers_change)}: +${compact(c.subscribers_gained)} / −${compact(c.subscribers_lost)})`);
  return [
    `<b>${d.cadence === 'daily' ? 'Daily' : 'Weekly'} digest</b> · channel <code>${html(d.channelId)}</code>`,
    `${html(periodLabel(p, d.timeZone))} (${html(d.timeZone)})`,
    '',
    subscribers,
    line('Posts published', c.posts, compared ? prev.posts : null),
    line('Views gained', c.views, compared ? prev.views : null),
    `Reach per post: <b>${c.reach_per_post === null ? '–' : compact(c.reach_per_post)}</b> · ERR <b>${percent(c.err)}</b> · engagement <b>${percent(c.engagement_rate)}</b>`,
    `Forwards · reactions · replies: <b>${compact(c.post_forwards)}</b> · <b>${compact(c.post_reactions)}</b> · <b>${compact(c.post_replies)}</b>`,
    ...(compared ? [] : ['No data for the period before to compare with.']),
    '',
    '<i>/digest off stops these digests.</i>',
  ].join('\n');
}

/** Reads the figures of the period and draws the chart. */
export async function buildDigest(
  wh: Warehouse,
  d: { channelId: string; cadence: DigestCadence; timeZone: string },
  p: DigestPeriod,
): Promise<DigestContent> {
  const series = {
    channel_id: d.channelId,
    period: alignPeriod({ from: p.to - CHART_DAYS[d.cadence] * DAY_MS, to: p.to }, 'day'),
    granularity: 'day' as const,
  };
  const [figures, points] = await Promise.all([
    overview(wh, { channel_id: d.channelId, period: { from: p.from, to: p.to } }),
    activitySeries(wh, series),
  ]);
  const caption = digestCaption(d, p, figures);
  if (points.length === 0) return { caption, png: null };
  const spec = await channelChart(wh, { channelId: d.channelId, chart: 'growth', ...series }, points);
  return { caption, png: await renderChart(spec, 'png') };
}
