/**
 * Inputs of the server-side charts: what the read side hands over, already
 * bucketed. Kept free of Vega types so the API and the bot can build them
 * without knowing how charts are drawn. All times are epoch milliseconds, UTC.
 */

import type { Granularity } from '../index.ts';
/** Width of one bucket of a series (the read models' grain); also picks the date format of the time axis. */
export type { Granularity };

/**
 * What a chart is about and how big it is drawn.
 *
 * The period is half-open, `[from, to)`, like the pipeline's windows: a daily
 * chart of January has `to` = Feb 1 00:00 UTC, and its subtitle says "Jan 31".
 *
 * @example
 * const frame: ChartFrame = { channelId: '-1001', channelTitle: 'Tech news', from: Date.UTC(2024, 0, 1), to: Date.UTC(2024, 1, 1), granularity: 'day' };
 */
export interface ChartFrame {
  channelId: string;
  /** Shown in the subtitle; the id is shown when it is missing. */
  channelTitle?: string | null;
  from: number;
  to: number;
  granularity: Granularity;
  /** Pixels of the whole image; 800 by default (the API's size). */
  width?: number;
  /** Pixels of the whole image; 400 by default. */
  height?: number;
}

/** One bucket of audience growth. */
export interface GrowthPoint {
  /** Bucket start. */
  t: number;
  /** Subscribers at the end of the bucket; null when unknown (the line breaks there). */
  subscribers: number | null;
  /** Subscribers who joined during the bucket. */
  gained: number;
  /** Subscribers who left during the bucket (a positive count). */
  lost: number;
}

/** One bucket of reach. */
export interface ReachPoint {
  /** Bucket start. */
  t: number;
  /** Views gained during the bucket. */
  views: number;
  /** Posts published during the bucket. */
  posts: number;
  /** Views per post; null when there is nothing to divide by. */
  reachPerPost: number | null;
}

/** One bucket of engagement counters, each gained during the bucket. */
export interface ViewsPoint {
  /** Bucket start. */
  t: number;
  views: number;
  forwards: number;
  reactions: number;
}

/** One bucket of the metric an anomaly chart is about. */
export interface MetricPoint {
  /** Bucket start. */
  t: number;
  value: number;
}

/** How urgent an anomaly is; each has a fixed colour on every chart. */
export type AnomalySeverity = 'info' | 'warning' | 'critical';

/** Which way an anomaly left its expected band; drawn as the point's shape. */
export type AnomalyDirection = 'spike' | 'drop' | 'quiet';

/** An anomaly to mark on its metric's series. */
export interface AnomalyMark {
  /** Start of the bucket the anomaly was scored on. */
  t: number;
  metric: string;
  severity: AnomalySeverity;
  direction: AnomalyDirection;
  value: number;
  expected: number;
  bandLow: number;
  bandHigh: number;
}

/** The expected range of one bucket, drawn as a band behind the series. */
export interface BandPoint {
  /** Bucket start. */
  t: number;
  low: number;
  high: number;
}

/** One forecast day: the point forecast and its 80 % and 95 % prediction intervals. */
export interface ForecastBand {
  /** Day start. */
  t: number;
  expected: number;
  low80: number;
  high80: number;
  low95: number;
  high95: number;
}

/** How the posts published in one hour of the week did (an hour of the reader's time zone). */
export interface HourOfWeekCell {
  /** ISO day of week, 1 = Monday … 7 = Sunday. */
  dayOfWeek: number;
  /** Hour of the day, 0–23. */
  hour: number;
  /** Posts published in this hour of the week over the period. */
  posts: number;
  /** Their mean views. */
  avgViews: number;
  /** (forwards + reactions + replies) / views of those posts; null when they have no views. */
  engagementRate: number | null;
}

/** One observation of a post's counters, by its age. */
export interface PostAgePoint {
  /** Hours since the post was published. */
  ageHours: number;
  views: number;
  forwards: number;
  reactions: number;
}
