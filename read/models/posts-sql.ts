/**
 * The subquery most read models start from: a channel's posts published in a
 * period, with their latest counters, deleted posts left out. Parameters:
 * `{channel_id:String}`, `{from:DateTime64}`, `{to:DateTime64}`.
 *
 * `post_summary` holds aggregate states (several rows per post until merges
 * run), so it is merged per post: duplicates of any source row never count
 * twice, and no join is needed since the date sits next to the counters.
 */

/**
 * Every post of a channel merged to one row: date (NULL while only counter
 * snapshots were seen), media, length, latest counters, deletion. `condition`
 * is a fixed SQL condition on `ps` (never input: values go in as parameters);
 * `having` one on the merged post.
 */
export function postSummarySql(condition = 'true', having = 'true'): string {
  return `
    SELECT ps.post_id AS post_id, max(ps.date) AS date,
           argMaxMerge(ps.media_type) AS media_type, argMaxMerge(ps.text_length) AS text_length,
           argMaxMerge(ps.views) AS views, argMaxMerge(ps.forwards) AS forwards,
           argMaxMerge(ps.replies) AS replies, argMaxMerge(ps.reactions_total) AS reactions,
           max(ps.as_of) AS as_of, max(ps.deleted_at) AS deleted_at
    FROM post_summary AS ps
    WHERE ps.channel_id = {channel_id:String} AND ${condition}
    GROUP BY ps.post_id
    HAVING ${having}`;
}

export const PUBLISHED_POSTS_SQL = `
  SELECT post_id, assumeNotNull(date) AS date, media_type, text_length, views, forwards, replies, reactions, as_of
  FROM (${postSummarySql(
    'true',
    `max(ps.date) >= {from:DateTime64(3, 'UTC')} AND max(ps.date) < {to:DateTime64(3, 'UTC')} AND max(ps.deleted_at) IS NULL`,
  )})`;

/** Interactions per view, the engagement of a post or a set of posts; null without views. */
export function engagementRate(x: {
  views: number;
  forwards: number;
  reactions: number;
  replies: number;
}): number | null {
  return x.views > 0 ? (x.forwards + x.reactions + x.replies) / x.views : null;
}

/** A ratio that is null when its denominator is zero or unknown. */
export function ratio(num: number, den: number | null): number | null {
  return den !== null && den > 0 ? num / den : null;
}
