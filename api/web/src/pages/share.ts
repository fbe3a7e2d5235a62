/**
 * A share report, opened without a key: the sections the link grants, with
 * their charts fetched from the link's own chart routes. When the link has
 * gone (revoked or expired) between the page and this request, the page says
 * so plainly.
 */
import type { ActivityPoint, ReachPoint, Report } from '../../../../read/index.ts';
import { type Answer, ApiFailure, getJson } from '../api.ts';
import { fill, h } from '../dom.ts';
import { formatCount, formatSigned, formatTime, viewerTimeZone } from '../format.ts';
import { announce, describeFailure } from '../notices.ts';
import { chartFigure, section } from '../widgets.ts';
import { freshnessLine, pageTitle } from './chrome.ts';
import { topPostsTable } from './channel.ts';
import { subscriberTrend } from './channels.ts';
import { anomalyTable, kpiCards } from './report-parts.ts';

export async function renderShare(main: HTMLElement, token: string): Promise<void> {
  const path = `/v1/share/${encodeURIComponent(token)}`;
  main.replaceChildren(pageTitle('Shared report'), h('p', { class: 'loading' }, 'Loading the report…'));
  announce('Loading the report…');
  let answer: Answer<Report>;
  try {
    answer = await getJson<Answer<Report>>(path, undefined, { anonymous: true });
  } catch (err) {
    announce('');
    main.replaceChildren(pageTitle(goneTitle(err)), h('p', { class: 'refusal' }, describeFailure(err)));
    return;
  }
  const { meta, data } = answer;
  // No CSV without a key: each chart's figures are summed up in words under it instead.
  const chart = (name: string, label: string, caption?: string, query = {}) =>
    chartFigure({ name, path: `${path}/charts/${name}.json`, query, anonymous: true, label, caption });
  const tz = viewerTimeZone();
  fill(
    main,
    pageTitle(`Report: channel ${meta.channel_id}`),
    h('p', { class: 'period' }, `${formatTime(meta.from)} to ${formatTime(meta.to)}, by ${data.granularity}`),
    freshnessLine(meta),
    data.overview
      ? section(
          'kpis',
          'Key figures',
          h('p', { class: 'hint' }, 'Against the period of equal length before.'),
          kpiCards(data.overview),
        )
      : null,
    data.growth ? section('growth', 'Growth', chart('growth', 'Subscriber growth', growthSummary(data.growth))) : null,
    data.reach
      ? section(
          'reach',
          'Reach',
          chart('reach', 'Reach per post', reachSummary(data.reach)),
          chart('views', 'Views and interactions'),
        )
      : null,
    data.top_posts ? section('top-posts', 'Top posts', topPostsTable(null, data.top_posts, 'views')) : null,
    data.anomalies
      ? section(
          'anomalies',
          'Anomalies',
          chart('anomalies', 'Views per hour with anomalies'),
          anomalyTable(data.anomalies),
        )
      : null,
    data.best_time
      ? section(
          'best-time',
          'Best time to post',
          chart('best-time', 'Engagement by weekday and hour of publishing', undefined, { tz }),
          h('p', { class: 'hint' }, `Hours in your time zone (${tz}).`),
        )
      : null,
  );
  announce('Report loaded.');
}

function goneTitle(err: unknown): string {
  if (err instanceof ApiFailure && err.status === 401) return 'This link is not valid';
  if (err instanceof ApiFailure && (err.status === 404 || err.status === 410))
    return 'This link has expired or was revoked';
  return 'The report could not be loaded';
}

/** The growth chart in one sentence: subscribers at the start and end of the period. */
export function growthSummary(points: readonly ActivityPoint[]): string {
  const { values, change } = subscriberTrend(points);
  const known = values.filter((v): v is number => v !== null);
  if (known.length < 2) return 'Not enough subscriber counts in this period to show a change.';
  return `Subscribers went from ${formatCount(known[0])} to ${formatCount(known[known.length - 1])} (${formatSigned(change)}).`;
}

/** The reach chart in one sentence: posts published and the views they reached. */
export function reachSummary(points: readonly ReachPoint[]): string {
  const posts = points.reduce((n, p) => n + p.posts, 0);
  const views = points.reduce((n, p) => n + p.post_views, 0);
  return `${formatCount(posts)} posts published, reaching ${formatCount(views)} views.`;
}
