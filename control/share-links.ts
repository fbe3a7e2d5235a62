/**
 * Share links: a public, read-only view of one channel's report for one
 * period, until an expiry, without an API key.
 *
 * A token is `<id>.<exp>.<sig>`, `exp` in epoch seconds and `sig` the
 * base64url HMAC-SHA256 of `<id>.<exp>` under the deployment's share secret.
 * The signature is checked before the database is asked, so forged tokens
 * cost nothing; the row exists for revocation and for what the link shows.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import { audit, revokeAudited, type Actor } from './audit.ts';
import { ID_PATTERN, newId, sameBytes } from './crypto.ts';
import { epochMs, withTransaction } from './db.ts';
import { ControlError } from './errors.ts';
import { checkChannelId, checkInteger, checkSubset } from './validate.ts';

/** A link shows sections of a channel report. */
import { REPORT_SECTIONS as SHARE_SECTIONS, type ReportSection as ShareSection } from '../common/index.ts';
export { SHARE_SECTIONS, type ShareSection };

/** Shortest and longest life of a link, in seconds. */
export const SHARE_TTL_SECONDS = { min: 60, max: 90 * 86_400 } as const;

/** A share link. Times are epoch ms. */
export interface ShareLink {
  id: string;
  channelId: string;
  /** The period shown: from (inclusive) to (exclusive). */
  from: number;
  to: number;
  sections: ShareSection[];
  /** The API key that made it; null when made by an operator. */
  createdBy: string | null;
  createdAt: number;
  expiresAt: number;
  revokedAt: number | null;
}

/** What a new link shows and for how long. */
export interface NewShareLink {
  channelId: string;
  from: number;
  to: number;
  sections: ShareSection[];
  /** Seconds until the link expires (60 s .. 90 days). */
  ttlSeconds: number;
  /** The API key creating it, recorded as the actor too; null for an operator. */
  createdBy: string | null;
}

/** Why a token did not resolve. */
export type ShareRefusal = 'malformed' | 'bad_signature' | 'unknown' | 'expired' | 'revoked';

const TOKEN = new RegExp(`^(${ID_PATTERN})\\.([0-9]{1,12})\\.([A-Za-z0-9_-]{43})$`);
const SECRET_NAME = 'share_hmac';
const MIN_SECRET_BYTES = 32;

interface ShareLinkRow {
  id: string;
  channel_id: string;
  period_from: Date;
  period_to: Date;
  sections: string[];
  created_by: string | null;
  created_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
}

const COLUMNS = 'id, channel_id, period_from, period_to, sections, created_by, created_at, expires_at, revoked_at';

function fromRow(r: ShareLinkRow): ShareLink {
  return {
    id: r.id,
    channelId: r.channel_id,
    from: epochMs(r.period_from),
    to: epochMs(r.period_to),
    // Rows are only written through createShareLink, which checked the sections.
    sections: r.sections as ShareSection[],
    createdBy: r.created_by,
    createdAt: epochMs(r.created_at),
    expiresAt: epochMs(r.expires_at),
    revokedAt: epochMs(r.revoked_at),
  };
}

function sign(secret: Buffer, id: string, exp: number): Buffer {
  if (secret.length < MIN_SECRET_BYTES)
    throw new ControlError('secret', `expected at least ${MIN_SECRET_BYTES} bytes of share secret`);
  return createHmac('sha256', secret).update(`${id}.${exp}`).digest();
}

function checkPeriod(from: unknown, to: unknown): { from: number; to: number } {
  const start = checkInteger('from', from, 0, 8.64e15);
  const end = checkInteger('to', to, 0, 8.64e15);
  if (end <= start) throw new ControlError('to', 'expected a time after from');
  return { from: start, to: end };
}

/**
 * Creates a link and returns it with its token (the token can be made again
 * only with the secret, so hand it out now).
 *
 * @example
 * const secret = await shareSecret(pool, config.control.shareSecret);
 * const { token } = await createShareLink(pool, secret, { channelId: '-1001', from, to, sections: ['overview'], ttlSeconds: 86_400, createdBy: key.id });
 */
