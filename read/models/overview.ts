/**
 * A channel's headline figures for a period, and the same figures for the
 * period of equal length before it.
 */
import { Type, type Static } from '@sinclair/typebox';
import { RowReader, toChTime, type Warehouse } from '../../clickhouse/index.ts';
import { periodParams } from './freshness.ts';
import { Period, previousPeriod } from './period.ts';
import { engagementRate, PUBLISHED_POSTS_SQL, ratio } from './posts-sql.ts';
import { Count, Nullable } from './shape.ts';

export const OverviewFigures = Type.Object({
  subscribers: Nullable(Count, { description: 'at the last snapshot in the period (null when none)' }),
  subscribers_start: Nullable(Count, {
    description: 'at the last snapshot before the period (or the first one ever, when the period holds it)',
  }),
  subscribers_change: Nullable(Type.Number()),
  subscribers_gained: Count,
  subscribers_lost: Count,
  views: Type.Number({
    description: 'views gained in the period by all posts, old ones included (backfill baselines excluded)',
  }),
  posts: Type.Number({ description: 'posts published in the period (deleted ones left out)' }),
  post_views: Type.Number({ description: 'current views of the posts published in the period' }),
  post_forwards: Count,
  post_reactions: Count,
  post_replies: Count,
  reach_per_post: Nullable(Type.Number(), { description: 'average views per post published in the period' }),
  err: Nullable(Type.Number(), { description: 'engagement rate by reach: reach per post / subscribers' }),
  engagement_rate: Nullable(Type.Number(), {
    description: '(forwards + reactions + replies) / views of the posts published in the period',
  }),
});
export type OverviewFigures = Static<typeof OverviewFigures>;

export const Overview = Type.Object({
  period: Period,
  current: OverviewFigures,
  previous_period: Period,
  previous: OverviewFigures,
});
export type Overview = Static<typeof Overview>;

/** Figures of one of the two periods as the warehouse sums them. */
interface Sums {
  views: number;
  gained: number;
  lost: number;
  n_members: number;
  members_end: number;
  posts: number;
  post_views: number;
  post_forwards: number;
  post_reactions: number;
  post_replies: number;
}

const NO_SUMS: Sums = {
  views: 0,
  gained: 0,
  lost: 0,
  n_members: 0,
  members_end: 0,
  posts: 0,
  post_views: 0,
  post_forwards: 0,
  post_reactions: 0,
  post_replies: 0,
};

/**
 * Both periods in one query over the span from the previous period's start
 * to the current one's end, each row telling which period it sums
 * (`current`): the hourly windows and the posts published, as two parts of
 * one UNION. A period without windows or posts has no row of that part.
 */
const OVERVIEW_SQL = `
  SELECT 'windows' AS part, window_start >= {split:DateTime64(3, 'UTC')} AS current,
         toInt64(sum(views)) AS views, toInt64(sum(subscribers_gained)) AS gained, toInt64(sum(subscribers_lost)) AS lost,
         toInt64(countIf(members_last IS NOT NULL)) AS n_members,
         toInt64(argMaxIf(assumeNotNull(members_last), window_start, members_last IS NOT NULL)) AS members_end,
         toInt64(0) AS posts, toInt64(0) AS post_views, toInt64(0) AS post_forwards, toInt64(0) AS post_reactions, toInt64(0) AS post_replies
  FROM channel_hourly FINAL
  WHERE channel_id = {channel_id:String}
    AND window_start >= {from:DateTime64(3, 'UTC')} AND window_start < {to:DateTime64(3, 'UTC')}
  GROUP BY current
  UNION ALL
  SELECT 'posts' AS part, date >= {split:DateTime64(3, 'UTC')} AS current,
         toInt64(0), toInt64(0), toInt64(0), toInt64(0), toInt64(0),
         toInt64(count()), toInt64(sum(views)), toInt64(sum(forwards)), toInt64(sum(reactions)), toInt64(sum(replies))
  FROM (${PUBLISHED_POSTS_SQL})
  GROUP BY current`;

/** Overview of `period` and of the period before it: one warehouse query. */
export async function overview(wh: Warehouse, q: { channel_id: string; period: Period }): Promise<Overview> {
  const prev = previousPeriod(q.period);
  const rows = await wh.query(OVERVIEW_SQL, {
    channel_id: q.channel_id,
    ...periodParams({ from: prev.from, to: q.period.to }),
    split: toChTime(q.period.from),
  });
  const sums = { current: { ...NO_SUMS }, previous: { ...NO_SUMS } };
  for (const row of rows) {
    const r = new RowReader(row, 'channel_hourly');
    const into = r.int('current') === 1 ? sums.current : sums.previous;
    const keys: (keyof Sums)[] =
      r.str('part') === 'windows'
        ? ['views', 'gained', 'lost', 'n_members', 'members_end']
        : ['posts', 'post_views', 'post_forwards', 'post_reactions', 'post_replies'];
    for (const k of keys) into[k] = r.int(k);
  }
  return { period: q.period, current: figures(sums.current), previous_period: prev, previous: figures(sums.previous) };
}

function figures(s: Sums): OverviewFigures {
  const subscribers = s.n_members > 0 ? s.members_end : null;
  // Windows count joins and leaves between consecutive snapshots, across window
  // edges too, so the period's net change is gained − lost and the start follows.
  const change = s.gained - s.lost;
  const start = subscribers === null ? null : subscribers - change;
  const post = { views: s.post_views, forwards: s.post_forwards, reactions: s.post_reactions, replies: s.post_replies };
  const reach = ratio(post.views, s.posts);
  return {
    subscribers,
    subscribers_start: start,
    subscribers_change: subscribers === null ? null : change,
    subscribers_gained: s.gained,
    subscribers_lost: s.lost,
    views: s.views,
    posts: s.posts,
    post_views: post.views,
    post_forwards: post.forwards,
    post_reactions: post.reactions,
    post_replies: post.replies,
    reach_per_post: reach,
    err: reach === null ? null : ratio(reach, subscribers),
    engagement_rate: engagementRate(post),
  };
}
