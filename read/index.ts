/**
 * Read models over the serving tables, and CSV: what the API, the bot and the web app answer.
 */
export { type CsvColumn, type CsvRow, toCsv } from './csv.ts';
export { channelAnomalies, type ChannelAnomaly } from './models/anomalies.ts';
export { bestTime, type BestTime, type BestTimeCell } from './models/best-time.ts';
export { type ChannelListing, listChannels } from './models/channels.ts';
export {
  allFreshness,
  answerMeta,
  type AnswerMeta,
  channelFreshness,
  type ChannelFreshness,
  knownChannels,
} from './models/freshness.ts';
export { overview, type Overview, type OverviewFigures } from './models/overview.ts';
export { alignPeriod, bucketMs, GRANULARITIES, type Granularity, type Period } from './models/period.ts';
export {
  POST_METRICS,
  postDetail,
  type PostDetail,
  type PostMetric,
  type PostPerformance,
  topPostsBy,
} from './models/posts.ts';
export { channelReport, type Report } from './models/report.ts';
export { type ActivityPoint, activitySeries, type ReachPoint, reachSeries } from './models/series.ts';
export { sources, type Sources } from './models/sources.ts';
export { trending, type TrendPoint } from './models/trending.ts';
