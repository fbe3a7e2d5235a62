/**
 * A report: several sections about one channel and one period, as a share
 * link serves it (and the bot may send it). Sections are the read models of
 * the API with fixed, sensible options.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { Warehouse } from '../../clickhouse/index.ts';
import { ChannelAnomaly, channelAnomalies } from './anomalies.ts';
import { BestTime, bestTime } from './best-time.ts';
import { Overview, overview } from './overview.ts';
import type { ReportSection } from '../../common/index.ts';
import { Granularity, type Period, alignPeriod } from './period.ts';
import { PostPerformance, topPostsBy } from './posts.ts';
import { ActivityPoint, activitySeries, ReachPoint, reachSeries } from './series.ts';

/** The sections asked for, each the answer of its read model. */
export const Report = Type.Object({
  granularity: Granularity,
  overview: Type.Optional(Overview),
  growth: Type.Optional(Type.Array(ActivityPoint)),
  reach: Type.Optional(Type.Array(ReachPoint)),
  top_posts: Type.Optional(Type.Array(PostPerformance)),
  anomalies: Type.Optional(Type.Array(ChannelAnomaly)),
  best_time: Type.Optional(BestTime),
});
export type Report = Static<typeof Report>;

/** Hours for periods up to three days, days beyond. */
export function reportGranularity(p: Period): Granularity {
  return p.to - p.from <= 3 * 86_400_000 ? 'hour' : 'day';
}

export async function channelReport(
  wh: Warehouse,
  q: { channel_id: string; period: Period; sections: readonly ReportSection[]; now: number },
): Promise<Report> {
  const granularity = reportGranularity(q.period);
  const series = { channel_id: q.channel_id, period: alignPeriod(q.period, granularity), granularity };
  const base = { channel_id: q.channel_id, period: q.period };
  const want = new Set(q.sections);
  const [ov, growth, reach, top, anomalies, best] = await Promise.all([
    want.has('overview') ? overview(wh, base) : undefined,
    want.has('growth') ? activitySeries(wh, series) : undefined,
    want.has('reach') ? reachSeries(wh, series) : undefined,
    want.has('top_posts') ? topPostsBy(wh, { ...base, metric: 'views', limit: 10 }) : undefined,
    want.has('anomalies') ? channelAnomalies(wh, { ...base, minSeverity: 'warning', limit: 100 }) : undefined,
    want.has('best_time') ? bestTime(wh, { ...base, timeZone: 'UTC', now: q.now }) : undefined,
  ]);
  return {
    granularity,
    ...(ov ? { overview: ov } : {}),
    ...(growth ? { growth } : {}),
    ...(reach ? { reach } : {}),
    ...(top ? { top_posts: top } : {}),
    ...(anomalies ? { anomalies } : {}),
    ...(best ? { best_time: best } : {}),
  };
}
