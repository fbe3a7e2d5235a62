/**
 * The subquery most read models start from: a channel's posts published in a
 * period, with their latest counters, deleted posts left out. Parameters:
 * `{channel_id:String}`, `{from:DateTime64}`, `{to:DateTime64}`.
 *
 * `post_latest` is aggregated (argMaxMerge) per post and joined with
 * `post_meta` FINAL for the publication date, so duplicates of any source row
 * never count twice.
 */
/**
 * Latest counters per post of a channel (`post_latest` merged), restricted by
 * a fixed SQL condition on `pl` (never input: values go in as parameters).
 */
export function latestCountersSql(condition = 'true'): string {
  return `
    SELECT pl.post_id AS post_id,
           argMaxMerge(pl.views) AS views, argMaxMerge(pl.forwards) AS forwards,
           argMaxMerge(pl.replies) AS replies, argMaxMerge(pl.reactions_total) AS reactions,
           max(pl.as_of) AS as_of, max(pl.deleted_at) AS deleted_at
    FROM post_latest AS pl
    WHERE pl.channel_id = {channel_id:String} AND ${condition}
    GROUP BY pl.post_id`;
}

export const PUBLISHED_POSTS_SQL = `
  SELECT m.post_id AS post_id, m.date AS date, m.media_type AS media_type, m.text_length AS text_length,
         l.views AS views, l.forwards AS forwards, l.replies AS replies, l.reactions AS reactions,
         l.as_of AS as_of
  FROM (
    SELECT post_id, date, media_type, text_length FROM post_meta FINAL
    WHERE channel_id = {channel_id:String}
      AND date >= {from:DateTime64(3, 'UTC')} AND date < {to:DateTime64(3, 'UTC')}
  ) AS m
  INNER JOIN (${latestCountersSql()}) AS l ON l.post_id = m.post_id
  WHERE l.deleted_at IS NULL`;

/** Interactions per view, the engagement of a post or a set of posts; null without views. */
export function engagementRate(x: { views: number; forwards: number; reactions: number; replies: number }): number | null {
  return x.views > 0 ? (x.forwards + x.reactions + x.replies) / x.views : null;
}

/** A ratio that is null when its denominator is zero or unknown. */
export function ratio(num: number, den: number | null): number | null {
  return den !== null && den > 0 ? num / den : null;
}
