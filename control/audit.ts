/**
 * The audit log: who changed what in the control plane. Rows are written in
 * the same transaction as the change they describe, so neither exists alone.
 */
import type { Pool } from 'pg';
import { epochMs, withTransaction, type Queryable } from './db.ts';
import { ControlError } from './errors.ts';

/** A JSON value, as stored in `audit_log.details`. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** What happened, as the caller records it. */
export interface AuditEvent {
  /** Who did it: an API key id, `cli`, `system`, a bot user. */
  actor: string;
  /** Dotted verb, e.g. `api_key.create`, `share_link.revoke`. */
  action: string;
  /** The id of what it happened to. */
  target?: string | null;
  /** Facts worth keeping; never secrets. */
  details?: Record<string, JsonValue>;
}

/** Who is acting, for the audit rows of a change. */
export interface Actor {
  /** Defaults to `system`. */
  actor?: string;
}

/** A recorded audit row. */
export interface AuditEntry {
  id: number;
  /** Epoch ms. */
  at: number;
  actor: string;
  action: string;
  target: string | null;
  details: Record<string, JsonValue>;
}

/**
 * Records one audit row. Pass the transaction's client so the row commits
 * with the change it describes.
 *
 * @example
 * await audit(client, { actor: 'cli', action: 'api_key.revoke', target: id });
 */
export async function audit(db: Queryable, event: AuditEvent): Promise<void> {
  await db.query('INSERT INTO audit_log (actor, action, target, details) VALUES ($1, $2, $3, $4::jsonb)', [
    event.actor,
    event.action,
    event.target ?? null,
    JSON.stringify(event.details ?? {}),
  ]);
}

interface AuditRow {
  id: string;
  at: Date;
  actor: string;
  action: string;
  target: string | null;
  details: Record<string, JsonValue>;
}

/** The newest audit rows first, at most `limit` (1..1000) of them. */
export async function listAudit(pool: Pool, opts: { limit: number }): Promise<AuditEntry[]> {
  if (!Number.isInteger(opts.limit) || opts.limit < 1 || opts.limit > 1000)
    throw new ControlError('limit', 'expected an integer from 1 to 1000');
  const { rows } = await pool.query<AuditRow>(
    'SELECT id, at, actor, action, target, details FROM audit_log ORDER BY id DESC LIMIT $1',
    [opts.limit],
  );
  // bigserial arrives as a string; a log row count stays far below 2^53.
  return rows.map((r) => ({
    id: Number(r.id),
    at: epochMs(r.at),
    actor: r.actor,
    action: r.action,
    target: r.target,
    details: r.details,
  }));
}

/**
 * Sets `revoked_at` on a row that is not revoked yet and audits it, in one
 * transaction; false when there was nothing to revoke. API keys and share
 * links are revoked the same way.
 */
export async function revokeAudited(
  pool: Pool,
  table: 'api_keys' | 'share_links',
  id: string,
  by: Actor,
): Promise<boolean> {
  const action = table === 'api_keys' ? 'api_key.revoke' : 'share_link.revoke';
  return withTransaction(pool, async (client) => {
    const { rowCount } = await client.query(
      `UPDATE ${table} SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`,
      [id],
    );
    if (!rowCount) return false;
    await audit(client, { actor: by.actor ?? 'system', action, target: id });
    return true;
  });
}
