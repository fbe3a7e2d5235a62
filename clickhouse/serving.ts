/**
 * Typed reads over the serving tables — the only tables the API and the bot
 * read. Every value is bound as a `{name:Type}` parameter; table names come
 * from fixed lists, never from input.
 *
 * Replacing tables are read with FINAL and Aggregating tables with
 * `-Merge`/`max` and GROUP BY, so the answer is the same before and after
 * background merges, and duplicates never count twice.
 */
import type { Anomaly, Trend, WindowAgg } from '../streams/contract/index.ts';
import { readAnomaly, readWindowAgg, RowReader } from './row-reader.ts';
import { toChTime } from './values.ts';
import type { Warehouse } from './warehouse.ts';

/** Time grain of a channel series, and the serving table that holds it. */
export type SeriesGrain = 'hour' | 'day';

const SERIES_TABLES: Record<SeriesGrain, { table: string; window: string }> = {
  hour: { table: 'channel_hourly', window: '1h' },
  day: { table: 'channel_daily', window: '1d' },
};

/** One point of a channel's hourly or daily series: the window figures of the contract. */
export type ChannelSeriesPoint = WindowAgg & { channel_id: string; updated_at: number };

/**
 * A channel's hourly or daily figures with `from <= window_start < to`, oldest first.
 *
 * ```ts
 * const day = await channelSeries(wh, { channel_id: '1001', grain: 'hour', from, to: from + 86_400_000 });
 * ```
 */
export async function channelSeries(
  wh: Warehouse,
  q: { channel_id: string; grain: SeriesGrain; from: number; to: number },
): Promise<ChannelSeriesPoint[]> {
  const { table, window } = SERIES_TABLES[q.grain];
  const rows = await wh.query(
    `SELECT * FROM ${table} FINAL
     WHERE channel_id = {channel_id:String}
       AND window_start >= {from:DateTime64(3, 'UTC')} AND window_start < {to:DateTime64(3, 'UTC')}
     ORDER BY window_start`,
    { channel_id: q.channel_id, from: toChTime(q.from), to: toChTime(q.to) },
  );
  return rows.map((row) => {
    const r = new RowReader(row, table);
    return { channel_id: r.str('channel_id'), ...readWindowAgg(r, window), updated_at: r.time('updated_at') };
  });
}

/** The latest state of one anomaly. */
export type AnomalySummary = Anomaly & { channel_id: string; updated_at: number; resolved_at: number | null };

/**
 * Anomalies, most recently updated first.
 *
 * @param q.channel_id only this channel (all channels when absent)
 * @param q.open_only  leave out resolved anomalies
 * @param q.since      only those updated at or after this time (epoch ms)
 */
export async function listAnomalies(
  wh: Warehouse,
  q: { channel_id?: string; open_only?: boolean; since?: number; limit?: number } = {},
): Promise<AnomalySummary[]> {
  // Conditions are fixed SQL fragments; only their values are parameters.
  const where: string[] = [];
  const params: Record<string, unknown> = { limit: q.limit ?? 100 };
  if (q.channel_id !== undefined) {
    where.push('channel_id = {channel_id:String}');
    params.channel_id = q.channel_id;
  }
  if (q.open_only) where.push("state != 'resolved'");
  if (q.since !== undefined) {
    where.push("updated_at >= {since:DateTime64(3, 'UTC')}");
    params.since = toChTime(q.since);
  }
  const rows = await wh.query(
    `SELECT * FROM anomalies FINAL
     ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY updated_at DESC, anomaly_id
     LIMIT {limit:UInt32}`,
    params,
  );
  return rows.map((row) => {
    const r = new RowReader(row, 'anomalies');
    return {
      channel_id: r.str('channel_id'),
      ...readAnomaly(r, 'anomalies'),
      updated_at: r.time('updated_at'),
      resolved_at: r.timeOrNull('resolved_at'),
    };
  });
}

/** A post's latest counters and metadata. Metadata is null until the post itself was seen. */
export interface PostSummary {
  channel_id: string;
  post_id: number;
  views: number;
  forwards: number;
  replies: number;
  reactions_total: number;
  reactions: Record<string, number>;
  /** Observation time of these counters. */
  as_of: number;
  deleted_at: number | null;
  date: number | null;
  media_type: string | null;
  text_length: number | null;
}

