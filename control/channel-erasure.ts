/**
 * Erasing a channel from the control plane (`tgpulse channels forget`), in
 * one transaction with its audit record: its registry row and the collectors'
 * rows about it (leases, memberships), the bot's grants, alert subscriptions
 * and deliveries, track requests and digests, share links, and its place in API keys' channel lists and
 * the accounts' lists of stale channels. Unlike `channels remove`, nothing is
 * kept for a later re-add: adding it again starts from nothing.
 *
 * The audit log keeps its history, with the channel replaced by its digest
 * (the sha256 of its id, see streams/forgotten.ts), and the forget itself is
 * recorded under that digest, so no row names the channel in clear. Before
 * committing, every table is searched for the id: what is still found (a table
 * this code does not know) is reported.
 *
 * ```ts
 * const erased = await eraseChannelFromControl(pool, { channelId: '1001234567', digest, actor: 'cli', details: {} });
 * ```
 */
import type { Pool, PoolClient } from 'pg';
import { audit, type JsonValue } from './audit.ts';
import { withTransaction } from './db.ts';
import { ControlError } from './errors.ts';

/** The audit action of a forget; its target is {@link digestTarget} of the channel. */
export const FORGET_ACTION = 'channel.forget';

/** What stands for a forgotten channel in the audit log. */
export function digestTarget(digest: string): string {
  return `sha256:${digest}`;
}

/** What erasing a channel from the control plane changed. */
export interface ControlErasure {
  /** Rows deleted, or edited to leave the channel out, by table; tables without any are absent. */
  rows: Record<string, number>;
  /** Rows of any table that still name the channel after the erasure (a table this code does not know). */
  remaining: Record<string, number>;
}

export interface ControlErasureInput {
  /** The bare channel id. */
  channelId: string;
  /** Its digest (streams' `channelDigest`): the audit log names it so. */
  digest: string;
  /** Who forgets it, for the audit record. */
  actor: string;
  /** What the forget did elsewhere (warehouse rows, NATS messages), for the audit record; never the id. */
  details: Record<string, JsonValue>;
}

/** Rows that belong to the channel: deleted. Leases and memberships first, they refer to the registry row. */
const OWNED = [
  'collector_leases',
  'channel_memberships',
  'tracked_channels',
  'channel_grants',
  'alert_subscriptions',
  'alert_deliveries',
  'alert_openings',
  'alert_webhooks',
  'share_links',
  'track_requests',
  'digest_deliveries',
  'digest_subscriptions',
] as const;

/** Lists that may name the channel among others: it is taken out of them. */
const LISTS = [
  { table: 'api_keys', column: 'channels' },
  { table: 'mtproto_accounts', column: 'stale_channels' },
] as const;

/** The id as a number of its own (also in its Bot API form `-100<id>`), as a POSIX regular expression. */
function namesChannel(channelId: string): string {
  return `(^|[^0-9])(-100)?${channelId}([^0-9]|$)`;
}

/**
 * A JSON value with every mention of the channel replaced: strings naming it
 * get the replacement in its place, a number equal to it becomes the
 * replacement. Returns the value unchanged (the same object) when nothing
 * named it.
 */
export function scrubJson(value: JsonValue, channelId: string, replacement: string): JsonValue {
  if (!/^[0-9]{1,20}$/.test(channelId)) throw new ControlError('channelId', 'expected a bare decimal channel id');
  // Lookarounds, so that mentions side by side ("1,1") are each replaced.
  const re = new RegExp(`(?<![0-9])(-100)?${channelId}(?![0-9])`, 'g');
  const scrub = (v: JsonValue): JsonValue => {
    if (typeof v === 'string') return v.replace(re, replacement);
    if (typeof v === 'number') return String(v) === channelId ? replacement : v;
    if (Array.isArray(v)) {
      const out = v.map(scrub);
      return out.some((x, i) => x !== v[i]) ? out : v;
    }
    if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v).map(([k, x]) => [k, scrub(x)] as const);
      return entries.some(([k, x]) => x !== v[k]) ? Object.fromEntries(entries) : v;
    }
    return v;
  };
  return scrub(value);
}

