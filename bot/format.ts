/**
 * Telegram HTML for the bot's messages. Every value that came from data
 * (channel ids, metric names, post text fragments) is escaped; numbers are
 * formatted for people (1.2k, 3.4M; percentages with one decimal).
 */
import type { AnswerMeta, Period } from '../read/index.ts';
import type { AnomalyReason } from '../streams/contract/index.ts';

/**
 * Text cut to `max` characters with an ellipsis: data and input can be kilobytes, a message holds 4096.
 * Never between the two halves of a surrogate pair (an emoji): Telegram refuses a text with half of one.
 */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const end = /[\uD800-\uDBFF]/.test(text.charAt(max - 1)) ? max - 1 : max;
  return `${text.slice(0, end)}…`;
}

/** Escape text for Telegram's HTML parse mode. */
export function html(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** 1234 → "1.2k", 3_400_000 → "3.4M"; small numbers keep up to one decimal. */
export function compact(n: number): string {
  const abs = Math.abs(n);
  const fmt = (x: number, unit: string) => `${(Math.round(x * 10) / 10).toString()}${unit}`;
  if (abs >= 1e9) return fmt(n / 1e9, 'B');
  if (abs >= 1e6) return fmt(n / 1e6, 'M');
  if (abs >= 1e4) return fmt(n / 1e3, 'k');
  return Number.isInteger(n) ? n.toLocaleString('en-US') : (Math.round(n * 10) / 10).toString();
}

/** A ratio as a percentage, or "–" when unknown. */
export function percent(r: number | null): string {
  return r === null ? '–' : `${(Math.round(r * 1000) / 10).toFixed(1)}%`;
}

/** Signed change: "+12", "−3" (a real minus sign reads better). */
export function signed(n: number): string {
  return n > 0 ? `+${compact(n)}` : n < 0 ? `−${compact(-n)}` : '0';
}

/** A UTC time as "2026-03-09 14:00 UTC". */
export function utc(t: number): string {
  return `${new Date(t).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** Readable metric name: subscribers_lost → "subscribers lost". */
export function metricName(metric: string): string {
  return metric.replace(/_/g, ' ');
}

/** Why an anomaly was raised, as a channel owner would say it. */
const REASONS: Record<AnomalyReason, string> = {
  outlier: 'far outside its usual range',
  level_shift: 'its level moved away from the usual and stayed there',
  variance: 'much more erratic than usual, or frozen',
  silence: 'no posts for much longer than usual',
};

export function reasonText(reason: AnomalyReason): string {
  return REASONS[reason];
}

/** Days as people say them: "1 day", "30 days". */
export function daysText(days: number): string {
  return days === 1 ? '1 day' : `${days} days`;
}

/** A period in a message: "last 30 days (2026-02-14 10:00 → 2026-03-16 10:00 UTC)". */
export function periodText(p: Period, days: number): string {
  return `last ${daysText(days)} (${utc(p.from).slice(0, 16)} → ${utc(p.to)})`;
}

/**
 * The freshness note every answer ends with (HTML): how current the data is
 * and whether the period's last hours may still grow, so a reader does not
 * take a running hour for a collapse.
 */
export function freshnessNote(meta: AnswerMeta): string {
  const open = meta.window_open ? '; the latest hours are still open and may grow' : '';
  return `<i>Data as of ${utc(meta.data_updated_at)} from ${html(meta.sources.join(', '))}${open}.</i>`;
}
