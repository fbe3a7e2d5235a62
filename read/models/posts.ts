/**
 * Post performance: a channel's best posts of a period by a metric, and one
 * post's counters over its age.
 */
import { Type, type Static } from '@sinclair/typebox';
import { RowReader, type Warehouse } from '../../clickhouse/index.ts';
import { periodParams } from './freshness.ts';
import type { Period } from './period.ts';
import { engagementRate, postSummarySql, PUBLISHED_POSTS_SQL } from './posts-sql.ts';
import { Count, Nullable, Ratio, Time } from './shape.ts';

export type PostMetric = 'views' | 'forwards' | 'reactions' | 'engagement';
export const POST_METRICS: readonly PostMetric[] = ['views', 'forwards', 'reactions', 'engagement'];

/** Ranking expressions: fixed SQL chosen by the enum, never built from input. */
const ORDER_BY: Record<PostMetric, string> = {
  views: 'views',
  forwards: 'forwards',
  reactions: 'reactions',
  engagement: 'if(views > 0, (forwards + reactions + replies) / views, 0)',
};

export const PostPerformance = Type.Object({
  post_id: Type.Integer(),
  date: Time,
  media_type: Type.String(),
  text_length: Count,
  views: Count,
  forwards: Count,
  reactions: Count,
  replies: Count,
  engagement_rate: Ratio,
  as_of: Type.Number({ description: 'when these counters were observed (epoch ms)' }),
});
export type PostPerformance = Static<typeof PostPerformance>;

function readPost(row: Record<string, unknown>): PostPerformance {
  const r = new RowReader(row, 'post_summary');
  const counters = {
    views: r.int('views'),
    forwards: r.int('forwards'),
    reactions: r.int('reactions'),
    replies: r.int('replies'),
  };
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
const PostTimelinePoint = Type.Object({
  t: Type.Number({ description: 'observation time of the snapshot, the last one of its hour (epoch ms)' }),
  age_hours: Type.Number({ description: 'hours since publication at t' }),
  views: Count,
  forwards: Count,
  reactions: Count,
  replies: Count,
});

export const PostDetail = Type.Object({
  post: Type.Composite([
    PostPerformance,
    Type.Object({
      deleted_at: Nullable(Time),
      forward_from_channel_id: Nullable(Type.String()),
      mentions: Type.Array(Type.String()),
      hashtags: Type.Array(Type.String()),
      links: Type.Array(Type.String()),
    }),
  ]),
  timeline: Type.Array(PostTimelinePoint),
});
export type PostDetail = Static<typeof PostDetail>;

/**
 * A post with its counters over its age, or null when the post is unknown.
 * One query: the post's metadata and merged summary, with its timeline
 * folded into arrays (one element per hour) on the same row.
 */
export async function postDetail(
  wh: Warehouse,
  q: { channel_id: string; post_id: number },
): Promise<PostDetail | null> {
  const rows = await wh.query(
    `SELECT l.post_id AS post_id, assumeNotNull(l.date) AS date, l.media_type AS media_type, l.text_length AS text_length,
            m.forward_from_channel_id AS forward_from_channel_id, m.mentions AS mentions,
            m.hashtags AS hashtags, m.links AS links,
            l.views AS views, l.forwards AS forwards, l.replies AS replies, l.reactions AS reactions,
            l.as_of AS as_of, l.deleted_at AS deleted_at,
            tl.at AS timeline_at, tl.views AS timeline_views, tl.forwards AS timeline_forwards,
            tl.replies AS timeline_replies, tl.reactions AS timeline_reactions
     FROM (${postSummarySql('ps.post_id = {post_id:UInt32}', 'max(ps.date) IS NOT NULL')}) AS l
     INNER JOIN (
       SELECT post_id, forward_from_channel_id, mentions, hashtags, links FROM post_meta FINAL
       WHERE channel_id = {channel_id:String} AND post_id = {post_id:UInt32}
     ) AS m ON m.post_id = l.post_id
     CROSS JOIN (
       SELECT groupArray(toUnixTimestamp64Milli(as_of)) AS at, groupArray(views) AS views, groupArray(forwards) AS forwards,
              groupArray(replies) AS replies, groupArray(reactions_total) AS reactions
       FROM post_timeline FINAL
       WHERE channel_id = {channel_id:String} AND post_id = {post_id:UInt32}
     ) AS tl`,
    { channel_id: q.channel_id, post_id: q.post_id },
  );
  if (rows.length === 0) return null;
  const r = new RowReader(rows[0], 'post_summary');
  const post = {
    ...readPost(rows[0]),
    deleted_at: r.timeOrNull('deleted_at'),
    forward_from_channel_id: r.strOrNull('forward_from_channel_id'),
    mentions: r.strArray('mentions'),
    hashtags: r.strArray('hashtags'),
    links: r.strArray('links'),
  };
  const at = r.intArray('timeline_at');
  const [views, forwards, replies, reactions] = ['views', 'forwards', 'replies', 'reactions'].map((c) =>
    r.intArray(`timeline_${c}`),
  );
  const timeline = at
    .map((t, i) => ({
      t,
      age_hours: Math.max(0, (t - post.date) / 3_600_000),
      views: views[i],
      forwards: forwards[i],
      reactions: reactions[i],
      replies: replies[i],
    }))
    // One point per hour, and the last snapshot of an hour is later than every one of the hour before.
    .sort((a, b) => a.t - b.t);
  return { post, timeline };
}
