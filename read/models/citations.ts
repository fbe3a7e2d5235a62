/**
 * The citation index: who forwards and names whom across the tracked
 * corpus, read from the `citations` edges (clickhouse/migrations/007), one
 * per citing post and cited channel, so no figure is recomputed from posts.
 *
 * The warehouse keeps a citation by username as `@username`; the caller
 * hands in the usernames it knows (the control plane's tracked channels),
 * and each query resolves them to channel ids, so a username that moves to
 * another channel moves its citations with it.
 *
 * Figures of a cited channel over a period (citing posts published in it):
 * - `citing_posts`: distinct posts of other channels that cite it, each once,
 *   however many ways it does (`forwards` + `mentions` can exceed it);
 * - `forwards`: of those, the forwards of its posts; `mentions`: those naming
 *   it by @username or t.me link;
 * - `citing_channels`: distinct channels among them;
 * - `index`: Σ over citing channels c of `log10(10 + reach(c)) × (1 + ln n(c))`,
 *   where reach(c) is c's latest subscriber count (0 when unknown) and n(c)
 *   the posts of c citing it. A citing channel counts 1 at 0 subscribers and
 *   one more per tenfold audience (≈3 at 1 000, 6 at 1 000 000), and its
 *   repeated citations add less and less: breadth and audience weigh more
 *   than one channel citing often.
 */
import { type Static, Type } from '@sinclair/typebox';
import { RowReader, type Warehouse } from '../../clickhouse/index.ts';
import { periodParams } from './freshness.ts';
import type { Period } from './period.ts';
import { Count } from './shape.ts';

/** A tracked channel's public username (without `@`), so citations by username resolve to its id. */
export interface ChannelHandle {
  channel_id: string;
  username: string;
}

export const CitationFigures = Type.Object({
  citing_posts: Type.Number({ description: 'posts of other channels citing it (each counted once)' }),
  forwards: Type.Number({ description: 'citing posts that forward one of its posts' }),
  mentions: Type.Number({ description: 'citing posts that name it (@username, t.me link)' }),
  citing_channels: Type.Number({ description: 'distinct channels citing it' }),
  index: Type.Number({
    description: 'Σ over citing channels of log10(10 + subscribers) × (1 + ln posts citing it)',
  }),
});
export type CitationFigures = Static<typeof CitationFigures>;

const CitationLink = Type.Object({
  channel: Type.String({
    description: 'channel id, or @username for a cited channel the warehouse knows by its username only',
  }),
  posts: Count,
  forwards: Count,
  mentions: Count,
});

export const ChannelCitations = Type.Object({
  inbound: CitationFigures,
  cited_by: Type.Array(CitationLink, { description: 'channels citing this one, most citing posts first' }),
  cites: Type.Array(CitationLink, { description: 'channels this one cites, most citing posts first' }),
});
export type ChannelCitations = Static<typeof ChannelCitations>;

/** Query parameters that resolve usernames: `{handles}` (as `@name`, lower case) and `{handle_ids}`. */
export function handleParams(handles: readonly ChannelHandle[]): { handles: string[]; handle_ids: string[] } {
  return {
    handles: handles.map((h) => `@${h.username.toLowerCase()}`),
    handle_ids: handles.map((h) => h.channel_id),
  };
}

/**
 * One row per cited channel, citing channel and citing post published in the
 * period, usernames resolved: `cited`, `citing`, `post`, `fwd`, `men` (0/1).
 * FINAL collapses every copy of an edge; the GROUP BY merges the edges of a
 * post that cites one channel both by id and by username.
 */
export const CITATION_EDGES_SQL = `
  SELECT transform(cited_channel_id, {handles:Array(String)}, {handle_ids:Array(String)}, cited_channel_id) AS cited,
         citing_channel_id AS citing, citing_post_id AS post, max(forwarded) AS fwd, max(mentioned) AS men
  FROM citations FINAL
  WHERE date >= {from:DateTime64(3, 'UTC')} AND date < {to:DateTime64(3, 'UTC')}
  GROUP BY cited, citing, post
  HAVING cited != citing`;

/**
 * Inbound figures per cited channel (`channel_id`, then the columns of
 * {@link CitationFigures}); `condition` is a fixed SQL condition on `cited`.
 */
