/**
 * `/export [channel] [period] [hour|day|week]`: the growth series as a CSV
 * document, with the columns of the API's `growth.csv`. Periods are bounded
 * like the API's (checked when the arguments are read), and the rows are
 * capped so a chat never receives a file nobody can open on a phone.
 */
import { InputFile } from 'grammy';
import {
  toCsv,
  type CsvColumn,
  answerMeta,
  type AnswerMeta,
  GRANULARITIES,
  type Granularity,
  activitySeries,
  type ActivityPoint,
} from '../../read/index.ts';
import { freshnessNote, html, periodText } from '../format.ts';
import { chosen, oneOf, recentBuckets, type ChannelCommand } from './channel-command.ts';
import { replyHtml } from './reply.ts';

/** Most rows in one file; the API serves longer series. */
export const MAX_EXPORT_ROWS = 1000;

/** The API's growth.csv columns, in its order. */
const COLUMNS: CsvColumn[] = (
  [
    't',
    'subscribers',
    'subscribers_gained',
    'subscribers_lost',
    'views',
    'forwards',
    'reactions',
    'replies',
    'final',
  ] as const satisfies ReadonlyArray<keyof ActivityPoint>
).map((name) => ({ name, ...(name === 't' ? { time: true } : {}) }));

/** Sends the series as a file: figures to keep or chart elsewhere, without an API key. */
export const exportCommand: ChannelCommand = {
  name: 'export',
  defaultDays: 30,
  option: oneOf(GRANULARITIES),
  async run(ctx, s, t) {
    const granularity = chosen(GRANULARITIES, t, 'day');
    const period = recentBuckets(t, granularity);
    const points = await activitySeries(s.warehouse, { channel_id: t.channelId, period, granularity });
    if (points.length === 0) {
      return replyHtml(
        ctx,
        `No activity of channel ${html(t.channelId)} was recorded in the ${periodText(period, t.days)}: nothing to export.`,
      );
    }
    const file = exportFile(points, {
      channelId: t.channelId,
      granularity,
      days: t.days,
      meta: answerMeta(t.freshness, period),
    });
    await ctx.replyWithDocument(new InputFile(Buffer.from(file.csv, 'utf8'), file.name), {
      caption: file.caption,
      parse_mode: 'HTML',
    });
  },
};

/** The CSV of a series and the caption that says what it holds (HTML), at most `maxRows` rows. */
export function exportFile(
  points: readonly ActivityPoint[],
  q: { channelId: string; granularity: Granularity; days: number; meta: AnswerMeta; maxRows?: number },
): { name: string; csv: string; caption: string } {
  const maxRows = q.maxRows ?? MAX_EXPORT_ROWS;
  // The newest rows matter most: a capped export keeps the end of the period.
  const rows = points.slice(-maxRows);
  const capped =
    points.length > rows.length
      ? `\n<b>Only the latest ${maxRows} of ${points.length} rows</b> are in this file: ask for a shorter period or a coarser grain (day, week), or use the API.`
      : '';
  return {
    name: `${q.channelId}-growth-${q.granularity}-${q.days}d.csv`,
    // Spread: an interface has no index signature, its object literal copy does.
    csv: toCsv(
      rows.map((p) => ({ ...p })),
      COLUMNS,
    ),
    caption: `<b>Channel ${html(q.channelId)}</b> · growth per ${q.granularity}, ${periodText(q.meta, q.days)}: ${rows.length} rows.${capped}\n${freshnessNote(q.meta)}`,
  };
}
