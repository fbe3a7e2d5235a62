/**
 * The SQL of the "Channel analytics" dashboard, with the figures defined as
 * the read models define them (read/models/): views gained come from the
 * hourly windows, post figures from the posts published in the range with
 * their latest counters, deleted ones left out; reach per post is their
 * average views, ERR that reach over subscribers, ER (engagement rate) their
 * forwards + reactions + replies over their views.
 *
 * Serving tables are read as README says: ReplacingMergeTree with FINAL,
 * AggregatingMergeTree with -Merge combinators (or max/min) and GROUP BY.
 * `${channel}` and `${tz}` are dashboard variables (the plugin inserts them
 * unquoted, hence the quotes); `$__timeFilter`, `$__toTime` and
 * `$__interval_s` are the plugin's macros (see macros.ts for where an
 * argument-less macro may stand).
 */
import type { ChSql } from './clickhouse.ts';

const CHANNEL = `channel_id = '\${channel}'`;

/** The channel's hourly windows in the range (one row per window, latest revision). */
const HOURLY = `FROM channel_hourly FINAL WHERE ${CHANNEL} AND $__timeFilter(window_start)`;

/**
 * Posts published in the range, one row each with its latest counters: the
 * aggregate states of post_summary merged per post (as read/models/posts-sql.ts).
 */
const PUBLISHED_POSTS = `
  SELECT post_id, date, media_type, text_length, views, forwards, replies, reactions
  FROM (
    SELECT ps.post_id AS post_id, assumeNotNull(max(ps.date)) AS date,
           argMaxMerge(ps.media_type) AS media_type, argMaxMerge(ps.text_length) AS text_length,
           argMaxMerge(ps.views) AS views, argMaxMerge(ps.forwards) AS forwards,
           argMaxMerge(ps.replies) AS replies, argMaxMerge(ps.reactions_total) AS reactions
    FROM post_summary AS ps
    WHERE ps.${CHANNEL}
    GROUP BY ps.post_id
    HAVING max(ps.date) IS NOT NULL AND max(ps.deleted_at) IS NULL
  )
  WHERE $__timeFilter(date)`;

/** Interactions per view of a set of posts; NULL without views. */
const ENGAGEMENT = 'if(sum(views) > 0, sum(forwards + reactions + replies) / sum(views), NULL)';

/** Subscribers at the last snapshot of a group of windows. */
const LAST_MEMBERS = 'argMaxIf(members_last, window_start, members_last IS NOT NULL)';

/** Time buckets of the panel's interval (at least the hour of the windows, see the panels' min interval). */
const BUCKET = 'toStartOfInterval(window_start, INTERVAL $__interval_s second)';

export const CHANNELS: ChSql = {
  sql: 'SELECT DISTINCT channel_id FROM channel_sources ORDER BY channel_id',
  columns: ['channel_id'],
};

/** The headline figures of the range, as the API's overview. */
export const OVERVIEW: ChSql = {
  sql: `
SELECT w.subscribers AS subscribers, w.net_change AS net_change, w.views AS views,
       p.posts AS posts, p.reach_per_post AS reach_per_post,
       p.reach_per_post / w.subscribers AS err, p.engagement_rate AS engagement_rate
FROM (
  SELECT ${LAST_MEMBERS} AS subscribers,
         toInt64(sum(subscribers_gained)) - toInt64(sum(subscribers_lost)) AS net_change,
         sum(views) AS views
  ${HOURLY}
) AS w
CROSS JOIN (
  SELECT count() AS posts, if(posts > 0, sum(views) / posts, NULL) AS reach_per_post, ${ENGAGEMENT} AS engagement_rate
  FROM (${PUBLISHED_POSTS})
) AS p`,
  columns: ['subscribers', 'net_change', 'views', 'posts', 'reach_per_post', 'err', 'engagement_rate'],
};

export const SUBSCRIBERS: ChSql = {
  sql: `
SELECT ${BUCKET} AS time, ${LAST_MEMBERS} AS subscribers
${HOURLY}
GROUP BY time ORDER BY time`,
  columns: ['time', 'subscribers'],
};

/** Joins and leaves between snapshots, counted by the windows (leaves negative, to plot below zero). */
export const SUBSCRIBER_CHANGE: ChSql = {
  sql: `
SELECT ${BUCKET} AS time,
       toInt64(sum(subscribers_gained)) AS gained, -toInt64(sum(subscribers_lost)) AS lost, gained + lost AS net_change
${HOURLY}
GROUP BY time ORDER BY time`,
  columns: ['time', 'gained', 'lost', 'net_change'],
};

