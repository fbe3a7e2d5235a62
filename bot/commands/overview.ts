/**
 * `/overview [channel] [period]`: the headline figures of the API's overview
 * (same read model, same period), each against the period of equal length
 * before it.
 */
import { type AnswerMeta, overview, type Overview } from '../../read/index.ts';
import { compact, daysText, freshnessNote, html, percent, periodText, signed } from '../format.ts';
import { messageCommand } from './channel-command.ts';

/** Headline figures, each against the period before, so a number comes with whether it is good. */
export const overviewCommand = messageCommand({
  name: 'overview',
  defaultDays: 30,
  load: (s, t, period) => overview(s.warehouse, { channel_id: t.channelId, period }),
  message: overviewMessage,
});

const count = (n: number | null) => (n === null ? '–' : compact(n));

/** One figure: `Label: <b>value</b> (note)`. */
function line(label: string, value: string, note = ''): string {
  return `${label}: <b>${value}</b>${note === '' ? '' : ` (${note})`}`;
}

/** The overview as a message (HTML). Comparisons are left out when the period before holds no data (a channel tracked since). */
export function overviewMessage(o: Overview, days: number, meta: AnswerMeta): string {
  const c = o.current;
  const p = o.previous;
  const before = `previous ${daysText(days)}`;
  const compared = p.subscribers !== null || p.posts > 0 || p.views > 0;
  const vs = (note: string) => (compared ? note : '');
  const vsCount = (now: number, then: number) => vs(`${signed(now - then)} vs ${before}`);
  const vsRatio = (then: string) => vs(`${before}: ${then}`);
  const subscribersNote =
    c.subscribers_change === null
      ? ''
      : `${signed(c.subscribers_change)}: +${compact(c.subscribers_gained)} / −${compact(c.subscribers_lost)}`;
  return [
    `<b>Channel ${html(meta.channel_id)}</b> · overview, ${periodText(o.period, days)}`,
    '',
    line('Subscribers', count(c.subscribers), subscribersNote),
    line('Posts published', compact(c.posts), vsCount(c.posts, p.posts)),
    line('Views gained', compact(c.views), vsCount(c.views, p.views)),
    line('Views of these posts', compact(c.post_views)),
    line('Reach per post', count(c.reach_per_post), vsRatio(count(p.reach_per_post))),
    line('ERR', percent(c.err), vsRatio(percent(p.err))),
    line('Engagement rate', percent(c.engagement_rate), vsRatio(percent(p.engagement_rate))),
    `Forwards · reactions · replies: <b>${compact(c.post_forwards)}</b> · <b>${compact(c.post_reactions)}</b> · <b>${compact(c.post_replies)}</b>`,
    ...(compared ? [] : [`No data for the ${before} to compare with.`]),
    '',
    freshnessNote(meta),
  ].join('\n');
}
