/**
 * What is moving now: the latest expectation, sd, z and anomaly score of each
 * of a channel's metrics, and the posts whose views run furthest above their
 * expected curve.
 */
import { Type, type Static } from '@sinclair/typebox';
import { latestTrends, type Warehouse } from '../../clickhouse/index.ts';
import { TrendData } from '../../streams/contract/index.ts';
import { Time } from './shape.ts';

/**
 * The latest point of a trend series: the contract's trend, with always its
 * score (0 for points stored before scores were), and when it was last updated.
 */
export const TrendPoint = Type.Composite([
  Type.Omit(TrendData, ['score']),
  Type.Object({
    score: Type.Number({ minimum: 0, maximum: 1, description: 'anomaly score in [0, 1]: 0.5 where an anomaly opens' }),
    updated_at: Time,
  }),
]);
export type TrendPoint = Static<typeof TrendPoint>;

export const Trending = Type.Object({
  metrics: Type.Array(TrendPoint, { description: 'channel-level metrics, one entry per (metric, window)' }),
  posts: Type.Array(TrendPoint, { description: 'post-level metrics (views at age), highest z first' }),
});
export type Trending = Static<typeof Trending>;

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