/**
 * A channel's posts with the most views (latest counters), deleted posts left out.
 */
export async function topPosts(wh: Warehouse, q: { channel_id: string; limit?: number }): Promise<PostSummary[]> {
  const rows = await wh.query(
    `SELECT * FROM (
       SELECT ps.channel_id AS channel_id, ps.post_id AS post_id,
              argMaxMerge(ps.views) AS views, argMaxMerge(ps.forwards) AS forwards,
              argMaxMerge(ps.replies) AS replies, argMaxMerge(ps.reactions_total) AS reactions_total,
              argMaxMerge(ps.reactions) AS reactions, max(ps.as_of) AS as_of, max(ps.deleted_at) AS deleted_at,
              max(ps.date) AS date,
              -- a post seen only through counter snapshots has no metadata yet
              if(date IS NULL, NULL, argMaxMerge(ps.media_type)) AS media_type,
              if(date IS NULL, NULL, argMaxMerge(ps.text_length)) AS text_length
       FROM post_summary AS ps
       WHERE ps.channel_id = {channel_id:String}
       GROUP BY ps.channel_id, ps.post_id
     )
     WHERE deleted_at IS NULL
     ORDER BY views DESC, post_id DESC
     LIMIT {limit:UInt32}`,
    { channel_id: q.channel_id, limit: q.limit ?? 10 },
  );
  return rows.map((row) => {
    const r = new RowReader(row, 'post_summary');
    return {
      channel_id: r.str('channel_id'),
      post_id: r.int('post_id'),
      views: r.int('views'),
      forwards: r.int('forwards'),
      replies: r.int('replies'),
      reactions_total: r.int('reactions_total'),
      reactions: r.intMap('reactions'),
      as_of: r.time('as_of'),
      deleted_at: r.timeOrNull('deleted_at'),
      date: r.timeOrNull('date'),
      media_type: r.strOrNull('media_type'),
      text_length: r.intOrNull('text_length'),
    };
  });
}

/** Latest subscriber count of a channel. */
export interface ChannelMembers {
  channel_id: string;
  members: number;
  as_of: number;
}

/** Latest subscriber counts of the given channels (channels never observed are absent). */
export async function channelMembers(wh: Warehouse, channelIds: readonly string[]): Promise<ChannelMembers[]> {
  if (channelIds.length === 0) return [];
  const rows = await wh.query(
    `SELECT m.channel_id AS channel_id, argMaxMerge(m.members) AS members, max(m.as_of) AS as_of
     FROM channel_members_latest AS m
     WHERE has({channel_ids:Array(String)}, m.channel_id)
     GROUP BY m.channel_id
     ORDER BY channel_id`,
    { channel_ids: [...channelIds] },
  );
  return rows.map((row) => {
    const r = new RowReader(row, 'channel_members_latest');
    return { channel_id: r.str('channel_id'), members: r.int('members'), as_of: r.time('as_of') };
  });
}

/** The latest trend point of a series. */
export type TrendLatest = Trend & { channel_id: string; updated_at: number };

/** Latest trend point of every (metric, window, post) series of a channel. */
export async function latestTrends(wh: Warehouse, q: { channel_id: string }): Promise<TrendLatest[]> {
  const rows = await wh.query(
    `SELECT * FROM trends_latest FINAL
     WHERE channel_id = {channel_id:String}
     ORDER BY metric, window, post_id`,
    { channel_id: q.channel_id },
  );
  return rows.map((row) => {
    const r = new RowReader(row, 'trends_latest');
    const postId = r.int('post_id');
    return {
      channel_id: r.str('channel_id'),
      metric: r.str('metric'),
      window: r.str('window'),
      window_start: r.time('window_start'),
      post_id: postId === 0 ? null : postId,
      value: r.float('value'),
      mean: r.float('mean'),
      sd: r.float('sd'),
      z: r.float('z'),
      n: r.int('n'),
      warm: r.bool('warm'),
      updated_at: r.time('updated_at'),
    };
  });
}

/** Narrow a stored string to one of the contract's literals, or fail naming the column. */
