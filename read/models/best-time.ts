/**
 * When to post: the performance of posts by the hour of the week they were
 * published (in a time zone the reader chooses), with how many posts back
 * each cell, so a cell from one lucky post is not mistaken for a pattern.
 *
 * Views grow with age, so only posts at least {@link MIN_POST_AGE_HOURS} old
 * are compared: by then most of a post's views have arrived.
 */
import { Type, type Static } from '@sinclair/typebox';
import { RowReader, toChTime, type Warehouse } from '../../clickhouse/index.ts';
import type { Period } from './period.ts';
import { PUBLISHED_POSTS_SQL, ratio } from './posts-sql.ts';
import { Count, Nullable, Ratio } from './shape.ts';

export const MIN_POST_AGE_HOURS = 48;

const Confidence = Type.Union([Type.Literal('low'), Type.Literal('medium'), Type.Literal('high')], {
  description: 'low: fewer than 3 posts, medium: fewer than 10, high: 10 or more',
});
type Confidence = Static<typeof Confidence>;

export const BestTimeCell = Type.Object({
  day_of_week: Type.Integer({ description: 'ISO day of week, 1 = Monday' }),
  hour: Type.Integer(),
  posts: Count,
  avg_views: Type.Number(),
  engagement_rate: Ratio,
  index: Nullable(Type.Number(), {
    description: "avg_views relative to the channel's average post in the period (1 = average)",
  }),
  confidence: Confidence,
});
export type BestTimeCell = Static<typeof BestTimeCell>;

export const BestTime = Type.Object({
  time_zone: Type.String(),
  min_post_age_hours: Type.Number(),
  posts: Type.Number({ description: 'posts compared (published in the period and old enough)' }),
  cells: Type.Array(BestTimeCell),
});
export type BestTime = Static<typeof BestTime>;

export function confidenceOf(posts: number): Confidence {
  return posts < 3 ? 'low' : posts < 10 ? 'medium' : 'high';
}

/** Cells with at least one post, Monday 00h first. `timeZone` must be a valid IANA name (checked by the caller). */
export async function bestTime(
  wh: Warehouse,
  q: { channel_id: string; period: Period; timeZone: string; now: number },
): Promise<BestTime> {
  // Only posts old enough by now: cap the period's end at now - min age.
  const to = Math.min(q.period.to, q.now - MIN_POST_AGE_HOURS * 3_600_000);
  if (to <= q.period.from)
    return { time_zone: q.timeZone, min_post_age_hours: MIN_POST_AGE_HOURS, posts: 0, cells: [] };
  const rows = await wh.query(
    `SELECT toDayOfWeek(date, 0, {tz:String}) AS dow, toHour(toTimeZone(date, {tz:String})) AS hour,
            count() AS posts, sum(views) AS views, sum(forwards + reactions + replies) AS interactions
     FROM (${PUBLISHED_POSTS_SQL})
     GROUP BY dow, hour ORDER BY dow, hour`,
    { channel_id: q.channel_id, from: toChTime(q.period.from), to: toChTime(to), tz: q.timeZone },
  );
  const raw = rows.map((row) => {
    const r = new RowReader(row, 'post_meta');
    return {
      dow: r.int('dow'),
      hour: r.int('hour'),
      posts: r.int('posts'),
      views: r.int('views'),
      interactions: r.int('interactions'),
    };
  });
  const posts = raw.reduce((s, c) => s + c.posts, 0);
  const overall = ratio(
    raw.reduce((s, c) => s + c.views, 0),
    posts,
  );
  return {
    time_zone: q.timeZone,
    min_post_age_hours: MIN_POST_AGE_HOURS,
    posts,
    cells: raw.map((c) => {
      const avg = c.views / c.posts;
      return {
        day_of_week: c.dow,
        hour: c.hour,
        posts: c.posts,
        avg_views: avg,
        engagement_rate: ratio(c.interactions, c.views),
        index: ratio(avg, overall),
        confidence: confidenceOf(c.posts),
      };
    }),
  };
}
