/**
 * A channel's page: period and granularity, KPIs against the previous
 * period, growth, reach and views, top posts, anomalies, the best time to
 * post (in the viewer's time zone), sources, the forecast, and CSV exports.
 * Each section loads on its own, so a slow one does not hold up the others.
 */
import type { ChannelAnomaly, ChannelListing, Overview, PostPerformance, Sources } from '../../../../read/index.ts';
import { type Answer, getJson } from '../api.ts';
import { h, labelledSelect } from '../dom.ts';
import { channelName, formatCount, formatDecimal, formatPercent, formatTime, viewerTimeZone } from '../format.ts';
import { announce, reportFailure } from '../notices.ts';
import { lastDays, type PagePeriod } from '../period.ts';
import {
  type ChannelView,
  channelHash,
  GRANULARITIES,
  PERIOD_DAYS,
  postHash,
  TOP_POST_METRICS,
  type TopPostMetric,
} from '../routes.ts';
import { channelCsv, chartFigure, csvButton, dataTable, section } from '../widgets.ts';
import { anomalyTable, kpiCards } from './report-parts.ts';
import { freshnessLine, pageTitle, renameTitle } from './chrome.ts';

const METRIC_LABEL: Record<TopPostMetric, string> = {
  views: 'Views',
  forwards: 'Forwards',
  reactions: 'Reactions',
  engagement: 'Engagement rate',
};

export function renderChannel(main: HTMLElement, channelId: string, view: ChannelView): void {
  const base = `/v1/channels/${channelId}`;
  const period = lastDays(view.days, Date.now());
  const series = { ...period, granularity: view.granularity };
  const go = (change: Partial<ChannelView>) => {
    location.hash = channelHash(channelId, { ...view, ...change });
  };

  const heading = pageTitle(`Channel ${channelId}`);
  const freshness = h('div', { class: 'freshness-slot' });
  const kpis = h('div', { class: 'kpi-slot' }, h('p', { class: 'loading' }, 'Loading figures…'));
  main.replaceChildren(
    h('nav', { 'aria-label': 'Breadcrumb', class: 'crumbs' }, h('a', { href: '#/channels' }, 'Channels'), ' / '),
    heading,
    freshness,
    h(
      'form',
      { class: 'controls', 'aria-label': 'Period and granularity', onsubmit: (e: Event) => e.preventDefault() },
      labelledSelect(
        'period-days',
        'Period',
        PERIOD_DAYS.map((d) => ({ value: String(d), text: `Last ${d} days` })),
        String(view.days),
        (v) => go({ days: Number(v) as ChannelView['days'] }),
      ),
      labelledSelect(
        'granularity',
        'Granularity',
        GRANULARITIES.map((g) => ({ value: g, text: `By ${g}` })),
        view.granularity,
        (v) => go({ granularity: v as ChannelView['granularity'] }),
      ),
    ),
    section(
      'kpis',
      'Key figures',
      h('p', { class: 'hint' }, `Last ${view.days} days against the ${view.days} days before.`),
      kpis,
    ),
    section(
      'growth',
      'Growth',
      chartFigure({
        name: 'growth',
        path: `${base}/charts/growth.json`,
        query: series,
        label: 'Subscriber growth',
        csv: channelCsv(channelId, 'growth', series, 'growth CSV'),
      }),
    ),
    section(
      'reach',
      'Reach',
      chartFigure({
        name: 'reach',
        path: `${base}/charts/reach.json`,
        query: series,
        label: 'Reach per post',
        csv: channelCsv(channelId, 'reach', series, 'reach CSV'),
      }),
      chartFigure({
        name: 'views',
        path: `${base}/charts/views.json`,
        query: series,
        label: 'Views and interactions',
        caption: 'Views, forwards and reactions per bucket are columns of the growth CSV.',
      }),
    ),
    topPostsSection(base, channelId, period, view),
    anomaliesSection(base, channelId, period),
    bestTimeSection(base, channelId, period),
    sourcesSection(base, period),
    section(
      'forecast',
      'Forecast',
      chartFigure({
        name: 'forecast',
        path: `${base}/charts/forecast.json`,
        label: 'Subscriber forecast',
        caption: 'Next 30 days with 80 % and 95 % prediction intervals.',
        csv: channelCsv(channelId, 'forecast', {}, 'forecast CSV'),
      }),
    ),
  );
  announce(`Loading channel ${channelId}…`);
  // The heading says the channel's name when the registry knows it. A failure here leaves the id,
  // and the overview below (same API, same channel) reports it.
  getJson<Answer<ChannelListing>>(base)
    .then((answer) => renameTitle(heading, channelName(answer.data)))
    .catch(() => undefined);
  getJson<Answer<Overview>>(`${base}/overview`, period)
    .then((answer) => {
      freshness.replaceChildren(freshnessLine(answer.meta));
      kpis.replaceChildren(kpiCards(answer.data));
      announce(`Channel ${channelId} loaded.`);
    })
    .catch((err: unknown) => {
      kpis.replaceChildren(h('p', { class: 'empty' }, 'Figures are not available.'));
      reportFailure(err);
    });
}

