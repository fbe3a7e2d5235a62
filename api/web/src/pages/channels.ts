/**
 * The channel list: every channel the key may see with its latest figures,
 * a search box, and for the first channels a 30-day subscriber sparkline and
 * change (one growth request each, a few at a time, so a long list does not
 * flood the API).
 */
import type { ActivityPoint, ChannelListing } from '../../../../read/index.ts';
import { type Answer, getJson } from '../api.ts';
import { h } from '../dom.ts';
import { channelName, formatCount, formatSigned, formatTime, UNKNOWN } from '../format.ts';
import { announce, reportFailure } from '../notices.ts';
import { lastDays } from '../period.ts';
import { channelHash } from '../routes.ts';
import { sparkline } from '../sparkline.ts';
import { pageTitle } from './chrome.ts';

interface ChannelsAnswer {
  meta: { total: number };
  data: ChannelListing[];
}

const TREND_DAYS = 30;

/** The columns after the channel's own, in order. */
const COLUMNS: { label: string; numeric: boolean }[] = [
  { label: 'Subscribers', numeric: true },
  { label: `Change (${TREND_DAYS} d)`, numeric: true },
  { label: `Subscribers, ${TREND_DAYS} d`, numeric: false },
  { label: 'Views (24 h)', numeric: true },
  { label: 'Posts (24 h)', numeric: true },
  { label: 'Open anomalies', numeric: true },
  { label: 'Updated', numeric: false },
];

/** Channels that get a sparkline; the rest show their figures only. */
const SPARKLINES = 24;
const PARALLEL = 4;

/** Whether a channel matches the search: its id, title or username contains every word typed. */
export function matchesSearch(c: ChannelListing, search: string): boolean {
  const haystack = [c.channel_id, c.title ?? '', c.username ? `@${c.username}` : ''].join(' ').toLowerCase();
  return search
    .toLowerCase()
    .split(/\s+/)
    .filter((w) => w !== '')
    .every((w) => haystack.includes(w));
}

/** Subscribers over the trend period and their net change (last known minus first known). */
export function subscriberTrend(points: readonly ActivityPoint[]): {
  values: (number | null)[];
  change: number | null;
} {
  const values = points.map((p) => p.subscribers);
  const known = values.filter((v): v is number => v !== null);
  return { values, change: known.length >= 2 ? known[known.length - 1] - known[0] : null };
}

export async function renderChannels(main: HTMLElement): Promise<void> {
  main.replaceChildren(pageTitle('Channels'));
  announce('Loading channels…');
  let answer: ChannelsAnswer;
  try {
    answer = await getJson<ChannelsAnswer>('/v1/channels', { limit: 200 });
  } catch (err) {
    announce('');
    reportFailure(err);
    return;
  }
  const channels = answer.data;
  const search = h('input', { id: 'channel-search', type: 'search', autocomplete: 'off' });
  const rows = channels.map((c) => channelRow(c));
  const tbody = h(
    'tbody',
    {},
    rows.map((r) => r.row),
  );
  const count = h('p', { class: 'hint', id: 'channel-count' });
  const showCount = (shown: number) => {
    count.textContent = `${shown} of ${channels.length} channel${channels.length === 1 ? '' : 's'} shown`;
  };
  search.addEventListener('input', () => {
    let shown = 0;
    rows.forEach((r, i) => {
      r.row.hidden = !matchesSearch(channels[i], search.value);
      if (!r.row.hidden) shown++;
    });
    showCount(shown);
    announce(count.textContent ?? '');
  });
  showCount(channels.length);
  main.append(
    h(
      'div',
      { class: 'field search' },
      h('label', { for: 'channel-search' }, 'Search channels (title, @username or id)'),
      search,
    ),
    count,
    channels.length === 0
      ? h('p', { class: 'empty' }, 'No channels yet: this key sees none, or nothing has been collected.')
      : h(
          'div',
          { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-label': 'Channels' },
          h(
            'table',
            { class: 'channel-list' },
            h('caption', {}, 'Channels with their latest figures'),
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                h('th', { scope: 'col' }, 'Channel'),
                COLUMNS.map((c) => h('th', { scope: 'col', class: c.numeric ? 'num' : undefined }, c.label)),
              ),
            ),
            tbody,
          ),
        ),
  );
  announce(`${channels.length} channel${channels.length === 1 ? '' : 's'} loaded.`);
  await fillTrends(channels.slice(0, SPARKLINES), rows);
}

interface Row {
  row: HTMLTableRowElement;
  change: HTMLElement;
  trend: HTMLElement;
}

function channelRow(c: ChannelListing): Row {
  const change = h('td', { class: 'num' }, '…');
  const trend = h('td', { class: 'trend' });
  const row = h(
    'tr',
    { 'data-channel-id': c.channel_id },
    h(
      'th',
      { scope: 'row' },
      h('a', { href: channelHash(c.channel_id) }, channelName(c)),
      c.title || c.username ? h('span', { class: 'sub' }, c.channel_id) : null,
    ),
    h('td', { class: 'num' }, formatCount(c.subscribers)),
    change,
    trend,
    h('td', { class: 'num' }, formatCount(c.views_24h)),
    h('td', { class: 'num' }, formatCount(c.posts_24h)),
    h('td', { class: c.open_anomalies > 0 ? 'num alerting' : 'num' }, formatCount(c.open_anomalies)),
    h('td', {}, formatTime(c.data_updated_at)),
  );
  // On a phone each row is a card whose cells name their column (app.css).
  [...row.querySelectorAll('td')].forEach((td, i) => {
    td.dataset.label = COLUMNS[i].label;
  });
  return { row, change, trend };
}

/** Sparklines and changes for the first channels, {@link PARALLEL} requests at a time. */
async function fillTrends(channels: ChannelListing[], rows: Row[]): Promise<void> {
  const period = lastDays(TREND_DAYS, Date.now());
  let next = 0;
  const worker = async () => {
    while (next < channels.length) {
      const i = next++;
      const row = rows[i];
      try {
        const growth = await getJson<Answer<ActivityPoint[]>>(`/v1/channels/${channels[i].channel_id}/growth`, {
          granularity: 'day',
          ...period,
        });
        const trend = subscriberTrend(growth.data);
        row.change.textContent = formatSigned(trend.change);
        row.trend.replaceChildren(sparkline(trend.values));
      } catch (err) {
        row.change.textContent = UNKNOWN;
        reportFailure(err);
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  for (const r of rows.slice(channels.length)) r.change.textContent = UNKNOWN;
}