/**
 * Erases the channel from every control-plane table and records the forget
 * in the audit log, in one transaction.
 *
 * @throws ControlError when the id is not a bare decimal channel id.
 */
export async function eraseChannelFromControl(pool: Pool, input: ControlErasureInput): Promise<ControlErasure> {
  const { channelId, digest } = input;
  if (!/^[1-9][0-9]{0,19}$/.test(channelId))
    throw new ControlError('channelId', `expected a bare decimal channel id, got ${JSON.stringify(channelId)}`);
  if (!/^[0-9a-f]{64}$/.test(digest)) throw new ControlError('digest', 'expected the sha256 of the channel id, in hex');
  const ids = [channelId, `-100${channelId}`];
  return withTransaction(pool, async (client) => {
    const rows: Record<string, number> = {};
    const note = (table: string, n: number | null) => {
      if (n) rows[table] = (rows[table] ?? 0) + n;
    };
    for (const table of OWNED)
      note(table, (await client.query(`DELETE FROM ${table} WHERE channel_id = ANY($1::text[])`, [ids])).rowCount);
    for (const { table, column } of LISTS) {
      const { rowCount } = await client.query(
        `UPDATE ${table} SET ${column} = array_remove(array_remove(${column}, $1), $2) WHERE ${column} && $3::text[]`,
        [ids[0], ids[1], ids],
      );
      note(table, rowCount);
    }
    note('audit_log', await rewriteAudit(client, channelId, digestTarget(digest)));
    await audit(client, {
      actor: input.actor,
      action: FORGET_ACTION,
      target: digestTarget(digest),
      details: { ...input.details, control_rows: rows },
    });
    return { rows, remaining: await mentions(client, channelId) };
  });
}

/** When the channel was forgotten last (epoch ms), or null: `channels add` then knows to let it in again. */
export async function lastForgotten(pool: Pool, digest: string): Promise<number | null> {
  const { rows } = await pool.query<{ at: Date }>(
    'SELECT at FROM audit_log WHERE action = $1 AND target = $2 ORDER BY id DESC LIMIT 1',
    [FORGET_ACTION, digestTarget(digest)],
  );
  return rows.length ? rows[0].at.getTime() : null;
}

/**
 * Audit rows naming the channel keep their history with the digest in its
 * place; the channel's own rows (added, refreshed) also lose their details,
 * which describe it (username, title). Returns how many rows changed.
 */
async function rewriteAudit(client: PoolClient, channelId: string, replacement: string): Promise<number> {
  const { rows } = await client.query<{ id: string; target: string | null; details: Record<string, JsonValue> }>(
    'SELECT id, target, details FROM audit_log WHERE target ~ $1 OR details::text ~ $1',
    [namesChannel(channelId)],
  );
  for (const r of rows) {
    const own = r.target === channelId;
    const target = r.target === null ? null : (scrubJson(r.target, channelId, replacement) as string);
    const details = own ? {} : scrubJson(r.details, channelId, replacement);
    await client.query('UPDATE audit_log SET target = $2, details = $3::jsonb WHERE id = $1', [
      r.id,
      target,
      JSON.stringify(details),
    ]);
  }
  return rows.length;
}

/** Rows of every table that name the channel anywhere (as JSON text), by table. */
async function mentions(client: PoolClient, channelId: string): Promise<Record<string, number>> {
  const { rows: tables } = await client.query<{ name: string }>(
    "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
  );
  const found: Record<string, number> = {};
  for (const { name } of tables) {
    const { rows } = await client.query<{ n: string }>(
      `SELECT count(*) AS n FROM "${name.replace(/"/g, '""')}" AS t WHERE row_to_json(t)::text ~ $1`,
      [namesChannel(channelId)],
    );
    if (Number(rows[0].n)) found[name] = Number(rows[0].n);
  }
  return found;
}
