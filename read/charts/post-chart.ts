/**
 * One post's counters over its age: views on the left axis, forwards and
 * reactions (about a hundredth of views) on the right, against hours since
 * publication, so the posts of a channel can be compared by how fast they
 * were read.
 */
import type { TopLevelSpec } from 'vega-lite';
import { chart, COLOR, countY, lineLayer, noDataChart, seriesScale } from './specs.ts';
import type { ChartFrame, PostAgePoint } from './types.ts';

const count = (n: number): string => n.toLocaleString('en-US');

/**
 * The timeline of post `postId`; the frame's period is the post's life so
 * far (publication to the last observation), named in the subtitle.
 *
 * @example
 * const spec = postTimelineChart({ ...frame, granularity: 'hour' }, 42, points);
 */
export function postTimelineChart(frame: ChartFrame, postId: number, points: readonly PostAgePoint[]): TopLevelSpec {
  const title = `Post ${postId}: views, forwards and reactions`;
  if (points.length === 0) return noDataChart(frame, title);
  const color = seriesScale([
    ['Views', COLOR.primary],
    ['Forwards', COLOR.forwards],
    ['Reactions', COLOR.reactions],
  ]);
  const views = points.map((p) => ({ age: p.ageHours, views: p.views }));
  const engagement = points.flatMap((p) => [
    { age: p.ageHours, series: 'Forwards', value: p.forwards },
    { age: p.ageHours, series: 'Reactions', value: p.reactions },
  ]);
  const last = points[points.length - 1];
  const oldest = Math.max(1, ...points.map((p) => p.ageHours));
  const shows =
    `Views as a line on the left axis, forwards and reactions as lines on the right axis, by hours since publication; ` +
    `${count(last.views)} views, ${count(last.forwards)} forwards and ${count(last.reactions)} reactions ` +
    `at ${Math.round(last.ageHours)} hours.`;
  return chart(
    frame,
    { title, shows },
    [
      lineLayer(
        {
          values: views,
          y: countY('views', { title: 'Views', orient: 'left', titleColor: COLOR.primary }),
          color: { datum: 'Views', ...color },
        },
        points.length,
      ),
      lineLayer(
        {
          values: engagement,
          y: countY('value', { title: 'Forwards & reactions', orient: 'right' }),
          color: { field: 'series', type: 'nominal', ...color },
        },
        points.length,
      ),
    ],
    {
      yScales: 'independent',
      x: {
        field: 'age',
        type: 'quantitative',
        scale: { domain: [0, oldest], nice: false },
        axis: { title: 'Hours since publication', tickMinStep: 1, grid: false, labelFlush: false },
      },
    },
  );
}
