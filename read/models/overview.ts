/**
 * A channel's headline figures for a period, and the same figures for the
 * period of equal length before it.
 */
import { RowReader } from '../../clickhouse/row-reader.ts';
import type { Warehouse } from '../../clickhouse/warehouse.ts';
import { periodParams } from './freshness.ts';
import { previousPeriod, type Period } from './period.ts';
import { engagementRate, PUBLISHED_POSTS_SQL, ratio } from './posts-sql.ts';

export interface OverviewFigures {
  /** Subscribers at the last snapshot in the period (null when none). */
  subscribers: number | null;
  /** Subscribers at the last snapshot before the period (or the first one ever, when the period holds it). */
  subscribers_start: number | null;
  subscribers_change: number | null;
  subscribers_gained: number;
  subscribers_lost: number;
  /** Views gained in the period by all posts, old ones included (backfill baselines excluded). */
  views: number;
  /** Posts published in the period (deleted ones left out). */
  posts: number;
  /** Current views, forwards, reactions and replies of the posts published in the period. */
  post_views: number;
  post_forwards: number;
  post_reactions: number;
  post_replies: number;
  /** Average views per post published in the period. */
  reach_per_post: number | null;
  /** Engagement rate by reach: reach per post / subscribers. */
  err: number | null;
  /** (forwards + reactions + replies) / views of the posts published in the period. */
  engagement_rate: number | null;
}

export interface Overview {
  period: Period;
  current: OverviewFigures;
  previous_period: Period;
  previous: OverviewFigures;
}

/** Overview of `period` and of the period before it. */
export async function overview(wh: Warehouse, q: { channel_id: string; period: Period }): Promise<Overview> {
  const prev = previousPeriod(q.period);
  const [current, previous] = await Promise.all([figures(wh, q.channel_id, q.period), figures(wh, q.channel_id, prev)]);
  return { period: q.period, current, previous_period: prev, previous };
}

async function figures(wh: Warehouse, channelId: string, period: Period): Promise<OverviewFigures> {
  const params = { channel_id: channelId, ...periodParams(period) };
  const [windowRows, postRows] = await Promise.all([
    wh.query(
      `SELECT sum(views) AS views, sum(subscribers_gained) AS gained, sum(subscribers_lost) AS lost,
              countIf(members_last IS NOT NULL) AS n_members,
              argMaxIf(assumeNotNull(members_last), window_start, members_last IS NOT NULL) AS members_end
       FROM channel_hourly FINAL
       WHERE channel_id = {channel_id:String}
         AND window_start >= {from:DateTime64(3, 'UTC')} AND window_start < {to:DateTime64(3, 'UTC')}`,
      params,
    ),
    wh.query(
      `SELECT count() AS posts, sum(views) AS views, sum(forwards) AS forwards,
              sum(reactions) AS reactions, sum(replies) AS replies
       FROM (${PUBLISHED_POSTS_SQL})`,
      params,
    ),
  ]);
  const w = new RowReader(windowRows[0], 'channel_hourly');
  const p = new RowReader(postRows[0], 'post_latest');
  const subscribers = w.int('n_members') > 0 ? w.int('members_end') : null;
  // Windows count joins and leaves between consecutive snapshots, across window
  // edges too, so the period's net change is gained − lost and the start follows.
  const change = w.int('gained') - w.int('lost');
  const start = subscribers === null ? null : subscribers - change;
  const posts = p.int('posts');
  const post = { views: p.int('views'), forwards: p.int('forwards'), reactions: p.int('reactions'), replies: p.int('replies') };
  const reach = ratio(post.views, posts);
  return {
    subscribers,
    subscribers_start: start,
    subscribers_change: subscribers === null ? null : change,
    subscribers_gained: w.int('gained'),
    subscribers_lost: w.int('lost'),
    views: w.int('views'),
    posts,
    post_views: post.views,
    post_forwards: post.forwards,
    post_reactions: post.reactions,
    post_replies: post.replies,
    reach_per_post: reach,
    err: reach === null ? null : ratio(reach, subscribers),
    engagement_rate: engagementRate(post),
  };
}
