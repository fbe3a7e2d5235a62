/**
 * Read models over the serving tables, and CSV: what the API, the bot and the web app answer.
 * Each answer shape is a TypeBox schema with its type of the same name (e.g. `Overview`):
 * the API serializes and documents answers with these schemas.
 */
export { type CsvColumn, type CsvRow, toCsv } from './csv.ts';
export { channelAnomalies, ChannelAnomaly } from './models/anomalies.ts';
export { ChannelCitations, channelCitations, type ChannelHandle } from './models/citations.ts';
export { bestTime, BestTime, BestTimeCell } from './models/best-time.ts';
export { botActiveUsers, BotActiveUsersPoint, botRetention, BotRetentionCohort } from './models/bot-audience.ts';
export {
  botEventCounts,
  BotEventPoint,
  BotTopEvent,
  BotUserEvent,
  botUserTimeline,
  topBotEvents,
} from './models/bot-events.ts';
export { ChannelListing, listChannels } from './models/channels.ts';
export {
  channelForecast,
  ChannelForecast,
  FORECAST_METRICS,
  type ForecastMetric,
  MAX_HORIZON_DAYS,
} from './models/forecast.ts';
export {
  allFreshness,
  answerMeta,
  AnswerMeta,
  channelFreshness,
  type ChannelFreshness,
  knownChannels,
} from './models/freshness.ts';
export { overview, Overview } from './models/overview.ts';
export { alignPeriod, bucketMs, GRANULARITIES, Granularity, type Period } from './models/period.ts';
export {
  POST_METRICS,
  postDetail,
  PostDetail,
  type PostMetric,
  PostPerformance,
  topPostsBy,
} from './models/posts.ts';
export { RankedChannel, rankChannels, RANKINGS, type RankingBy } from './models/rankings.ts';
export { channelReport, Report, reportGranularity } from './models/report.ts';
export { ActivityPoint, activitySeries, ReachPoint, reachSeries } from './models/series.ts';
export { sources, Sources } from './models/sources.ts';
export { trending, Trending } from './models/trending.ts';
