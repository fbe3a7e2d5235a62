/**
 * Pseudonymous user ids of custom bot events: a bot reports its Telegram
 * user ids, and only an HMAC-SHA256 of them under a per-deployment salt is
 * kept (in NATS and in the warehouse). The salt is generated once, kept in
 * `control_secrets` (so backups carry it and every process agrees on it),
 * and never leaves the control plane: without it a stored hash cannot be
 * matched against the small space of Telegram user ids.
 *
 * The hash also covers the bot id, so one person's events in two bots of
 * the deployment cannot be joined by their hashes.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { Pool } from 'pg';

const SALT_NAME = 'bot_user_salt';
const SALT_BYTES = 32;

/**
 * The deployment's salt of bot user ids: read from `control_secrets`, or
 * generated and stored on first use (a racing process's insert is a no-op
 * and both read the row that won). Callers should keep the result.
 *
 * @example
 * const salt = await botUserSalt(pool);
 * const user = hashBotUserId(salt, '123456789', '42');
 */
export async function botUserSalt(pool: Pool): Promise<Buffer> {
  const added = await pool.query<{ value: string }>(
    'INSERT INTO control_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING value',
    [SALT_NAME, randomBytes(SALT_BYTES).toString('base64url')],
  );
  // Not ours: read the row that won, in a statement of its own (one statement's snapshot may predate a racing commit).
  const { rows } = added.rows.length
    ? added
    : await pool.query<{ value: string }>('SELECT value FROM control_secrets WHERE name = $1', [SALT_NAME]);
  const salt = Buffer.from(rows[0]?.value ?? '', 'base64url');
  if (salt.length < SALT_BYTES) {
    throw new Error(
      `control_secrets '${SALT_NAME}' holds fewer than ${SALT_BYTES} bytes: restore it from a backup ` +
        '(deleting it makes a new salt, and every bot user then counts as new)',
    );
  }
  return salt;
}

/**
 * The stored form of a bot's user id: the first 64 bits of
 * HMAC-SHA256(salt, `<bot id>:<user id>`) as a decimal string, the shape the
 * event contract gives user ids. Deterministic, so the same user keeps one
 * id across batches and restarts.
 */
export function hashBotUserId(salt: Buffer, botId: string, userId: string): string {
  return createHmac('sha256', salt).update(`${botId}:${userId}`).digest().readBigUInt64BE(0).toString();
}
