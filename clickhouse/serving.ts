/**
 * Typed reads over the serving tables — the only tables the API and the bot
 * read. Every value is bound as a `{name:Type}` parameter; table names come
 * from fixed lists, never from input.
 *
 * Replacing tables are read with FINAL and Aggregating tables with
 * `-Merge`/`max` and GROUP BY, so the answer is the same before and after
 * background merges, and duplicates never count twice.
 */
import type { Trend } from '../streams/contract/index.ts';
import { RowReader } from './row-reader.ts';
import type { Warehouse } from './warehouse.ts';

/** The latest trend point of a series. */
export type TrendLatest = Trend & { score: number; channel_id: string; updated_at: number };

/** Latest trend point of every (metric, window, post) series of a channel. */
export async function latestTrends(wh: Warehouse, q: { channel_id: string }): Promise<TrendLatest[]> {
  const rows = await wh.query(
    `SELECT * FROM trends_latest FINAL
     WHERE channel_id = {channel_id:String}
     ORDER BY metric, window, post_id`,
    { channel_id: q.channel_id },
  );
  return rows.map((row) => {
    const r = new RowReader(row, 'trends_latest');
    const postId = r.int('post_id');
    return {
      channel_id: r.str('channel_id'),
      metric: r.str('metric'),
      window: r.str('window'),
      window_start: r.time('window_start'),
      post_id: postId === 0 ? null : postId,
      value: r.float('value'),
      mean: r.float('mean'),
      sd: r.float('sd'),
      z: r.float('z'),
      n: r.int('n'),
      warm: r.bool('warm'),
      score: r.float('score'),
      updated_at: r.time('updated_at'),
    };
  });
}

/** Narrow a stored string to one of the contract's literals, or fail naming the column. */
