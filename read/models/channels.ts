/**
 * The channels the read side knows (every channel the warehouse has data
 * for), with their latest figures: subscribers, the last 24 hours of views
 * and posts, and open anomalies.
 */
import { channelMembers } from '../../clickhouse/serving.ts';
import { RowReader } from '../../clickhouse/row-reader.ts';
import { toChTime } from '../../clickhouse/values.ts';
import type { Warehouse } from '../../clickhouse/warehouse.ts';
import { provenanceOf, type Provenance } from './freshness.ts';

export interface ChannelListing {
  channel_id: string;
  sources: Provenance[];
  first_observed_at: number;
  data_updated_at: number;
  subscribers: number | null;
  subscribers_as_of: number | null;
  /** Views gained and posts published in the 24 hours before `now`. */
  views_24h: number;
  posts_24h: number;
  open_anomalies: number;
}

export interface ChannelPage {
  total: number;
  channels: ChannelListing[];
}

/**
 * One page of channels ordered by id.
 *
 * @param q.ids only these channels (an API key's allow-list); null = all
 */
export async function listChannels(
  wh: Warehouse,
  q: { ids: readonly string[] | null; limit: number; offset: number; now: number },
): Promise<ChannelPage> {
  const filter = q.ids === null ? '' : 'WHERE has({ids:Array(String)}, channel_id)';
  const idParams = q.ids === null ? {} : { ids: [...q.ids] };
  const [totalRows, pageRows] = await Promise.all([
    wh.query(`SELECT uniqExact(channel_id) AS n FROM channel_sources ${filter}`, idParams),
    wh.query(
      `SELECT channel_id, groupArray(source) AS source_list, groupArray(kind) AS kind_list,
              min(first_observed_at) AS first_observed_at, max(last_observed_at) AS last_observed_at
       FROM (
         SELECT channel_id, source, kind, min(first_observed_at) AS first_observed_at, max(last_observed_at) AS last_observed_at
         FROM channel_sources ${filter} GROUP BY channel_id, source, kind
       )
       GROUP BY channel_id ORDER BY channel_id
       LIMIT {limit:UInt32} OFFSET {offset:UInt32}`,
      { ...idParams, limit: q.limit, offset: q.offset },
    ),
  ]);
  const page = pageRows.map((row) => {
    const r = new RowReader(row, 'channel_sources');
    const kinds = r.strArray('kind_list');
    return {
      channel_id: r.str('channel_id'),
      sources: [...new Set(r.strArray('source_list').map((source, i) => provenanceOf(source, kinds[i])))].sort(),
      first_observed_at: r.time('first_observed_at'),
      data_updated_at: r.time('last_observed_at'),
    };
  });
  const ids = page.map((c) => c.channel_id);
  const [members, recent, open] = await Promise.all([
    channelMembers(wh, ids),
    wh.query(
      `SELECT channel_id, sum(views) AS views, sum(posts) AS posts FROM channel_hourly FINAL
       WHERE has({ids:Array(String)}, channel_id)
         AND window_start >= {since:DateTime64(3, 'UTC')} AND window_start < {now:DateTime64(3, 'UTC')}
       GROUP BY channel_id`,
      { ids, since: toChTime(q.now - 86_400_000), now: toChTime(q.now) },
    ),
    wh.query(
      `SELECT channel_id, count() AS n FROM anomalies FINAL
       WHERE has({ids:Array(String)}, channel_id) AND state != 'resolved' GROUP BY channel_id`,
      { ids },
    ),
  ]);
  const membersBy = new Map(members.map((m) => [m.channel_id, m]));
  const recentBy = new Map(
    recent.map((row) => {
      const r = new RowReader(row, 'channel_hourly');
      return [r.str('channel_id'), { views: r.int('views'), posts: r.int('posts') }];
    }),
  );
  const openBy = new Map(
    open.map((row) => {
      const r = new RowReader(row, 'anomalies');
      return [r.str('channel_id'), r.int('n')];
    }),
  );
  return {
    total: new RowReader(totalRows[0], 'channel_sources').int('n'),
    channels: page.map((c) => ({
      ...c,
      subscribers: membersBy.get(c.channel_id)?.members ?? null,
      subscribers_as_of: membersBy.get(c.channel_id)?.as_of ?? null,
      views_24h: recentBy.get(c.channel_id)?.views ?? 0,
      posts_24h: recentBy.get(c.channel_id)?.posts ?? 0,
      open_anomalies: openBy.get(c.channel_id) ?? 0,
    })),
  };
}
