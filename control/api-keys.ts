/**
 * API keys of the REST API: bearer tokens with scopes, an optional channel
 * allow-list and an optional rate limit.
 *
 * A token is `tgp_<id>_<secret>`. Only SHA-256 of the secret is stored: the
 * table alone cannot be used to call the API, and the token is shown once,
 * at creation. The id part lets verification find the row without scanning.
 */
import type { Pool } from 'pg';
import { audit, revokeAudited, type Actor } from './audit.ts';
import { ID_PATTERN, newId, newSecret, sameBytes, sha256Hex } from './crypto.ts';
import { epochMs, withTransaction } from './db.ts';
import { ControlError } from './errors.ts';
import { checkChannelId, checkInteger, checkSubset, checkText } from './validate.ts';

/**
 * What a key may do. `read`: analytics GETs and charts; `export`: CSV
 * export; `share`: create and revoke share links; `track`: send custom bot
 * events (`POST /v1/events`), and nothing else unless the key also has `read`.
 */
export const API_SCOPES = ['read', 'export', 'share', 'track'] as const;
/** One of API_SCOPES; derived from the list so the two cannot drift apart. */
export type ApiScope = (typeof API_SCOPES)[number];

/** An API key as the control plane knows it; never carries the secret. Times are epoch ms. */
export interface ApiKey {
  id: string;
  name: string;
  scopes: ApiScope[];
  /** Channel ids the key may read; null = all channels. */
  channels: string[] | null;
  /** Requests per minute; null = the API's default. */
  ratePerMinute: number | null;
  createdAt: number;
  revokedAt: number | null;
  lastUsedAt: number | null;
}

/** What a new key is for. */
export interface NewApiKey {
  /** A human label (1..100 characters), e.g. who holds the key. */
  name: string;
  scopes: ApiScope[];
  /** Omitted or null = all channels; otherwise a non-empty list of channel ids. */
  channels?: string[] | null;
  /** Omitted or null = the API's default; otherwise 1..1,000,000. */
  ratePerMinute?: number | null;
}

const TOKEN = new RegExp(`^tgp_(${ID_PATTERN})_([A-Za-z0-9_-]{43})$`);

interface ApiKeyRow {
  id: string;
  name: string;
  secret_hash: string;
  scopes: string[];
  channels: string[] | null;
  rate_per_minute: number | null;
  created_at: Date;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

const COLUMNS = 'id, name, secret_hash, scopes, channels, rate_per_minute, created_at, revoked_at, last_used_at';

function fromRow(r: ApiKeyRow): ApiKey {
  return {
    id: r.id,
    name: r.name,
    // Rows are only written through createApiKey, which checked the scopes.
    scopes: r.scopes as ApiScope[],
    channels: r.channels,
    ratePerMinute: r.rate_per_minute,
    createdAt: epochMs(r.created_at),
    revokedAt: epochMs(r.revoked_at),
    lastUsedAt: epochMs(r.last_used_at),
  };
}

function checkNewApiKey(input: NewApiKey): Required<NewApiKey> {
  const channels = input.channels ?? null;
  if (channels !== null && (!Array.isArray(channels) || channels.length === 0)) {
    throw new ControlError('channels', 'expected a non-empty list of channel ids, or null for all channels');
  }
  const rate = input.ratePerMinute ?? null;
  return {
    name: checkText('name', input.name, 1, 100),
    scopes: checkSubset('scopes', input.scopes, API_SCOPES),
    channels: channels && [...new Set(channels.map((c) => checkChannelId('channels', c)))],
    ratePerMinute: rate === null ? null : checkInteger('ratePerMinute', rate, 1, 1_000_000),
  };
}

/**
 * Creates a key and returns it with its token. The token is not stored and
 * cannot be recovered: hand it to the user now.
 *
 * @example
 * const { key, token } = await createApiKey(pool, { name: 'grafana', scopes: ['read'] }, { actor: 'cli' });
 */
export async function createApiKey(
  pool: Pool,
  input: NewApiKey,
  by: Actor = {},
): Promise<{ key: ApiKey; token: string }> {
  const valid = checkNewApiKey(input);
  const id = newId();
  const secret = newSecret();
  const row = await withTransaction(pool, async (client) => {
    const { rows } = await client.query<ApiKeyRow>(
      `INSERT INTO api_keys (id, name, secret_hash, scopes, channels, rate_per_minute) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
      [id, valid.name, sha256Hex(secret), valid.scopes, valid.channels, valid.ratePerMinute],
    );
    await audit(client, {
      actor: by.actor ?? 'system',
      action: 'api_key.create',
      target: id,
      details: { name: valid.name, scopes: valid.scopes, channels: valid.channels, ratePerMinute: valid.ratePerMinute },
    });
    return rows[0];
  });
  return { key: fromRow(row), token: `tgp_${id}_${secret}` };
}

/**
 * The key a bearer token belongs to, or null when the token is malformed,
 * unknown, has the wrong secret or was revoked. Callers check scopes and
 * channels on the result.
 */
export async function verifyApiKey(pool: Pool, token: string): Promise<ApiKey | null> {
  const match = TOKEN.exec(token);
  if (!match) return null;
  const [, id, secret] = match;
  const { rows } = await pool.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE id = $1`, [id]);
  const row = rows[0];
  if (!row || row.revoked_at !== null) return null;
  return sameBytes(Buffer.from(sha256Hex(secret), 'hex'), Buffer.from(row.secret_hash, 'hex')) ? fromRow(row) : null;
}

/** Every key, revoked ones included, oldest first. */
export async function listApiKeys(pool: Pool): Promise<ApiKey[]> {
  const { rows } = await pool.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM api_keys ORDER BY created_at, id`);
  return rows.map(fromRow);
}

/** Revokes a key at once; false when no such key exists or it was already revoked. */
export async function revokeApiKey(pool: Pool, id: string, by: Actor = {}): Promise<boolean> {
  return revokeAudited(pool, 'api_keys', id, by);
}

/** Records that a key was just used. A write per request is costly: callers may throttle it. */
export async function touchApiKey(pool: Pool, id: string): Promise<void> {
  await pool.query('UPDATE api_keys SET last_used_at = now() WHERE id = $1', [id]);
}
