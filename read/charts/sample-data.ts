/**
 * Synthetic but realistic channel series for the chart tests and the sample
 * script: a 50k-subscriber channel over January 2024 with a weekly rhythm,
 * one viral day, and the anomalies that day would raise. Seeded, so every
 * run draws the same charts.
 */

import type {
  AnomalyMark,
  BandPoint,
  ChartFrame,
  GrowthPoint,
  HourOfWeekCell,
  MetricPoint,
  PostAgePoint,
  ReachPoint,
  ViewsPoint,
} from './types.ts';
import { DAY_MS, HOUR_MS } from '../../common/index.ts';

/** January 2024, daily: `[Jan 1, Feb 1)`. */
export const SAMPLE_FRAME: ChartFrame = {
  channelId: '-1001234567890',
  channelTitle: 'Tech Digest 📡 Daily',
  from: Date.UTC(2024, 0, 1),
  to: Date.UTC(2024, 1, 1),
  granularity: 'day',
};

/** The viral day: Jan 17 (its views, forwards and subscribers jump). */
export const VIRAL_DAY = Date.UTC(2024, 0, 17);
/** The quiet day: Jan 24 (hardly anything is read). */
export const QUIET_DAY = Date.UTC(2024, 0, 24);

/** Small deterministic PRNG (mulberry32), enough for plausible noise. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function bucketStarts(frame: ChartFrame, bucketMs: number): number[] {
  return Array.from({ length: Math.floor((frame.to - frame.from) / bucketMs) }, (_, i) => frame.from + i * bucketMs);
}

/** Weekends are read less: a factor per UTC weekday. */
function weekly(t: number): number {
  const day = new Date(t).getUTCDay();
  return day === 0 || day === 6 ? 0.75 : 1;
}

function dayFactor(t: number): number {
  if (t === VIRAL_DAY) return 3.2;
  if (t === QUIET_DAY) return 0.25;
  return 1;
}

interface SampleDay {
  t: number;
  views: number;
  posts: number;
  forwards: number;
  reactions: number;
  gained: number;
  lost: number;
}

function sampleDays(frame: ChartFrame): SampleDay[] {
  const next = random(42);
  return bucketStarts(frame, DAY_MS).map((t) => {
    const factor = weekly(t) * dayFactor(t);
    const views = Math.round(118_000 * factor * (0.9 + 0.2 * next()));
    return {
      t,
      views,
      posts: t === QUIET_DAY ? 0 : Math.round((weekly(t) < 1 ? 2 : 4) + 3 * next()),
      forwards: Math.round(views * (0.008 + 0.004 * next()) * (t === VIRAL_DAY ? 2 : 1)),
      reactions: Math.round(views * (0.018 + 0.006 * next())),
      gained: Math.round((320 + 260 * next()) * (t === VIRAL_DAY ? 4 : 1)),
      lost: Math.round(90 + 140 * next()),
    };
  });
}

/** Subscribers per day; the count is unknown for two days (a collector outage). */
export function sampleGrowth(frame: ChartFrame = SAMPLE_FRAME): GrowthPoint[] {
  let subscribers = 50_000;
  return sampleDays(frame).map((d, i) => {
    subscribers += d.gained - d.lost;
    return { t: d.t, subscribers: i === 9 || i === 10 ? null : subscribers, gained: d.gained, lost: d.lost };
  });
}

/** Views, posts and views per post per day. */
export function sampleReach(frame: ChartFrame = SAMPLE_FRAME): ReachPoint[] {
  return sampleDays(frame).map((d) => ({
    t: d.t,
    views: d.views,
    posts: d.posts,
    reachPerPost: d.posts > 0 ? d.views / d.posts : null,
  }));
}

/** Views, forwards and reactions per day. */
export function sampleViews(frame: ChartFrame = SAMPLE_FRAME): ViewsPoint[] {
  return sampleDays(frame).map(({ t, views, forwards, reactions }) => ({ t, views, forwards, reactions }));
}

