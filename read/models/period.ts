/**
 * Periods and buckets of the read side: a half-open `[from, to)` range of
 * epoch ms, and the grain its series are bucketed by. Buckets are UTC and
 * weeks start on Monday (ISO), as in ClickHouse's `toMonday`.
 */
import { Type, type Static } from '@sinclair/typebox';
import { DAY_MS, HOUR_MS } from '../../common/index.ts';
import { Time } from './shape.ts';

export const Granularity = Type.Union([Type.Literal('hour'), Type.Literal('day'), Type.Literal('week')]);
export type Granularity = Static<typeof Granularity>;
export const GRANULARITIES: readonly Granularity[] = ['hour', 'day', 'week'];

/** `[from, to)` in epoch ms. */
export const Period = Type.Object({ from: Time, to: Time });
export type Period = Static<typeof Period>;

/** 1970-01-01 was a Thursday; Monday 1970-01-05 anchors ISO weeks. */
const MONDAY_EPOCH = 4 * DAY_MS;

/** Length of one bucket in ms. */
export function bucketMs(g: Granularity): number {
  return g === 'hour' ? HOUR_MS : g === 'day' ? DAY_MS : 7 * DAY_MS;
}

/** Start of the bucket holding `t`. */
export function bucketStart(t: number, g: Granularity): number {
  const size = bucketMs(g);
  const anchor = g === 'week' ? MONDAY_EPOCH : 0;
  return Math.floor((t - anchor) / size) * size + anchor;
}

/** Widen a period to whole buckets, so the first and last bucket are complete. */
export function alignPeriod(p: Period, g: Granularity): Period {
  const to = bucketStart(p.to - 1, g) + bucketMs(g);
  return { from: bucketStart(p.from, g), to };
}

/** The period of equal length just before `p` (for "compared with the previous period"). */
export function previousPeriod(p: Period): Period {
  return { from: p.from - (p.to - p.from), to: p.from };
}

/**
 * SQL that maps a DateTime64 expression to its bucket start. Fixed fragments
 * chosen by an enum, never built from input.
 */
export function bucketSql(expr: string, g: Granularity): string {
  switch (g) {
    case 'hour':
      return `toStartOfHour(${expr})`;
    case 'day':
      return `toDateTime64(toStartOfDay(${expr}), 3, 'UTC')`;
    case 'week':
      return `toDateTime64(toMonday(${expr}), 3, 'UTC')`;
  }
}
