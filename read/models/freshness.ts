/**
 * Freshness and provenance of a channel's data: which sources delivered what,
 * when it was last observed, and up to when its hourly windows are final.
 * Every analytics answer carries this block so a reader can tell a quiet
 * channel from a stalled collector, and a final figure from a growing one.
 */
import { Type, type Static } from '@sinclair/typebox';
import { RowReader, toChTime, type Warehouse } from '../../clickhouse/index.ts';
import type { Period } from './period.ts';
import { Time } from './shape.ts';

/** Where data came from, as a reader names it. Official statistics read over MTProto are told apart from other MTProto data. */
export const Provenance = Type.Union([
  Type.Literal('mtproto'),
  Type.Literal('official_stats'),
  Type.Literal('simulator'),
  Type.Literal('replay'),
  Type.Literal('botapi'),
]);
export type Provenance = Static<typeof Provenance>;

export interface SourceFreshness {
  source: Provenance;
  /** Raw kinds this source delivered for the channel. */
  kinds: string[];
  first_observed_at: number;
  last_observed_at: number;
}

export interface ChannelFreshness {
  channel_id: string;
  /** Latest observation of anything about the channel (epoch ms). */
  data_updated_at: number;
  sources: SourceFreshness[];
  /** Hourly windows ending at or before this time are final; null when none is yet. */
  final_until: number | null;
}

/** The block every analytics answer carries. */
export const AnswerMeta = Type.Object({
  channel_id: Type.String(),
  from: Time,
  to: Time,
  data_updated_at: Type.Number({ description: 'latest observation of anything about the channel (epoch ms)' }),
  sources: Type.Array(Provenance, { description: 'where the channel data came from' }),
  window_open: Type.Boolean({ description: 'part of the period is not final yet: figures may still grow' }),
});
export type AnswerMeta = Static<typeof AnswerMeta>;

/** Provenance label of a raw (source, kind) pair: Telegram's official statistics are named apart from other MTProto reads. */
export function provenanceOf(source: string, kind: string): Provenance {
  if (source === 'mtproto' && kind === 'channel_stats') return 'official_stats';
  if (source === 'mtproto' || source === 'simulator' || source === 'replay' || source === 'botapi') return source;
  throw new TypeError(`unknown source ${JSON.stringify(source)}`);
}

/**
 * Sources per (channel, source, kind) with the channel's final_until, for the
 * channels a fixed condition on `channel_id` selects (never input: values go
 * in as parameters). One query, on two tables of a few rows per channel.
 */
function freshnessSql(condition: string): string {
  return `
    SELECT s.channel_id AS channel_id, s.source AS source, s.kind AS kind,
           s.first_observed_at AS first_observed_at, s.last_observed_at AS last_observed_at,
           f.final_until AS final_until
    FROM (
      SELECT channel_id, source, kind, min(first_observed_at) AS first_observed_at, max(last_observed_at) AS last_observed_at
      FROM channel_sources WHERE ${condition}
      GROUP BY channel_id, source, kind
    ) AS s
    LEFT JOIN (
      SELECT channel_id, max(final_until) AS final_until FROM channel_final_until WHERE ${condition} GROUP BY channel_id
    ) AS f ON f.channel_id = s.channel_id
    ORDER BY channel_id, source, kind
    SETTINGS join_use_nulls = 1`;
}

/** Fold freshness rows (ordered by channel) into one entry per channel. */
function foldFreshness(rows: readonly Record<string, unknown>[]): Map<string, ChannelFreshness> {
  const byChannel = new Map<string, ChannelFreshness>();
  for (const row of rows) {
    const r = new RowReader(row, 'channel_sources');
    const channelId = r.str('channel_id');
    const kind = r.str('kind');
    const source = provenanceOf(r.str('source'), kind);
    const first = r.time('first_observed_at');
    const last = r.time('last_observed_at');
    let f = byChannel.get(channelId);
    if (!f) {
      f = { channel_id: channelId, data_updated_at: last, sources: [], final_until: r.timeOrNull('final_until') };
      byChannel.set(channelId, f);
    }
    f.data_updated_at = Math.max(f.data_updated_at, last);
    const seen = f.sources.find((s) => s.source === source);
    if (seen) {
      seen.kinds.push(kind);
      seen.first_observed_at = Math.min(seen.first_observed_at, first);
      seen.last_observed_at = Math.max(seen.last_observed_at, last);
    } else {
      f.sources.push({ source, kinds: [kind], first_observed_at: first, last_observed_at: last });
    }
  }
  return byChannel;
}

/** Freshness of one channel, or null when the warehouse has never seen it. One query. */
export async function channelFreshness(wh: Warehouse, channelId: string): Promise<ChannelFreshness | null> {
  const rows = await wh.query(freshnessSql('channel_id = {channel_id:String}'), { channel_id: channelId });
  return foldFreshness(rows).get(channelId) ?? null;
}

/** Freshness of every channel the warehouse knows, by channel id. One query. */
export async function allFreshness(wh: Warehouse): Promise<Map<string, ChannelFreshness>> {
  return foldFreshness(await wh.query(freshnessSql('true')));
}

/** The meta block of an answer about `period` of a channel. */
export function answerMeta(f: ChannelFreshness, period: Period): AnswerMeta {
  return {
    channel_id: f.channel_id,
    from: period.from,
    to: period.to,
    data_updated_at: f.data_updated_at,
    sources: f.sources.map((s) => s.source),
    window_open: f.final_until === null || period.to > f.final_until,
  };
}

/** Channels the warehouse knows, among `ids` (all when `ids` is null). */
export async function knownChannels(wh: Warehouse, ids: readonly string[] | null): Promise<Set<string>> {
  const rows = await wh.query(
    `SELECT DISTINCT channel_id FROM channel_sources
     ${ids === null ? '' : 'WHERE has({ids:Array(String)}, channel_id)'}`,
    ids === null ? {} : { ids: [...ids] },
  );
  return new Set(rows.map((row) => new RowReader(row, 'channel_sources').str('channel_id')));
}

/** `DateTime64` parameters of a period. */
export function periodParams(p: Period): { from: string; to: string } {
  return { from: toChTime(p.from), to: toChTime(p.to) };
}
