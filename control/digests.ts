/**
 * Digest subscriptions (`/digest daily|weekly`) and their ledger: one row per
 * subscription and period, claimed before the digest is sent, so a period is
 * sent at most once whatever restarts or how many bot processes run. What to
 * send when is decided in bot/digests/; this file only keeps the records.
 */
import type { Pool } from 'pg';
import { audit } from './audit.ts';
import { epochMs, withTransaction } from './db.ts';
import { ControlError } from './errors.ts';

/** How often a digest comes: every day, or every week (on Mondays). */
export type DigestCadence = 'daily' | 'weekly';

/** A chat's digest of one channel. Times are epoch ms. */
export interface DigestSubscription {
  id: number;
  chatId: string;
  channelId: string;
  cadence: DigestCadence;
  /** IANA time zone the periods are cut in. */
  timeZone: string;
  /** The bot user who subscribed; the digest goes out only while they may see the channel. */
  createdBy: string;
  /** Periods that ended before this are never sent (no digest of the past on subscribing). */
  createdAt: number;
}

interface DigestRow {
  id: string;
  chat_id: string;
  channel_id: string;
  cadence: DigestCadence;
  time_zone: string;
  created_by: string;
  created_at: Date;
}

const COLUMNS = 'id, chat_id, channel_id, cadence, time_zone, created_by, created_at';

function digestOf(r: DigestRow): DigestSubscription {
  return {
    id: Number(r.id),
    chatId: r.chat_id,
    channelId: r.channel_id,
    cadence: r.cadence,
    timeZone: r.time_zone,
    createdBy: r.created_by,
    createdAt: epochMs(r.created_at),
  };
}

/**
 * Subscribes a chat to a channel's digest. The same request again changes
 * nothing; another cadence or time zone replaces the subscription (a new id,
 * so the old one's ledger cannot hide a period of the new one).
 */
export async function upsertDigest(
  pool: Pool,
  d: {
    chatId: string;
    channelId: string;
    cadence: DigestCadence;
    timeZone: string;
    createdBy: string;
    /** When it is made, by the caller's clock (its periods are due by the same clock). Default now. */
    at?: number;
  },
): Promise<DigestSubscription> {
  if (d.cadence !== 'daily' && d.cadence !== 'weekly')
    throw new ControlError('cadence', `expected daily or weekly, got ${JSON.stringify(d.cadence)}`);
  return withTransaction(pool, async (client) => {
    const { rows: before } = await client.query<DigestRow>(
      `SELECT ${COLUMNS} FROM digest_subscriptions WHERE chat_id = $1 AND channel_id = $2 FOR UPDATE`,
      [d.chatId, d.channelId],
    );
    const same = before[0];
    if (same !== undefined && same.cadence === d.cadence && same.time_zone === d.timeZone) return digestOf(same);
    if (same !== undefined) await client.query('DELETE FROM digest_subscriptions WHERE id = $1', [same.id]);
    const { rows } = await client.query<DigestRow>(
      `INSERT INTO digest_subscriptions (chat_id, channel_id, cadence, time_zone, created_by, created_at)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
      [d.chatId, d.channelId, d.cadence, d.timeZone, d.createdBy, new Date(d.at ?? Date.now())],
    );
    await audit(client, {
      actor: `bot_user:${d.createdBy}`,
      action: 'digest.subscribe',
      target: `${d.chatId}/${d.channelId}`,
      details: { cadence: d.cadence, timeZone: d.timeZone },
    });
    return digestOf(rows[0]);
  });
}

/** A chat's digests, by channel. */
export async function chatDigests(pool: Pool, chatId: string): Promise<DigestSubscription[]> {
  const { rows } = await pool.query<DigestRow>(
    `SELECT ${COLUMNS} FROM digest_subscriptions WHERE chat_id = $1 ORDER BY channel_id`,
    [chatId],
  );
  return rows.map(digestOf);
}

/** Stops a chat's digests (of one channel, or all); returns how many stopped. */
export async function removeDigests(
  pool: Pool,
  r: { chatId: string; channelId: string | null; by: string },
): Promise<number> {
  return withTransaction(pool, async (client) => {
    const { rowCount } = await client.query(
      'DELETE FROM digest_subscriptions WHERE chat_id = $1 AND ($2::text IS NULL OR channel_id = $2)',
      [r.chatId, r.channelId],
    );
    if (rowCount)
      await audit(client, {
        actor: r.by,
        action: 'digest.unsubscribe',
        target: r.channelId === null ? r.chatId : `${r.chatId}/${r.channelId}`,
        details: { removed: rowCount },
      });
    return rowCount ?? 0;
  });
}

/** Every digest whose subscriber may still see its channel (a grant, or a bot admin). */
export async function activeDigests(pool: Pool): Promise<DigestSubscription[]> {
  const { rows } = await pool.query<DigestRow>(
    `SELECT d.* FROM digest_subscriptions d
     WHERE EXISTS (SELECT 1 FROM channel_grants g WHERE g.user_id = d.created_by AND g.channel_id = d.channel_id)
        OR EXISTS (SELECT 1 FROM bot_users u WHERE u.user_id = d.created_by AND u.is_admin)
     ORDER BY d.id`,
  );
  return rows.map(digestOf);
}

/** One period of one subscription in the ledger. */
export interface DigestPeriodKey {
  subscriptionId: number;
  /** Start of the summarised period, epoch ms. */
  periodStart: number;
}

/** Whether a period is in the ledger already (claimed, sent or failed): a cheap look before building a digest. */
export async function digestClaimed(pool: Pool, k: DigestPeriodKey): Promise<boolean> {
  const { rowCount } = await pool.query(
    'SELECT 1 FROM digest_deliveries WHERE subscription_id = $1 AND period_start = $2',
    [k.subscriptionId, new Date(k.periodStart)],
  );
  return (rowCount ?? 0) > 0;
}

/**
 * Claims a period before sending its digest: true for the one caller that
 * inserted the row, false when it was claimed already (sent, failed, or a
 * send that crashed), by this process or another.
 */
export async function claimDigest(
  pool: Pool,
  k: DigestPeriodKey & { channelId: string; chatId: string },
): Promise<boolean> {
  const { rowCount } = await pool.query(
    `INSERT INTO digest_deliveries (subscription_id, period_start, channel_id, chat_id) VALUES ($1, $2, $3, $4)
     ON CONFLICT DO NOTHING`,
    [k.subscriptionId, new Date(k.periodStart), k.channelId, k.chatId],
  );
  return (rowCount ?? 0) > 0;
}

/** Records how a claimed period ended: sent (with Telegram's message id) or failed (why). */
export async function settleDigest(
  pool: Pool,
  k: DigestPeriodKey,
  outcome: { status: 'sent'; messageId: number } | { status: 'failed'; reason: string },
): Promise<void> {
  await pool.query(
    `UPDATE digest_deliveries SET status = $3, message_id = $4, reason = $5, done_at = now()
     WHERE subscription_id = $1 AND period_start = $2`,
    [
      k.subscriptionId,
      new Date(k.periodStart),
      outcome.status,
      outcome.status === 'sent' ? outcome.messageId : null,
      outcome.status === 'failed' ? outcome.reason : null,
    ],
  );
}

/** Gives a claim back when the digest certainly was not sent (Telegram refused it), so a later pass tries again. */
export async function releaseDigest(pool: Pool, k: DigestPeriodKey): Promise<void> {
  await pool.query(
    `DELETE FROM digest_deliveries WHERE subscription_id = $1 AND period_start = $2 AND status = 'claimed'`,
    [k.subscriptionId, new Date(k.periodStart)],
  );
}
