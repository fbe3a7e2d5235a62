/**
 * Where a channel's content comes from and where it goes: channels it
 * forwards from, channels it mentions, sites it links to, tracked channels
 * that forward its posts, and official statistics by source where Telegram
 * provides them (e.g. views and new followers by source).
 */
import { Type, type Static } from '@sinclair/typebox';
import { RowReader, type Warehouse } from '../../clickhouse/index.ts';
import { periodParams } from './freshness.ts';
import type { Period } from './period.ts';
import { Count } from './shape.ts';

const CountedName = Type.Object({ name: Type.String(), posts: Count });

const OfficialSourceSeries = Type.Object({
  metric: Type.String(),
  series: Type.String(),
  total: Type.Number({ description: "sum of the series' points within the period" }),
  points: Count,
});

export const Sources = Type.Object({
  forwarded_from: Type.Array(CountedName, { description: 'channels this channel forwards from' }),
  mentions: Type.Array(CountedName),
  link_domains: Type.Array(CountedName),
  forwarded_by: Type.Array(CountedName, { description: 'tracked channels that forward this channel' }),
  official: Type.Array(OfficialSourceSeries, {
    description: 'official statistics by source (stats.getBroadcastStats), where the account may view them',
  }),
});
export type Sources = Static<typeof Sources>;

const TOP = 50;

/** A channel's posts published in the period. */
const IN_PERIOD = `channel_id = {channel_id:String} AND date >= {from:DateTime64(3, 'UTC')} AND date < {to:DateTime64(3, 'UTC')}`;

/** The lists of names counted by posts: fixed SQL per list, each giving `name` and `posts`. */
const COUNTED: Record<'forwarded_from' | 'mentions' | 'link_domains' | 'forwarded_by', string> = {
  forwarded_from: `
    SELECT assumeNotNull(forward_from_channel_id) AS name, count() AS posts FROM post_meta FINAL
    WHERE ${IN_PERIOD} AND forward_from_channel_id IS NOT NULL GROUP BY name`,
  mentions: `
    SELECT lower(arrayJoin(arrayDistinct(mentions))) AS name, count() AS posts FROM post_meta FINAL
    WHERE ${IN_PERIOD} GROUP BY name`,
  link_domains: `
    SELECT name, count() AS posts FROM (
      SELECT arrayJoin(arrayDistinct(arrayMap(l -> lower(domain(l)), links))) AS name FROM post_meta FINAL WHERE ${IN_PERIOD}
    ) WHERE name != '' GROUP BY name`,
  forwarded_by: `
    SELECT channel_id AS name, count() AS posts FROM post_meta FINAL
    WHERE forward_from_channel_id = {channel_id:String}
      AND date >= {from:DateTime64(3, 'UTC')} AND date < {to:DateTime64(3, 'UTC')}
      AND ({everyone:Bool} OR channel_id IN {visible:Array(String)})
    GROUP BY name`,
};

/**
 * Every list in one query: a UNION of the counted lists (each its own top
 * {@link TOP}) and the official series, each row naming its part.
 */
const SOURCES_SQL = [
  ...Object.entries(COUNTED).map(
    ([part, sql]) => `
    SELECT '${part}' AS part, name, toUInt64(posts) AS posts, '' AS metric, '' AS series, toFloat64(0) AS total, toUInt64(0) AS points
    FROM (${sql} ORDER BY posts DESC, name LIMIT {top:UInt32})`,
  ),
  `
    SELECT 'official' AS part, '' AS name, toUInt64(0) AS posts, metric, series, toFloat64(total) AS total, toUInt64(points) AS points
    FROM (
      SELECT metric, series, sum(value) AS total, count() AS points FROM channel_stats_latest FINAL
      WHERE channel_id = {channel_id:String} AND positionCaseInsensitive(metric, 'source') > 0
        AND t >= {from:DateTime64(3, 'UTC')} AND t < {to:DateTime64(3, 'UTC')}
      GROUP BY metric, series ORDER BY metric, total DESC, series
    )`,
].join('\n    UNION ALL');

/**
 * Source figures of posts published in the period (official stats: points
 * within it). One query. `forwarded_by` names other tracked channels: with
 * `visible` given (a key's allow-list), only those.
 */
export async function sources(
  wh: Warehouse,
  q: { channel_id: string; period: Period; visible?: readonly string[] | null },
): Promise<Sources> {
  const visible = q.visible ?? null;
  const rows = await wh.query(SOURCES_SQL, {
    channel_id: q.channel_id,
    ...periodParams(q.period),
    top: TOP,
    everyone: visible === null,
    visible: visible ?? [],
  });
  const out: Sources = { forwarded_from: [], mentions: [], link_domains: [], forwarded_by: [], official: [] };
  for (const row of rows) {
    const r = new RowReader(row, 'post_meta');
    const part = r.str('part');
    if (part === 'official') {
      out.official.push({
        metric: r.str('metric'),
        series: r.str('series'),
        total: r.float('total'),
        points: r.int('points'),
      });
    } else if (Object.hasOwn(COUNTED, part)) {
      out[part as keyof typeof COUNTED].push({ name: r.str('name'), posts: r.int('posts') });
    }
  }
  // A UNION keeps no order between or within its parts: restore each list's.
  for (const list of [out.forwarded_from, out.mentions, out.link_domains, out.forwarded_by]) {
    list.sort((a, b) => b.posts - a.posts || bytewise(a.name, b.name));
  }
  out.official.sort((a, b) => bytewise(a.metric, b.metric) || b.total - a.total || bytewise(a.series, b.series));
  return out;
}

/** Strings in ClickHouse's order (by UTF-8 bytes), so a list reads the same as ORDER BY gave it. */
function bytewise(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