/** Views gained per `bucket` by all posts, old ones included. */
function viewsBy(bucket: (column: string) => string): ChSql {
  return {
    sql: `
SELECT ${bucket('window_start')} AS time, sum(views) AS views
${HOURLY}
GROUP BY time ORDER BY time`,
    columns: ['time', 'views'],
  };
}

/** Average views of the posts published in each `bucket` (their reach so far). */
function reachBy(bucket: (column: string) => string): ChSql {
  return {
    sql: `
SELECT ${bucket('date')} AS time, sum(views) / count() AS reach_per_post
FROM (${PUBLISHED_POSTS})
GROUP BY time ORDER BY time`,
    columns: ['time', 'reach_per_post'],
  };
}

const hour = (column: string): string => `toStartOfHour(${column})`;
/** UTC days, as the API's `granularity=day`. */
const day = (column: string): string => `toDateTime64(toStartOfDay(${column}), 3, 'UTC')`;

export const VIEWS_HOURLY = viewsBy(hour);
export const REACH_HOURLY = reachBy(hour);
export const VIEWS_DAILY = viewsBy(day);
export const REACH_DAILY = reachBy(day);

/** ERR and ER of the posts published each day, against the subscribers at that day's last snapshot. */
export const ENGAGEMENT_DAILY: ChSql = {
  sql: `
SELECT p.time AS time, p.reach_per_post / s.subscribers AS err, p.engagement_rate AS engagement_rate
FROM (
  SELECT ${day('date')} AS time, sum(views) / count() AS reach_per_post, ${ENGAGEMENT} AS engagement_rate
  FROM (${PUBLISHED_POSTS})
  GROUP BY time
) AS p
LEFT JOIN (
  SELECT ${day('window_start')} AS time, ${LAST_MEMBERS} AS subscribers
  ${HOURLY}
  GROUP BY time
) AS s ON s.time = p.time
ORDER BY time
SETTINGS join_use_nulls = 1`,
  columns: ['time', 'err', 'engagement_rate'],
};

export const TOP_POSTS: ChSql = {
  sql: `
SELECT post_id, date, media_type, views, forwards, reactions, replies,
       if(views > 0, (forwards + reactions + replies) / views, NULL) AS engagement_rate
FROM (${PUBLISHED_POSTS})
ORDER BY views DESC, post_id DESC
LIMIT 25`,
  columns: ['post_id', 'date', 'media_type', 'views', 'forwards', 'reactions', 'replies', 'engagement_rate'],
};

/** Weekday columns of the best-time heatmap, ISO order (toDayOfWeek mode 0: Monday = 1). */
export const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;

/**
 * Average views of the posts published in each hour of the week (in the
 * `tz` variable's zone): one row per hour of the day, one column per weekday,
 * the layout Grafana's heatmap reads as rows × buckets. Posts younger than
 * 48 hours are left out, as read/models/best-time.ts does: their views are
 * still arriving.
 */
export const BEST_TIME: ChSql = {
  sql: `
SELECT toHour(toTimeZone(date, '\${tz}')) AS hour,
       ${WEEKDAYS.map((d, i) => `avgIfOrNull(views, dow = ${i + 1}) AS ${d}`).join(', ')}
FROM (
  SELECT date, views, toDayOfWeek(date, 0, '\${tz}') AS dow
  FROM (${PUBLISHED_POSTS})
  WHERE date <= (least(now(), $__toTime) - INTERVAL 48 HOUR)
)
GROUP BY hour ORDER BY hour`,
  columns: ['hour', ...WEEKDAYS],
};

/** A window label (`1h`, `6h`, `1d`) in seconds, for the length of an anomaly's region. */
const WINDOW_SECONDS = `toUInt32OrZero(substring(window, 1, length(window) - 1))
         * multiIf(endsWith(window, 'd'), 86400, endsWith(window, 'h'), 3600, endsWith(window, 'm'), 60, 0)`;

/** The latest state of each anomaly whose window starts in the range. */
const ANOMALIES_IN_RANGE = `FROM anomalies FINAL WHERE ${CHANNEL} AND $__timeFilter(window_start)`;

export const ANOMALY_ANNOTATIONS: ChSql = {
  sql: `
SELECT window_start AS time, window_start + toIntervalSecond(${WINDOW_SECONDS}) AS timeEnd,
       concat(severity, ' ', direction, ': ', metric) AS title,
       concat(metric, ' (', window, ') ', toString(round(value, 1)), ', expected ', toString(round(expected, 1)),
              ', z ', toString(round(z, 1)), ', ', if(reason = '', '', concat(reason, ', ')), state) AS text,
       concat(severity, ',', metric) AS tags
${ANOMALIES_IN_RANGE}
ORDER BY time`,
  columns: ['time', 'timeEnd', 'title', 'text', 'tags'],
};

