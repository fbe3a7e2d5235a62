/**
 * A channel's figures per hour, day or week: subscribers (growth), views and
 * interactions gained, posts published and their reach.
 *
 * Every grain is folded from the hourly window rows: a day that is still
 * running then shows the hours it has so far (flagged not final) instead of
 * being absent until the daily window closes. Subscribers of a bucket are its
 * last snapshot; weeks are ISO weeks (Monday).
 */
import { Type, type Static } from '@sinclair/typebox';
import { RowReader, type Warehouse } from '../../clickhouse/index.ts';
import { periodParams } from './freshness.ts';
import { bucketMs, bucketSql, type Granularity, type Period } from './period.ts';
import { PUBLISHED_POSTS_SQL, ratio } from './posts-sql.ts';
import { Count, Nullable, Ratio, Time } from './shape.ts';

/** One bucket of a channel's activity. */
export const ActivityPoint = Type.Object({
  t: Type.Number({ description: 'bucket start (epoch ms, UTC)' }),
  subscribers: Nullable(Count),
  subscribers_gained: Count,
  subscribers_lost: Count,
  views: Type.Number({ description: 'views gained in the bucket by all posts (forwards, reactions, replies alike)' }),
  forwards: Type.Number(),
  reactions: Type.Number(),
  replies: Type.Number(),
  final: Type.Boolean({ description: 'false while a late event may still change the bucket' }),
});
export type ActivityPoint = Static<typeof ActivityPoint>;

/** Activity per bucket with `from <= t < to`, oldest first; buckets without a window row are absent. */
export async function activitySeries(
  wh: Warehouse,
  q: { channel_id: string; period: Period; granularity: Granularity },
): Promise<ActivityPoint[]> {
  const table = 'channel_hourly';
  const rows = await wh.query(
    `SELECT ${bucketSql('window_start', q.granularity)} AS t,
            argMaxIf(assumeNotNull(members_last), window_start, members_last IS NOT NULL) AS members,
            countIf(members_last IS NOT NULL) AS n_members,
            sum(subscribers_gained) AS gained, sum(subscribers_lost) AS lost,
            sum(views) AS views, sum(forwards) AS forwards, sum(reactions) AS reactions, sum(replies) AS replies,
            min(final) AS final, max(window_end) AS last_end
     FROM ${table} FINAL
     WHERE channel_id = {channel_id:String}
       AND window_start >= {from:DateTime64(3, 'UTC')} AND window_start < {to:DateTime64(3, 'UTC')}
     GROUP BY t ORDER BY t`,
    { channel_id: q.channel_id, ...periodParams(q.period) },
  );
  return rows.map((row) => {
    const r = new RowReader(row, table);
    return {
      t: r.time('t'),
      subscribers: r.int('n_members') > 0 ? r.int('members') : null,
      subscribers_gained: r.int('gained'),
      subscribers_lost: r.int('lost'),
      views: r.int('views'),
      forwards: r.int('forwards'),
      reactions: r.int('reactions'),
      replies: r.int('replies'),
      // Final when every hour is, and the bucket's last hour has been emitted at all.
      final: r.bool('final') && r.time('last_end') >= r.time('t') + bucketMs(q.granularity),
    };
  });
}

/** Posts published in one bucket and the views they have reached so far. */
export const ReachPoint = Type.Object({
  t: Time,
  posts: Count,
  post_views: Count,
  reach_per_post: Ratio,
  views: Type.Number({ description: 'views gained in the bucket by all posts' }),
});
export type ReachPoint = Static<typeof ReachPoint>;

/** Reach per bucket: every bucket with a post or with views, oldest first. One query: views gained per bucket and the posts published in it, as two parts of one UNION. */
export async function reachSeries(
  wh: Warehouse,
  q: { channel_id: string; period: Period; granularity: Granularity },
): Promise<ReachPoint[]> {
  const rows = await wh.query(
    `SELECT 'views' AS part, ${bucketSql('window_start', q.granularity)} AS t,
            toInt64(sum(views)) AS views, toInt64(0) AS posts, toInt64(0) AS post_views
     FROM channel_hourly FINAL
     WHERE channel_id = {channel_id:String}
       AND window_start >= {from:DateTime64(3, 'UTC')} AND window_start < {to:DateTime64(3, 'UTC')}
     GROUP BY t
     UNION ALL
     SELECT 'posts' AS part, ${bucketSql('date', q.granularity)} AS t, toInt64(0), toInt64(count()), toInt64(sum(views))
     FROM (${PUBLISHED_POSTS_SQL}) GROUP BY t`,
    { channel_id: q.channel_id, ...periodParams(q.period) },
  );
  const byT = new Map<number, ReachPoint>();
  for (const row of rows) {
    const r = new RowReader(row, 'channel_hourly');
    const t = r.time('t');
    const point = byT.get(t) ?? { t, posts: 0, post_views: 0, reach_per_post: null, views: 0 };
    if (r.str('part') === 'views') point.views = r.int('views');
    else {
      point.posts = r.int('posts');
      point.post_views = r.int('post_views');
      point.reach_per_post = ratio(point.post_views, point.posts);
    }
    byT.set(t, point);
  }
  return [...byT.values()].sort((a, b) => a.t - b.t);
}
