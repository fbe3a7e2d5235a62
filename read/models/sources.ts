/**
 * Where a channel's content comes from and where it goes: channels it
 * forwards from, channels it mentions, sites it links to, tracked channels
 * that forward its posts, and official statistics by source where Telegram
 * provides them (e.g. views and new followers by source).
 */
import { RowReader } from '../../clickhouse/row-reader.ts';
import type { Warehouse } from '../../clickhouse/warehouse.ts';
import { periodParams } from './freshness.ts';
import type { Period } from './period.ts';

export interface CountedName {
  name: string;
  posts: number;
}

export interface OfficialSourceSeries {
  metric: string;
  series: string;
  /** Sum of the series' points within the period. */
  total: number;
  points: number;
}

export interface Sources {
  forwarded_from: CountedName[];
  mentions: CountedName[];
  link_domains: CountedName[];
  forwarded_by: CountedName[];
  official: OfficialSourceSeries[];
}

const TOP = 50;

/** Source figures of posts published in the period (official stats: points within it). */
export async function sources(wh: Warehouse, q: { channel_id: string; period: Period }): Promise<Sources> {
  const params = { channel_id: q.channel_id, ...periodParams(q.period), top: TOP };
  const inPeriod = `channel_id = {channel_id:String} AND date >= {from:DateTime64(3, 'UTC')} AND date < {to:DateTime64(3, 'UTC')}`;
  const counted = (sql: string) =>
    wh.query(`${sql} ORDER BY posts DESC, name LIMIT {top:UInt32}`, params).then((rows) =>
      rows.map((row) => {
        const r = new RowReader(row, 'post_meta');
        return { name: r.str('name'), posts: r.int('posts') };
      }),
    );
  const [forwardedFrom, mentions, domains, forwardedBy, official] = await Promise.all([
    counted(
      `SELECT assumeNotNull(forward_from_channel_id) AS name, count() AS posts FROM post_meta FINAL
       WHERE ${inPeriod} AND forward_from_channel_id IS NOT NULL GROUP BY name`,
    ),
    counted(`SELECT lower(arrayJoin(arrayDistinct(mentions))) AS name, count() AS posts FROM post_meta FINAL WHERE ${inPeriod} GROUP BY name`),
    counted(
      `SELECT name, count() AS posts FROM (
         SELECT arrayJoin(arrayDistinct(arrayMap(l -> lower(domain(l)), links))) AS name FROM post_meta FINAL WHERE ${inPeriod}
       ) WHERE name != '' GROUP BY name`,
    ),
    counted(
      `SELECT channel_id AS name, count() AS posts FROM post_meta FINAL
       WHERE forward_from_channel_id = {channel_id:String}
         AND date >= {from:DateTime64(3, 'UTC')} AND date < {to:DateTime64(3, 'UTC')}
       GROUP BY name`,
    ),
    wh.query(
      `SELECT metric, series, sum(value) AS total, count() AS points FROM channel_stats_latest FINAL
       WHERE channel_id = {channel_id:String} AND positionCaseInsensitive(metric, 'source') > 0
         AND t >= {from:DateTime64(3, 'UTC')} AND t < {to:DateTime64(3, 'UTC')}
       GROUP BY metric, series ORDER BY metric, total DESC, series`,
      params,
    ),
  ]);
  return {
    forwarded_from: forwardedFrom,
    mentions,
    link_domains: domains,
    forwarded_by: forwardedBy,
    official: official.map((row) => {
      const r = new RowReader(row, 'channel_stats_latest');
      return { metric: r.str('metric'), series: r.str('series'), total: r.float('total'), points: r.int('points') };
    }),
  };
}