export async function createShareLink(
  pool: Pool,
  secret: Buffer,
  input: NewShareLink,
  now: number = Date.now(),
): Promise<{ link: ShareLink; token: string }> {
  const channelId = checkChannelId('channelId', input.channelId);
  const { from, to } = checkPeriod(input.from, input.to);
  const sections = checkSubset('sections', input.sections, SHARE_SECTIONS);
  const ttl = checkInteger('ttlSeconds', input.ttlSeconds, SHARE_TTL_SECONDS.min, SHARE_TTL_SECONDS.max);
  const createdBy = input.createdBy ?? null;
  const id = newId();
  // Whole seconds, so the expiry in the token and in the row are the same instant.
  const exp = Math.floor(now / 1000) + ttl;
  const signature = sign(secret, id, exp).toString('base64url');
  const row = await withTransaction(pool, async (client) => {
    const { rows } = await client
      .query<ShareLinkRow>(
        `INSERT INTO share_links (id, channel_id, period_from, period_to, sections, created_by, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, to_timestamp($7)) RETURNING ${COLUMNS}`,
        [id, channelId, new Date(from), new Date(to), sections, createdBy, exp],
      )
      .catch((err: unknown) => {
        // 23503: the creating key does not exist.
        if ((err as { code?: string }).code === '23503')
          throw new ControlError('createdBy', `no API key with id ${JSON.stringify(createdBy)}`, { cause: err });
        throw err;
      });
    await audit(client, {
      actor: createdBy ?? 'system',
      action: 'share_link.create',
      target: id,
      details: { channelId, from, to, sections, expiresAt: exp * 1000 },
    });
    return rows[0];
  });
  return { link: fromRow(row), token: `${id}.${exp}.${signature}` };
}

/**
 * What a share token grants, or why it grants nothing. A link is expired
 * when either its token or its row says so, whichever is earlier.
 */
export async function resolveShareToken(
  pool: Pool,
  secret: Buffer,
  token: string,
  now: number = Date.now(),
): Promise<{ ok: true; link: ShareLink } | { ok: false; reason: ShareRefusal }> {
  const match = TOKEN.exec(token);
  if (!match) return { ok: false, reason: 'malformed' };
  const [, id, expText, signature] = match;
  const exp = Number(expText);
  // Compare the text, not the decoded bytes: base64url's last character carries
  // spare bits, so decoding would accept a token with that character changed.
  if (!sameBytes(Buffer.from(signature), Buffer.from(sign(secret, id, exp).toString('base64url'))))
    return { ok: false, reason: 'bad_signature' };
  if (now >= exp * 1000) return { ok: false, reason: 'expired' };
  const link = await findShareLink(pool, id);
  if (link === null) return { ok: false, reason: 'unknown' };
  if (link.revokedAt !== null) return { ok: false, reason: 'revoked' };
  if (now >= link.expiresAt) return { ok: false, reason: 'expired' };
  return { ok: true, link };
}

/** A link by its id, revoked and expired ones included; null when there is none. */
export async function findShareLink(pool: Pool, id: string): Promise<ShareLink | null> {
  const { rows } = await pool.query<ShareLinkRow>(`SELECT ${COLUMNS} FROM share_links WHERE id = $1`, [id]);
  return rows.length === 0 ? null : fromRow(rows[0]);
}

/** Revokes a link at once; false when no such link exists or it was already revoked. */
export async function revokeShareLink(pool: Pool, id: string, by: Actor = {}): Promise<boolean> {
  return revokeAudited(pool, 'share_links', id, by);
}

/**
 * The HMAC key of share links. A configured secret wins; otherwise one is
 * generated on first use and kept in `control_secrets`, and every process of
 * the deployment reads the same one (the insert of a racing process is a
 * no-op, and both read the row that won). Callers should keep the result.
 */
export async function shareSecret(pool: Pool, configured?: string): Promise<Buffer> {
  if (configured !== undefined && configured !== '') return Buffer.from(configured, 'utf8');
  await pool.query('INSERT INTO control_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [
    SECRET_NAME,
    randomBytes(MIN_SECRET_BYTES).toString('base64url'),
  ]);
  const { rows } = await pool.query<{ value: string }>('SELECT value FROM control_secrets WHERE name = $1', [
    SECRET_NAME,
  ]);
  const secret = Buffer.from(rows[0].value, 'base64url');
  if (secret.length < MIN_SECRET_BYTES) {
    throw new Error(
      `control_secrets '${SECRET_NAME}' holds fewer than ${MIN_SECRET_BYTES} bytes: delete the row to generate a new one (existing share links stop working)`,
    );
  }
  return secret;
}
