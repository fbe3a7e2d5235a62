/**
 * What is moving now: the latest EWMA mean, sd and z of each of a channel's
 * metrics, and the posts whose views run furthest above their expected curve.
 */
import { latestTrends, type TrendLatest } from '../../clickhouse/index.ts';
import type { Warehouse } from '../../clickhouse/index.ts';

export type TrendPoint = Omit<TrendLatest, 'channel_id'>;

export interface Trending {
  /** Channel-level metrics, one entry per (metric, window). */
  metrics: TrendPoint[];
  /** Post-level metrics (views at age), highest z first. */
  posts: TrendPoint[];
}

/** Latest trend points of a channel; `postLimit` bounds the post list. */
export async function trending(wh: Warehouse, q: { channel_id: string; postLimit: number }): Promise<Trending> {
  const all = (await latestTrends(wh, { channel_id: q.channel_id })).map(({ channel_id: _, ...t }) => t);
  return {
    metrics: all.filter((t) => t.post_id === null),
    posts: all
      .filter((t) => t.post_id !== null)
      .sort((a, b) => b.z - a.z || (b.post_id ?? 0) - (a.post_id ?? 0))
      .slice(0, q.postLimit),
  };
}
