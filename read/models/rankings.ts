/**
 * Channels of the tracked corpus ranked over a period, by one figure:
 * - `citations`: the citation index (see citations.ts), from the citation
 *   edges; channels nobody cited in the period are left out;
 * - `growth`: net subscriber change (gained − lost in the hourly windows, as
 *   the overview counts it); channels without a subscriber snapshot in the
 *   period are left out;
 * - `err`: engagement rate by reach, the overview's: average current views of
 *   the posts published in the period over the subscribers at the period's
 *   last snapshot; channels without posts or subscribers are left out.
 * One query each over serving tables, for every channel at once.
 */
import { type Static, Type } from '@sinclair/typebox';
import { RowReader, type Warehouse } from '../../clickhouse/index.ts';
import { type ChannelHandle, CitationFigures, handleParams, inboundFiguresSql, readFigures } from './citations.ts';
import { periodParams } from './freshness.ts';
import type { Period } from './period.ts';
import { ratio } from './posts-sql.ts';
import { Count, Nullable } from './shape.ts';

export const RANKINGS = ['citations', 'growth', 'err'] as const;
export type RankingBy = (typeof RANKINGS)[number];

export const RankedChannel = Type.Object({
  rank: Type.Integer({ minimum: 1 }),
  channel_id: Type.String(),
  value: Type.Number({ description: 'the figure ranked by: citation index, net subscriber change, or ERR' }),
  citations: Type.Optional(CitationFigures),
  growth: Type.Optional(
    Type.Object({
      subscribers: Count,
      subscribers_change: Type.Number(),
      growth_rate: Nullable(Type.Number(), { description: 'change / subscribers at the start of the period' }),
    }),
  ),
  err: Type.Optional(
    Type.Object({
      subscribers: Count,
      posts: Count,
      reach_per_post: Type.Number({ description: 'average views per post published in the period' }),
    }),
  ),
});
export type RankedChannel = Static<typeof RankedChannel>;

/** A ranked channel before its rank is known. */
type Unranked = Omit<RankedChannel, 'rank'>;

export interface RankingQuery {
  by: RankingBy;
  period: Period;
  /** Only these channels (an API key's allow-list); null = the whole corpus. */
  ids: readonly string[] | null;
  /** Usernames of tracked channels, to resolve citations by username. */
  handles: readonly ChannelHandle[];
  limit: number;
}

/** In the corpus (channels the read side has data for) and in the allow-list when there is one. */
function inCorpus(column: string, ids: readonly string[] | null): string {
  return `${column} IN (SELECT channel_id FROM channel_sources)${ids === null ? '' : ` AND has({ids:Array(String)}, ${column})`}`;
}

/** Subscribers at the period's last snapshot and net change, per channel. */
function membersSql(ids: readonly string[] | null): string {
  return `
    SELECT 'members' AS part, channel_id, toInt64(sum(subscribers_gained)) - toInt64(sum(subscribers_lost)) AS change,
           toInt64(argMaxIf(assumeNotNull(members_last), window_start, members_last IS NOT NULL)) AS subscribers,
           toInt64(0) AS posts, toInt64(0) AS post_views
    FROM channel_hourly FINAL
    WHERE window_start >= {from:DateTime64(3, 'UTC')} AND window_start < {to:DateTime64(3, 'UTC')} AND ${inCorpus('channel_id', ids)}
    GROUP BY channel_id HAVING countIf(members_last IS NOT NULL) > 0`;
}

/** Posts published in the period (deleted ones left out) and their current views, per channel. */
function postsSql(ids: readonly string[] | null): string {
  return `
    SELECT 'posts' AS part, channel_id, toInt64(0), toInt64(0), toInt64(count()), toInt64(sum(views))
    FROM (
      SELECT ps.channel_id AS channel_id, ps.post_id, max(ps.date) AS date, argMaxMerge(ps.views) AS views,
             max(ps.deleted_at) AS deleted_at
      FROM post_summary AS ps WHERE ${inCorpus('ps.channel_id', ids)}
      GROUP BY ps.channel_id, ps.post_id
      HAVING date >= {from:DateTime64(3, 'UTC')} AND date < {to:DateTime64(3, 'UTC')} AND deleted_at IS NULL
    )
    GROUP BY channel_id`;
}

async function byCitations(wh: Warehouse, q: RankingQuery): Promise<Unranked[]> {
  const rows = await wh.query(inboundFiguresSql(inCorpus('cited', q.ids)), {
    ...periodParams(q.period),
    ...handleParams(q.handles),
    ...(q.ids === null ? {} : { ids: [...q.ids] }),
  });
  return rows.map((row) => {
    const r = new RowReader(row, 'citations');
    const citations = readFigures(r);
    return { channel_id: r.str('channel_id'), value: citations.index, citations };
  });
}

async function bySubscribers(wh: Warehouse, q: RankingQuery): Promise<Unranked[]> {
  const sql = q.by === 'growth' ? membersSql(q.ids) : `${membersSql(q.ids)} UNION ALL ${postsSql(q.ids)}`;
  const rows = await wh.query(sql, { ...periodParams(q.period), ...(q.ids === null ? {} : { ids: [...q.ids] }) });
  const members = new Map<string, { change: number; subscribers: number }>();
  const posts = new Map<string, { posts: number; views: number }>();
  for (const row of rows) {
    const r = new RowReader(row, 'channel_hourly');
    const id = r.str('channel_id');
    if (r.str('part') === 'members') members.set(id, { change: r.int('change'), subscribers: r.int('subscribers') });
    else posts.set(id, { posts: r.int('posts'), views: r.int('post_views') });
  }
  const out: Unranked[] = [];
  for (const [channel_id, m] of members) {
    if (q.by === 'growth') {
      const growth_rate = ratio(m.change, m.subscribers - m.change);
      out.push({
        channel_id,
        value: m.change,
        growth: { subscribers: m.subscribers, subscribers_change: m.change, growth_rate },
      });
      continue;
    }
    const p = posts.get(channel_id);
    const reach = p === undefined ? null : ratio(p.views, p.posts);
    const err = reach === null ? null : ratio(reach, m.subscribers);
    if (p === undefined || reach === null || err === null) continue;
    out.push({ channel_id, value: err, err: { subscribers: m.subscribers, posts: p.posts, reach_per_post: reach } });
  }
  return out;
}

/**
 * The top `limit` channels by `by` over the period, highest first (ties by
 * channel id), and how many channels were ranked.
 *
 * ```ts
 * const { total, channels } = await rankChannels(wh, { by: 'growth', period, ids: null, handles: [], limit: 20 });
 * ```
 */
export async function rankChannels(
  wh: Warehouse,
  q: RankingQuery,
): Promise<{ total: number; channels: RankedChannel[] }> {
  const all = q.by === 'citations' ? await byCitations(wh, q) : await bySubscribers(wh, q);
  all.sort((a, b) => b.value - a.value || (a.channel_id < b.channel_id ? -1 : a.channel_id > b.channel_id ? 1 : 0));
  return { total: all.length, channels: all.slice(0, q.limit).map((c, i) => ({ rank: i + 1, ...c })) };
}