function topPostsSection(base: string, channelId: string, period: PagePeriod, view: ChannelView): HTMLElement {
  const slot = h('div', {}, h('p', { class: 'loading' }, 'Loading posts…'));
  let metric = view.metric;
  const query = () => ({ ...period, metric, limit: 10 });
  const load = () => {
    getJson<Answer<PostPerformance[]>>(`${base}/posts/top`, query())
      .then((answer) => slot.replaceChildren(topPostsTable(channelId, answer.data, metric)))
      .catch((err: unknown) => {
        slot.replaceChildren(h('p', { class: 'empty' }, 'Top posts are not available.'));
        reportFailure(err);
      });
  };
  load();
  const picker = labelledSelect(
    'top-metric',
    'Rank by',
    TOP_POST_METRICS.map((m) => ({ value: m, text: METRIC_LABEL[m] })),
    metric,
    (v) => {
      metric = v as TopPostMetric;
      // Only this table changes: the address follows without reloading the page.
      history.replaceState(null, '', channelHash(channelId, { ...view, metric }));
      load();
    },
  );
  const csv = csvButton(channelCsv(channelId, 'posts/top', { ...period, limit: 100 }, 'top posts CSV'));
  return section('top-posts', 'Top posts', h('div', { class: 'controls' }, picker, csv), slot);
}

export function topPostsTable(channelId: string | null, posts: readonly PostPerformance[], metric: TopPostMetric) {
  return dataTable<PostPerformance>(
    `Top ${posts.length} posts by ${METRIC_LABEL[metric].toLowerCase()}`,
    [
      {
        header: 'Post',
        rowHeader: true,
        cell: (p) =>
          channelId === null ? `#${p.post_id}` : h('a', { href: postHash(channelId, p.post_id) }, `Post #${p.post_id}`),
      },
      { header: 'Published', cell: (p) => formatTime(p.date) },
      { header: 'Type', cell: (p) => p.media_type },
      { header: 'Views', numeric: true, cell: (p) => formatCount(p.views) },
      { header: 'Forwards', numeric: true, cell: (p) => formatCount(p.forwards) },
      { header: 'Reactions', numeric: true, cell: (p) => formatCount(p.reactions) },
      { header: 'Replies', numeric: true, cell: (p) => formatCount(p.replies) },
      { header: 'Engagement', numeric: true, cell: (p) => formatPercent(p.engagement_rate) },
    ],
    posts,
    'No posts were published in this period.',
  );
}

function anomaliesSection(base: string, channelId: string, period: PagePeriod): HTMLElement {
  const slot = h('div', {}, h('p', { class: 'loading' }, 'Loading anomalies…'));
  getJson<Answer<ChannelAnomaly[]>>(`${base}/anomalies`, period)
    .then((answer) => slot.replaceChildren(anomalyTable(answer.data)))
    .catch((err: unknown) => {
      slot.replaceChildren(h('p', { class: 'empty' }, 'Anomalies are not available.'));
      reportFailure(err);
    });
  return section(
    'anomalies',
    'Anomalies',
    chartFigure({
      name: 'anomalies',
      path: `${base}/charts/anomalies.json`,
      query: { ...period, granularity: 'hour' },
      label: 'Views per hour with anomalies',
      csv: channelCsv(channelId, 'anomalies', period, 'anomalies CSV'),
    }),
    slot,
  );
}

function bestTimeSection(base: string, channelId: string, period: PagePeriod): HTMLElement {
  const tz = viewerTimeZone();
  const query = { ...period, tz };
  return section(
    'best-time',
    'Best time to post',
    chartFigure({
      name: 'best-time',
      path: `${base}/charts/best-time.json`,
      query,
      label: 'Engagement by weekday and hour of publishing',
      caption: `Hours in your time zone (${tz}); only posts at least 48 hours old are compared.`,
      csv: channelCsv(channelId, 'best-time', query, 'best-time CSV'),
    }),
  );
}

function sourcesSection(base: string, period: PagePeriod): HTMLElement {
  const slot = h('div', { class: 'grid-2' }, h('p', { class: 'loading' }, 'Loading sources…'));
  getJson<Answer<Sources>>(`${base}/sources`, period)
    .then((answer) => slot.replaceChildren(...sourceTables(answer.data)))
    .catch((err: unknown) => {
      slot.replaceChildren(h('p', { class: 'empty' }, 'Sources are not available.'));
      reportFailure(err);
    });
  return section('sources', 'Sources', slot);
}

function sourceTables(s: Sources): HTMLElement[] {
  const named = (caption: string, nameHeader: string, rows: Sources['mentions'], empty: string) =>
    dataTable(
      caption,
      [
        { header: nameHeader, rowHeader: true, cell: (r) => r.name },
        { header: 'Posts', numeric: true, cell: (r) => formatCount(r.posts) },
      ],
      rows.slice(0, 10),
      empty,
    );
  return [
    named('Channels forwarded from', 'Channel', s.forwarded_from, 'No forwards from other channels.'),
    named('Channels mentioned', 'Mention', s.mentions, 'No mentions.'),
    named('Linked sites', 'Domain', s.link_domains, 'No links.'),
    named('Tracked channels forwarding this one', 'Channel', s.forwarded_by, 'No tracked channel forwards it.'),
    dataTable(
      'Official statistics by source',
      [
        { header: 'Metric', rowHeader: true, cell: (r) => r.metric },
        { header: 'Source', cell: (r) => r.series },
        { header: 'Total', numeric: true, cell: (r) => formatDecimal(r.total) },
      ],
      s.official.slice(0, 20),
      'No official statistics by source (Telegram gives them to channel admins of large channels).',
    ),
  ];
}