export function inboundFiguresSql(condition: string): string {
  return `
  SELECT pairs.cited AS channel_id, toUInt64(sum(pairs.n)) AS citing_posts, toUInt64(sum(pairs.f)) AS forwards,
         toUInt64(sum(pairs.m)) AS mentions, toUInt64(count()) AS citing_channels,
         sum(log10(10 + reach.subscribers) * (1 + log(pairs.n))) AS index
  FROM (
    SELECT cited, citing, count() AS n, sum(fwd) AS f, sum(men) AS m FROM (${CITATION_EDGES_SQL})
    WHERE ${condition} GROUP BY cited, citing
  ) AS pairs
  LEFT JOIN (
    SELECT channel_id, toFloat64(argMaxMerge(members)) AS subscribers FROM channel_members_latest GROUP BY channel_id
  ) AS reach ON reach.channel_id = pairs.citing
  GROUP BY pairs.cited`;
}

/** Figures of one row of {@link inboundFiguresSql}. */
export function readFigures(r: RowReader): CitationFigures {
  return {
    citing_posts: r.int('citing_posts'),
    forwards: r.int('forwards'),
    mentions: r.int('mentions'),
    citing_channels: r.int('citing_channels'),
    index: r.float('index'),
  };
}

const NO_CITATIONS: CitationFigures = { citing_posts: 0, forwards: 0, mentions: 0, citing_channels: 0, index: 0 };

/** Longest list of each direction. */
const TOP = 100;

/**
 * A channel's citations over a period, both directions, in one query: its
 * inbound figures, who cites it and whom it cites. The figures count every
 * citing channel; the lists show only `visible` channels (an API key's
 * allow-list; null = all, untracked channels and unresolved usernames too).
 *
 * ```ts
 * await channelCitations(wh, { channel_id: '1001', period, handles: [{ channel_id: '1002', username: 'news' }], visible: null });
 * ```
 */
export async function channelCitations(
  wh: Warehouse,
  q: { channel_id: string; period: Period; handles: readonly ChannelHandle[]; visible: readonly string[] | null },
): Promise<ChannelCitations> {
  const shown = (column: string) => (q.visible === null ? 'true' : `has({visible:Array(String)}, ${column})`);
  const link = (part: string, self: string, other: string) => `
    SELECT '${part}' AS part, channel, posts, forwards, mentions, toUInt64(0) AS citing_posts, toUInt64(0) AS citing_channels, toFloat64(0) AS index
    FROM (
      SELECT ${other} AS channel, toUInt64(count()) AS posts, toUInt64(sum(fwd)) AS forwards, toUInt64(sum(men)) AS mentions
      FROM (${CITATION_EDGES_SQL}) WHERE ${self} = {channel_id:String} AND ${shown(other)}
      GROUP BY channel ORDER BY posts DESC, channel LIMIT {top:UInt32}
    )`;
  const rows = await wh.query(
    `SELECT 'inbound' AS part, '' AS channel, toUInt64(0) AS posts, forwards, mentions, citing_posts, citing_channels, index
     FROM (${inboundFiguresSql('cited = {channel_id:String}')})
     UNION ALL ${link('cited_by', 'cited', 'citing')}
     UNION ALL ${link('cites', 'citing', 'cited')}`,
    {
      channel_id: q.channel_id,
      ...periodParams(q.period),
      ...handleParams(q.handles),
      ...(q.visible === null ? {} : { visible: [...q.visible] }),
      top: TOP,
    },
  );
  const out: ChannelCitations = { inbound: { ...NO_CITATIONS }, cited_by: [], cites: [] };
  for (const row of rows) {
    const r = new RowReader(row, 'citations');
    const part = r.str('part');
    if (part === 'inbound') out.inbound = readFigures(r);
    else if (part === 'cited_by' || part === 'cites')
      out[part].push({
        channel: r.str('channel'),
        posts: r.int('posts'),
        forwards: r.int('forwards'),
        mentions: r.int('mentions'),
      });
  }
  // A UNION keeps no order between or within its parts.
  for (const list of [out.cited_by, out.cites])
    list.sort((a, b) => b.posts - a.posts || (a.channel < b.channel ? -1 : a.channel > b.channel ? 1 : 0));
  return out;
}
