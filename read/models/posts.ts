/**
 * Post performance: a channel's best posts of a period by a metric, and one
 * post's counters over its age.
 */
import { RowReader } from '../../clickhouse/row-reader.ts';
import type { Warehouse } from '../../clickhouse/warehouse.ts';
import { periodParams } from './freshness.ts';
import type { Period } from './period.ts';
import { engagementRate, latestCountersSql, PUBLISHED_POSTS_SQL } from './posts-sql.ts';

export type PostMetric = 'views' | 'forwards' | 'reactions' | 'engagement';
export const POST_METRICS: readonly PostMetric[] = ['views', 'forwards', 'reactions', 'engagement'];

/** Ranking expressions: fixed SQL chosen by the enum, never built from input. */
const ORDER_BY: Record<PostMetric, string> = {
  views: 'views',
  forwards: 'forwards',
  reactions: 'reactions',
  engagement: 'if(views > 0, (forwards + reactions + replies) / views, 0)',
};

export interface PostPerformance {
  post_id: number;
  date: number;
  media_type: string;
  text_length: number;
  views: number;
  forwards: number;
  reactions: number;
  replies: number;
  engagement_rate: number | null;
  /** When these counters were observed. */
  as_of: number;
}

function readPost(row: Record<string, unknown>): PostPerformance {
  const r = new RowReader(row, 'post_latest');
  const counters = { views: r.int('views'), forwards: r.int('forwards'), reactions: r.int('reactions'), replies: r.int('replies') };
  return {
    post_id: r.int('post_id'),
    date: r.time('date'),
    media_type: r.str('media_type'),
    text_length: r.int('text_length'),
    ...counters,
    engagement_rate: engagementRate(counters),
    as_of: r.time('as_of'),
  };
}

/** Posts published in the period, best first by `metric` (ties: newer post first). */
export async function topPostsBy(
  wh: Warehouse,
  q: { channel_id: string; period: Period; metric: PostMetric; limit: number },
): Promise<PostPerformance[]> {
  const rows = await wh.query(
    `SELECT * FROM (${PUBLISHED_POSTS_SQL})
     ORDER BY ${ORDER_BY[q.metric]} DESC, post_id DESC
     LIMIT {limit:UInt32}`,
    { channel_id: q.channel_id, ...periodParams(q.period), limit: q.limit },
  );
  return rows.map(readPost);
}

/** One hourly observation of a post. */
export interface PostTimelinePoint {
  /** Observation time of the snapshot (the last one of its hour). */
  t: number;
  /** Hours since publication at `t`. */
  age_hours: number;
  views: number;
  forwards: number;
  reactions: number;
  replies: number;
}

export interface PostDetail {
  post: PostPerformance & { deleted_at: number | null; forward_from_channel_id: string | null; mentions: string[]; hashtags: string[]; links: string[] };
  timeline: PostTimelinePoint[];
}

/** A post with its counters over its age, or null when the post is unknown. */
export async function postDetail(wh: Warehouse, q: { channel_id: string; post_id: number }): Promise<PostDetail | null> {
  const params = { channel_id: q.channel_id, post_id: q.post_id };
  const [postRows, timelineRows] = await Promise.all([
    wh.query(
      `SELECT m.post_id AS post_id, m.date AS date, m.media_type AS media_type, m.text_length AS text_length,
              m.forward_from_channel_id AS forward_from_channel_id, m.mentions AS mentions,
              m.hashtags AS hashtags, m.links AS links,
              l.views AS views, l.forwards AS forwards, l.replies AS replies, l.reactions AS reactions,
              l.as_of AS as_of, l.deleted_at AS deleted_at
       FROM (SELECT * FROM post_meta FINAL WHERE channel_id = {channel_id:String} AND post_id = {post_id:UInt32}) AS m
       INNER JOIN (${latestCountersSql('pl.post_id = {post_id:UInt32}')}) AS l ON l.post_id = m.post_id`,
      params,
    ),
    wh.query(
      `SELECT as_of, views, forwards, replies, reactions_total FROM post_timeline FINAL
       WHERE channel_id = {channel_id:String} AND post_id = {post_id:UInt32}
       ORDER BY hour`,
      params,
    ),
  ]);
  if (postRows.length === 0) return null;
  const r = new RowReader(postRows[0], 'post_meta');
  const post = {
    ...readPost(postRows[0]),
    deleted_at: r.timeOrNull('deleted_at'),
    forward_from_channel_id: r.strOrNull('forward_from_channel_id'),
    mentions: r.strArray('mentions'),
    hashtags: r.strArray('hashtags'),
    links: r.strArray('links'),
  };
  const timeline = timelineRows.map((row) => {
    const t = new RowReader(row, 'post_timeline');
    const at = t.time('as_of');
    return {
      t: at,
      age_hours: Math.max(0, (at - post.date) / 3_600_000),
      views: t.int('views'),
      forwards: t.int('forwards'),
      reactions: t.int('reactions_total'),
      replies: t.int('replies'),
    };
  });
  return { post, timeline };
}