export const ANOMALIES: ChSql = {
  sql: `
SELECT window_start, metric, window, post_id, direction, severity, state,
       if(reason = '', if(direction = 'quiet', 'silence', 'outlier'), reason) AS reason,
       value, expected, band_low, band_high, z, opened_at, resolved_at
${ANOMALIES_IN_RANGE}
ORDER BY window_start DESC, anomaly_id
LIMIT 500`,
  columns: [
    'window_start',
    'metric',
    'window',
    'post_id',
    'direction',
    'severity',
    'state',
    'reason',
    'value',
    'expected',
    'band_low',
    'band_high',
    'z',
    'opened_at',
    'resolved_at',
  ],
  nullable: ['post_id', 'resolved_at'],
};

/** The latest point of each channel-level metric (post_id 0), with its anomaly score, as the API's trending. */
export const TRENDS: ChSql = {
  sql: `
SELECT metric, window, window_start, value, mean, sd, z, score, n, warm, updated_at
FROM trends_latest FINAL
WHERE ${CHANNEL} AND post_id = 0
ORDER BY metric, window`,
  columns: ['metric', 'window', 'window_start', 'value', 'mean', 'sd', 'z', 'score', 'n', 'warm', 'updated_at'],
};

/** Posts of the channel published in the range, from their metadata (forward origin, mentions, links). */
const META_IN_RANGE = `FROM post_meta FINAL WHERE ${CHANNEL} AND $__timeFilter(date)`;

export const FORWARDED_FROM: ChSql = {
  sql: `
SELECT assumeNotNull(forward_from_channel_id) AS source_channel, count() AS posts
${META_IN_RANGE} AND forward_from_channel_id IS NOT NULL
GROUP BY source_channel ORDER BY posts DESC, source_channel LIMIT 50`,
  columns: ['source_channel', 'posts'],
};

/** Tracked channels that forwarded this channel's posts in the range. */
export const FORWARDED_BY: ChSql = {
  sql: `
SELECT channel_id AS forwarding_channel, count() AS posts
FROM post_meta FINAL
WHERE forward_from_channel_id = '\${channel}' AND $__timeFilter(date)
GROUP BY forwarding_channel ORDER BY posts DESC, forwarding_channel LIMIT 50`,
  columns: ['forwarding_channel', 'posts'],
};

export const MENTIONS: ChSql = {
  sql: `
SELECT lower(arrayJoin(arrayDistinct(mentions))) AS mention, count() AS posts
${META_IN_RANGE}
GROUP BY mention ORDER BY posts DESC, mention LIMIT 50`,
  columns: ['mention', 'posts'],
};

export const LINK_DOMAINS: ChSql = {
  sql: `
SELECT site, count() AS posts
FROM (SELECT arrayJoin(arrayDistinct(arrayMap(l -> lower(domain(l)), links))) AS site ${META_IN_RANGE})
WHERE site != ''
GROUP BY site ORDER BY posts DESC, site LIMIT 50`,
  columns: ['site', 'posts'],
};

/** Telegram's own statistics by source (stats.getBroadcastStats), where the collecting account may read them. */
export const OFFICIAL_BY_SOURCE: ChSql = {
  sql: `
SELECT t AS time, concat(metric, ': ', series) AS source, value
FROM channel_stats_latest FINAL
WHERE ${CHANNEL} AND positionCaseInsensitive(metric, 'source') > 0 AND $__timeFilter(t)
ORDER BY time, source`,
  columns: ['time', 'source', 'value'],
};

/**
 * Provenance and freshness: which sources delivered which kinds of data,
 * when they last observed something, and up to when the hourly windows are
 * final. Not bound to the range: it tells a quiet channel from a stalled
 * collector now.
 */
export const PROVENANCE: ChSql = {
  sql: `
SELECT cs.source AS source, cs.kind AS kind,
       min(cs.first_observed_at) AS first_observed_at, max(cs.last_observed_at) AS last_observed_at,
       max(cs.last_event_time) AS last_event_time,
       dateDiff('second', max(cs.last_observed_at), now64(3)) AS seconds_since_last_observed,
       (SELECT max(final_until) FROM channel_final_until WHERE ${CHANNEL}) AS windows_final_until
FROM channel_sources AS cs
WHERE cs.${CHANNEL}
GROUP BY cs.source, cs.kind ORDER BY source, kind`,
  columns: [
    'source',
    'kind',
    'first_observed_at',
    'last_observed_at',
    'last_event_time',
    'seconds_since_last_observed',
    'windows_final_until',
  ],
};
