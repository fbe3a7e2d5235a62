/**
 * The words on a chart that come from outside: channel titles and metric
 * names (user-controlled, so anything: emoji, markup, megabytes) and the
 * period. Vega escapes text when it writes SVG; what is left to do here is
 * keeping it on one line and short enough not to run off the image.
 */

import type { ChartFrame } from './types.ts';
import { DAY_MS } from '../../common/index.ts';

const ELLIPSIS = '…';
const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });

/**
 * East Asian wide characters and pictographs (emoji) take about two Latin
 * letters of width; counting them as two keeps a title of emoji as short on
 * the image as one of letters.
 */
const WIDE =
  /[\p{Extended_Pictographic}\u1100-\u115F\u2E80-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60\uFFE0-\uFFE6]/u;

function widthUnits(grapheme: string): number {
  return WIDE.test(grapheme) ? 2 : 1;
}

/**
 * Emoji (the supplementary-plane pictographs, flags, skin tones, and the
 * joiners and selectors that build them). No installed font draws them, so
 * they come out of the PNG as empty boxes; dropped so SVG and PNG say the
 * same thing. Symbols of the basic plane (★ ✓ ™) stay: DejaVu has them.
 */
// biome-ignore lint/suspicious/noMisleadingCharacterClass: joiners and variation selectors are removed one by one, on purpose.
const EMOJI = /[\u{1F000}-\u{1FAFF}\u{E0020}-\u{E007F}\u200D\uFE0E\uFE0F\u20E3]/gu;

/**
 * `text` on one line (control characters and runs of whitespace become one
 * space), without emoji, cut to at most `maxUnits` letter widths, ending in "…" when cut.
 * Cuts between graphemes, so an emoji or an accented letter is never split
 * into broken halves.
 *
 * @example oneLine('Daily\n  news 📰', 20) // 'Daily news'
 * @example oneLine('Breaking news', 8) // 'Breakin…'
 */
export function oneLine(text: string, maxUnits: number): string {
  const flat = text
    .replace(EMOJI, '')
    .replace(/[\p{Cc}\p{Zl}\p{Zp}\s]+/gu, ' ')
    .trim();
  const parts = Array.from(graphemes.segment(flat), ({ segment }) => segment);
  if (parts.reduce((sum, part) => sum + widthUnits(part), 0) <= maxUnits) return flat;
  let kept = '';
  let used = ELLIPSIS.length;
  for (const part of parts) {
    used += widthUnits(part);
    if (used > maxUnits) break;
    kept += part;
  }
  return kept.trimEnd() + ELLIPSIS;
}

const monthName = new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', month: 'short' });
const pad2 = (n: number): string => String(n).padStart(2, '0');

/** "Jan 05", with " 13:00" when `withTime`; in UTC whatever the machine's zone. */
function dayLabel(ms: number, withTime: boolean): string {
  const d = new Date(ms);
  const day = `${monthName.format(d)} ${pad2(d.getUTCDate())}`;
  return withTime ? `${day} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}` : day;
}

/**
 * The frame's period as people say it, in UTC: "Jan 01 – Jan 31, 2024 UTC".
 * Daily and weekly frames that start and end on midnight name the last day
 * they include (the frame is half-open); others name both instants:
 * "Jan 16 00:00 – Jan 18 00:00, 2024 UTC".
 */
export function periodLabel(frame: ChartFrame): string {
  const withTime = frame.granularity === 'hour' || frame.from % DAY_MS !== 0 || frame.to % DAY_MS !== 0;
  const last = withTime ? frame.to : Math.max(frame.from, frame.to - DAY_MS);
  const [fromYear, lastYear] = [frame.from, last].map((ms) => new Date(ms).getUTCFullYear());
  const end = `${dayLabel(last, withTime)}, ${lastYear} UTC`;
  if (last === frame.from) return end;
  const start = dayLabel(frame.from, withTime) + (fromYear === lastYear ? '' : `, ${fromYear}`);
  return `${start} – ${end}`;
}

/**
 * The subtitle: channel, then period, then `note` if any (e.g. "hours in
 * Europe/Berlin"). The channel's share of `maxUnits` is whatever the rest
 * leaves, but never less than a readable stub.
 */
export function subtitleLabel(frame: ChartFrame, maxUnits: number, note?: string): string {
  const separator = ' · ';
  const rest = separator + periodLabel(frame) + (note ? separator + note : '');
  const channel = frame.channelTitle?.trim() ? frame.channelTitle : frame.channelId;
  return oneLine(channel, Math.max(12, maxUnits - rest.length)) + rest;
}

/**
 * A metric's name as a phrase for titles, at most `maxUnits` letters wide:
 * `subscribers_lost` → "Subscribers lost".
 */
export function metricLabel(metric: string, maxUnits: number): string {
  const words = oneLine(metric.replace(/[_-]+/g, ' '), maxUnits);
  return words === '' ? 'Metric' : words[0].toUpperCase() + words.slice(1);
}
