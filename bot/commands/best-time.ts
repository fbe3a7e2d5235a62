/**
 * `/besttime [channel] [period] [time zone]`: the hours of the week whose
 * posts do best, from the API's best-time model, trusting cells backed by a
 * few posts over a single lucky one.
 */
import { isTimeZone } from '../../common/index.ts';
import { bestTime, type BestTime, type BestTimeCell, type AnswerMeta } from '../../read/index.ts';
import { compact, freshnessNote, html, percent, periodText } from '../format.ts';
import { messageCommand } from './channel-command.ts';

const SHOWN = 5;
const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** A time zone as the runtime spells it (`europe/berlin` → `Europe/Berlin`), or null. */
export function timeZoneOf(word: string): string | null {
  if (!isTimeZone(word)) return null;
  return new Intl.DateTimeFormat('en', { timeZone: word }).resolvedOptions().timeZone;
}

/** Best hours of the week, in the time zone asked for (default UTC). */
export const bestTimeCommand = messageCommand({
  name: 'besttime',
  defaultDays: 30,
  option: timeZoneOf,
  load: (s, t, period) =>
    bestTime(s.warehouse, { channel_id: t.channelId, period, timeZone: t.option ?? 'UTC', now: t.now }),
  message: bestTimeMessage,
});

/** Best cells first; cells of one or two posts only when nothing better exists. */
export function bestCells(cells: readonly BestTimeCell[]): BestTimeCell[] {
  const trusted = cells.filter((c) => c.confidence !== 'low');
  return [...(trusted.length > 0 ? trusted : cells)].sort((a, b) => (b.index ?? 0) - (a.index ?? 0)).slice(0, SHOWN);
}

/** The best hours as a message (HTML). */
export function bestTimeMessage(b: BestTime, days: number, meta: AnswerMeta): string {
  const head = `<b>Channel ${html(meta.channel_id)}</b> · best time to post (${html(b.time_zone)}), ${periodText(meta, days)}`;
  if (b.posts === 0) {
    return `${head}\n\nNo posts at least ${b.min_post_age_hours} hours old in this period: ask for a longer one.\n\n${freshnessNote(meta)}`;
  }
  const lines = bestCells(b.cells).map((c) => {
    const hour = String(c.hour).padStart(2, '0');
    const index = c.index === null ? '–' : `${c.index.toFixed(2)}×`;
    return `${WEEKDAYS[c.day_of_week - 1]} ${hour}:00 · <b>${index}</b> the average post · ${compact(Math.round(c.avg_views))} views · ${percent(c.engagement_rate)} engagement · ${c.posts === 1 ? '1 post' : `${c.posts} posts`}, ${c.confidence} confidence`;
  });
  return [
    head,
    '',
    ...lines,
    '',
    `${b.posts} posts compared, each at least ${b.min_post_age_hours} hours old.`,
    freshnessNote(meta),
  ].join('\n');
}
