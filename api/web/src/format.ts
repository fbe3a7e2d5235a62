/**
 * How figures read on the page: counts with thousands separators or in
 * compact form, ratios as percentages, times in the viewer's local time.
 * Pure functions of their input and the browser's locale.
 */
import type { ChannelListing } from '../../../read/index.ts';

const count = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const percent = new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 2 });
const signedPercent = new Intl.NumberFormat(undefined, {
  style: 'percent',
  maximumFractionDigits: 1,
  signDisplay: 'exceptZero',
});
const signed = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0, signDisplay: 'exceptZero' });
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** The dash shown for a figure that is unknown (null: nothing to divide by, no snapshot yet). */
export const UNKNOWN = '—';

export const formatCount = (n: number | null | undefined): string => (n == null ? UNKNOWN : count.format(n));
export const formatSigned = (n: number | null | undefined): string => (n == null ? UNKNOWN : signed.format(n));
export const formatPercent = (r: number | null | undefined): string => (r == null ? UNKNOWN : percent.format(r));
export const formatChange = (r: number | null | undefined): string => (r == null ? UNKNOWN : signedPercent.format(r));
export const formatTime = (epochMs: number | null | undefined): string =>
  epochMs == null ? UNKNOWN : dateTime.format(new Date(epochMs));

/** A ratio with two decimals when it is not a percentage (views per post). */
export const formatDecimal = (n: number | null | undefined): string =>
  n == null ? UNKNOWN : n.toLocaleString(undefined, { maximumFractionDigits: n >= 100 ? 0 : 2 });

/** The viewer's IANA time zone, for the best-time heatmap. */
export function viewerTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** What a channel is called: its title, else its @username, else its id. */
export function channelName(c: Pick<ChannelListing, 'channel_id' | 'title' | 'username'>): string {
  return c.title || (c.username ? `@${c.username}` : `Channel ${c.channel_id}`);
}