/** Daily views, their expected band, and the anomalies of the viral and the quiet day. */
export function sampleAnomalies(frame: ChartFrame = SAMPLE_FRAME): {
  series: MetricPoint[];
  band: BandPoint[];
  anomalies: AnomalyMark[];
} {
  const days = sampleDays(frame);
  const series = days.map((d) => ({ t: d.t, value: d.views }));
  const band = days.map((d) => ({ t: d.t, low: 118_000 * weekly(d.t) * 0.78, high: 118_000 * weekly(d.t) * 1.22 }));
  const mark = (t: number, severity: AnomalyMark['severity'], direction: AnomalyMark['direction']): AnomalyMark => {
    const value = series.find((p) => p.t === t)?.value ?? 0;
    const b = band.find((p) => p.t === t) ?? { low: 0, high: 0 };
    return {
      t,
      metric: 'views',
      severity,
      direction,
      value,
      expected: (b.low + b.high) / 2,
      bandLow: b.low,
      bandHigh: b.high,
    };
  };
  return { series, band, anomalies: [mark(VIRAL_DAY, 'critical', 'spike'), mark(QUIET_DAY, 'warning', 'quiet')] };
}

/**
 * The bot's alert: hourly views over two days around one spike, no band
 * (the alert carries the anomaly's own band), drawn 640×320.
 */
export function sampleAlert(): { frame: ChartFrame; series: MetricPoint[]; anomaly: AnomalyMark } {
  const frame: ChartFrame = {
    ...SAMPLE_FRAME,
    from: VIRAL_DAY - DAY_MS,
    to: VIRAL_DAY + DAY_MS,
    granularity: 'hour',
    width: 640,
    height: 320,
  };
  const next = random(7);
  const spikeAt = VIRAL_DAY + 14 * HOUR_MS;
  const series = bucketStarts(frame, HOUR_MS).map((t) => {
    const hour = new Date(t).getUTCHours();
    const diurnal = 0.4 + 0.6 * Math.sin((Math.PI * Math.max(0, hour - 5)) / 19);
    return { t, value: Math.round((t === spikeAt ? 21_000 : 5_200 * diurnal) * (0.9 + 0.2 * next())) };
  });
  const value = series.find((p) => p.t === spikeAt)?.value ?? 0;
  return {
    frame,
    series,
    anomaly: {
      t: spikeAt,
      metric: 'views',
      severity: 'critical',
      direction: 'spike',
      value,
      expected: 5_000,
      bandLow: 3_400,
      bandHigh: 6_600,
    },
  };
}

/**
 * A month of posting by hour of the week: two posts a day on weekdays at
 * 9:00 and 18:00, one on Saturday at 11:00, none on Sunday; evening posts
 * engage more.
 */
export function sampleBestTime(): HourOfWeekCell[] {
  const next = random(11);
  const cells: HourOfWeekCell[] = [];
  for (let dayOfWeek = 1; dayOfWeek <= 6; dayOfWeek++) {
    for (const hour of dayOfWeek === 6 ? [11] : [9, 18]) {
      const posts = dayOfWeek === 6 ? 4 : 4 + Math.floor(next() * 2);
      const avgViews = 8000 + next() * 4000;
      cells.push({ dayOfWeek, hour, posts, avgViews, engagementRate: (hour === 18 ? 0.03 : 0.015) + next() * 0.005 });
    }
  }
  return cells;
}

/** A post's first three days, hourly: views saturate within a day, forwards and reactions follow. */
export function samplePostTimeline(): PostAgePoint[] {
  return Array.from({ length: 72 }, (_, i) => {
    const age = i + 0.5;
    return {
      ageHours: age,
      views: Math.round(12_000 * (1 - Math.exp(-age / 8))),
      forwards: Math.round(90 * (1 - Math.exp(-age / 10))),
      reactions: Math.round(240 * (1 - Math.exp(-age / 6))),
    };
  });
}
