/**
 * The best-time heatmap: one cell per hour of the week a post was published
 * in (hours across, Monday to Sunday down), coloured by how much its posts
 * engaged their readers. Hours without posts stay grey, so "nobody posted
 * then" does not read as "posting then does not work".
 */
import type { Config, TopLevelSpec } from 'vega-lite';
import type { PositionDef } from 'vega-lite/types_unstable/channeldef.js';
import { chart, type Layer, noDataChart } from './specs.ts';
import type { ChartFrame, HourOfWeekCell } from './types.ts';

/** Row labels, ISO order: day 1 is Monday. */
export const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;
const HOURS = Array.from({ length: 24 }, (_, h) => h);

/**
 * The cells' look, as a named mark style in the spec's config: a page in a
 * dark colour scheme restyles it there (api/web/src/chart-spec.ts) without
 * knowing the chart's layers.
 */
const HEATMAP_STYLES: Config['style'] = {
  /** Hours without posts. */
  'empty-cell': { color: '#f1f1f1', stroke: 'white', strokeWidth: 1 },
  /** Hours with posts (coloured by their engagement). */
  'heat-cell': { stroke: 'white', strokeWidth: 1 },
};

/** One drawn cell: the read model's cell with its weekday as a label. */
export interface HeatmapRow {
  day: (typeof WEEKDAYS)[number];
  hour: number;
  posts: number;
  avgViews: number;
  engagementRate: number | null;
}

/**
 * The heatmap of `cells`, whose hours are of `timeZone` (the subtitle says
 * which). Its tooltip gives each cell's posts, mean views and engagement.
 *
 * @example
 * const spec = bestTimeChart(frame, 'Europe/Berlin', cells); // cells from the best-time read model
 */
export function bestTimeChart(frame: ChartFrame, timeZone: string, cells: readonly HourOfWeekCell[]): TopLevelSpec {
  const title = 'Best time to post';
  const note = `hours in ${timeZone}`;
  if (cells.length === 0) return noDataChart(frame, title, note);
  const rows: HeatmapRow[] = cells.map((c) => ({
    day: WEEKDAYS[c.dayOfWeek - 1],
    hour: c.hour,
    posts: c.posts,
    avgViews: c.avgViews,
    engagementRate: c.engagementRate,
  }));
  const y: PositionDef<string> = {
    field: 'day',
    type: 'ordinal',
    scale: { domain: [...WEEKDAYS] },
    axis: { title: null },
  };
  const grid: Layer = {
    data: { values: WEEKDAYS.flatMap((day) => HOURS.map((hour) => ({ day, hour }))) },
    mark: { type: 'rect', style: 'empty-cell' },
    encoding: { y },
  };
  const heat: Layer = {
    data: { values: rows },
    mark: { type: 'rect', style: 'heat-cell' },
    encoding: {
      y,
      color: {
        field: 'engagementRate',
        type: 'quantitative',
        scale: { scheme: 'blues', zero: true },
        legend: { title: 'Engagement rate', format: '.1%', gradientLength: 160 },
      },
      tooltip: [
        { field: 'day', title: 'Day' },
        { field: 'hour', title: 'Hour' },
        { field: 'posts', title: 'Posts', format: ',d' },
        { field: 'avgViews', title: 'Mean views', format: ',.0f' },
        { field: 'engagementRate', title: 'Engagement rate', format: '.2%' },
      ],
    },
  };
  const best = rows.reduce((a, b) => ((b.engagementRate ?? -1) > (a.engagementRate ?? -1) ? b : a));
  const shows =
    `Engagement rate of posts by weekday and hour of publishing in ${timeZone}, ${cells.length} of 168 hours with posts; ` +
    `highest on ${best.day} at ${best.hour}:00 (${best.posts} post${best.posts === 1 ? '' : 's'}).`;
  return chart(frame, { title, shows, note }, [grid, heat], {
    yScales: 'shared',
    styles: HEATMAP_STYLES,
    x: {
      field: 'hour',
      type: 'ordinal',
      scale: { domain: HOURS, paddingInner: 0.06 },
      axis: { title: `Hour of publishing (${timeZone})`, labelAngle: 0, labelOverlap: true, grid: false },
    },
  });
}
