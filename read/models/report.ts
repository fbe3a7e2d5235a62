/**
 * A report: several sections about one channel and one period, as a share
 * link serves it (and the bot may send it). Sections are the read models of
 * the API with fixed, sensible options.
 */
import type { Warehouse } from '../../clickhouse/index.ts';
import { channelAnomalies, type ChannelAnomaly } from './anomalies.ts';
import { bestTime, type BestTime } from './best-time.ts';
import { overview, type Overview } from './overview.ts';
import type { ReportSection } from '../../common/index.ts';
import type { Granularity, Period } from './period.ts';
import { alignPeriod } from './period.ts';
import { topPostsBy, type PostPerformance } from './posts.ts';
import { activitySeries, reachSeries, type ActivityPoint, type ReachPoint } from './series.ts';

export interface Report {
  granularity: Granularity;
  overview?: Overview;
  growth?: ActivityPoint[];
  reach?: ReachPoint[];
  top_posts?: PostPerformance[];
  anomalies?: ChannelAnomaly[];
  best_time?: BestTime;
}

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
