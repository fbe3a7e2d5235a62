/**
 * The channels the read side knows (every channel the warehouse has data
 * for), with their latest figures: subscribers, the last 24 hours of views
 * and posts, and open anomalies.
 */
import { Type, type Static } from '@sinclair/typebox';
import { RowReader, toChTime, type Warehouse } from '../../clickhouse/index.ts';
import { Provenance, provenanceOf } from './freshness.ts';
import { Count, Nullable, Time } from './shape.ts';

export const ChannelListing = Type.Object({
  channel_id: Type.String(),
  title: Nullable(Type.String({ description: "the channel's title as a collector last saw it; null when unknown" })),
  username: Nullable(
    Type.String({ description: 'its public username without @; null when it has none or is unknown' }),
  ),
  sources: Type.Array(Provenance),
  first_observed_at: Time,
  data_updated_at: Time,
  subscribers: Nullable(Count),
  subscribers_as_of: Nullable(Time),
  views_24h: Type.Number({ description: 'views gained in the 24 hours before the answer' }),
  posts_24h: Type.Number({ description: 'posts published in the 24 hours before the answer' }),
  open_anomalies: Count,
});
export type ChannelListing = Static<typeof ChannelListing>;

/** Looks up channels' names (the control plane's registry; the warehouse keeps ids only). */
export type ChannelNameLookup = (
  ids: readonly string[],
) => Promise<ReadonlyMap<string, Pick<ChannelListing, 'title' | 'username'>>>;

export interface ChannelPage {
  total: number;
  channels: ChannelListing[];
}

/**
 * One page of channels ordered by id, in two queries: the page with the
 * total, then the latest figures of the page's channels (a UNION of three
 * parts, each a primary-key lookup of the listed ids).
 *
 * @param q.ids only these channels (an API key's allow-list); null = all
 * @param q.names the page's names, asked for alongside its figures
 */
export async function listChannels(
  wh: Warehouse,
  q: { ids: readonly string[] | null; limit: number; offset: number; now: number; names: ChannelNameLookup },
): Promise<ChannelPage> {
  const filter = q.ids === null ? '' : 'WHERE has({ids:Array(String)}, channel_id)';
  const pageRows = await wh.query(
    `SELECT 'channel' AS part, channel_id, groupArray(source) AS source_list, groupArray(kind) AS kind_list,
            min(first_observed_at) AS first_observed_at, max(last_observed_at) AS last_observed_at, toUInt64(0) AS total
     FROM (
       SELECT channel_id, source, kind, min(first_observed_at) AS first_observed_at, max(last_observed_at) AS last_observed_at
       FROM channel_sources ${filter} GROUP BY channel_id, source, kind
     )
     GROUP BY channel_id ORDER BY channel_id
     LIMIT {limit:UInt32} OFFSET {offset:UInt32}
     UNION ALL
     SELECT 'total', '', [], [], toDateTime64(0, 3, 'UTC'), toDateTime64(0, 3, 'UTC'), uniqExact(channel_id)
     FROM channel_sources ${filter}`,
    { ...(q.ids === null ? {} : { ids: [...q.ids] }), limit: q.limit, offset: q.offset },
  );
  let total = 0;
  const page: Omit<ChannelListing, keyof Figures | 'title' | 'username'>[] = [];
  for (const row of pageRows) {
    const r = new RowReader(row, 'channel_sources');
    if (r.str('part') === 'total') {
      total = r.int('total');
      continue;
    }
    const kinds = r.strArray('kind_list');
    page.push({
      channel_id: r.str('channel_id'),
      sources: [...new Set(r.strArray('source_list').map((source, i) => provenanceOf(source, kinds[i])))].sort(),
      first_observed_at: r.time('first_observed_at'),
      data_updated_at: r.time('last_observed_at'),
    });
  }
  // A UNION keeps no order between its parts.
  page.sort((a, b) => (a.channel_id < b.channel_id ? -1 : a.channel_id > b.channel_id ? 1 : 0));
  const ids = page.map((c) => c.channel_id);
  const [figures, names] =
    page.length === 0
      ? [new Map<string, Figures>(), new Map()]
      : await Promise.all([latestFigures(wh, ids, q.now), q.names(ids)]);
  return {
    total,
    channels: page.map((c) => {
      const f = figures.get(c.channel_id);
      const name = names.get(c.channel_id);
      return {
        channel_id: c.channel_id,
        title: name?.title ?? null,
        username: name?.username ?? null,
        sources: c.sources,
        first_observed_at: c.first_observed_at,
        data_updated_at: c.data_updated_at,
        subscribers: f?.subscribers ?? null,
        subscribers_as_of: f?.subscribers_as_of ?? null,
        views_24h: f?.views_24h ?? 0,
        posts_24h: f?.posts_24h ?? 0,
        open_anomalies: f?.open_anomalies ?? 0,
      };
    }),
  };
}

type Figures = Pick<ChannelListing, 'subscribers' | 'subscribers_as_of' | 'views_24h' | 'posts_24h' | 'open_anomalies'>;

/** Subscribers, the last 24 hours and open anomalies of the given channels: one query. */
async function latestFigures(wh: Warehouse, ids: string[], now: number): Promise<Map<string, Figures>> {
  const rows = await wh.query(
    `SELECT 'members' AS part, channel_id, toInt64(argMaxMerge(members)) AS n, max(as_of) AS as_of, toInt64(0) AS posts
     FROM channel_members_latest WHERE has({ids:Array(String)}, channel_id) GROUP BY channel_id
     UNION ALL
     SELECT 'recent', channel_id, toInt64(sum(views)), toDateTime64(0, 3, 'UTC'), toInt64(sum(posts)) FROM channel_hourly FINAL
     WHERE has({ids:Array(String)}, channel_id)
       AND window_start >= {since:DateTime64(3, 'UTC')} AND window_start < {now:DateTime64(3, 'UTC')}
     GROUP BY channel_id
     UNION ALL
     SELECT 'open', channel_id, toInt64(count()), toDateTime64(0, 3, 'UTC'), toInt64(0) FROM anomalies FINAL
     WHERE has({ids:Array(String)}, channel_id) AND state != 'resolved' GROUP BY channel_id`,
    { ids, since: toChTime(now - 86_400_000), now: toChTime(now) },
  );
  const out = new Map<string, Figures>();
  for (const row of rows) {
    const r = new RowReader(row, 'channel_hourly');
    const id = r.str('channel_id');
    const f = out.get(id) ?? {
      subscribers: null,
      subscribers_as_of: null,
      views_24h: 0,
      posts_24h: 0,
      open_anomalies: 0,
    };
    const part = r.str('part');
    if (part === 'members') {
      f.subscribers = r.int('n');
      f.subscribers_as_of = r.time('as_of');
    } else if (part === 'recent') {
      f.views_24h = r.int('n');
      f.posts_24h = r.int('posts');
    } else {
      f.open_anomalies = r.int('n');
    }
    out.set(id, f);
  }
  return out;
}
