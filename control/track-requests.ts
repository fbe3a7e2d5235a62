/**
 * Channels bot users asked to track (`/track @channel`). The bot proves the
 * user administers the channel and knows its id and username from the Bot
 * API, but not the MTProto access hash the registry needs: a request waits
 * here until the ingest role resolves it through an account and adds the
 * channel to the registry (or records why it could not). Each user may have
 * a limited number of pending and tracked requests; failed ones do not count.
 */
import type { Pool } from 'pg';
import { audit } from './audit.ts';
import { epochMs, withTransaction } from './db.ts';
import { ControlError } from './errors.ts';

/** Where a request stands: waiting for a collector, in the registry, or refused by Telegram. */
export type TrackRequestStatus = 'pending' | 'tracked' | 'failed';

/** One user's request to track one channel. Times are epoch ms. */
export interface TrackRequest {
  userId: string;
  /** The bare channel id. */
  channelId: string;
  /** Without `@`; null for a channel without a public username. */
  username: string | null;
  title: string | null;
  status: TrackRequestStatus;
  /** Why it failed, in words for the user; null otherwise. */
  reason: string | null;
  requestedAt: number;
}

/** What {@link requestTracking} did. `used` counts the user's pending and tracked requests afterwards. */
export type TrackRequestOutcome =
  | { kind: 'requested' | 'already_requested'; request: TrackRequest; used: number; limit: number }
  | { kind: 'limit_reached'; used: number; limit: number };

interface RequestRow {
  user_id: string;
  channel_id: string;
  username: string | null;
  title: string | null;
  status: TrackRequestStatus;
  reason: string | null;
  requested_at: Date;
}

const COLUMNS = 'user_id, channel_id, username, title, status, reason, requested_at';
const BARE_CHANNEL_ID = /^[1-9][0-9]{0,19}$/;
const USERNAME = /^[A-Za-z][A-Za-z0-9_]{3,31}$/;

function requestOf(r: RequestRow): TrackRequest {
  return {
    userId: r.user_id,
    channelId: r.channel_id,
    username: r.username,
    title: r.title,
    status: r.status,
    reason: r.reason,
    requestedAt: epochMs(r.requested_at),
  };
}

/**
 * Records that `userId` wants `channelId` tracked, unless they already have
 * `limit` pending or tracked requests. Asking again for a channel already
 * requested changes nothing (a failed request is tried again). The user's
 * row in `bot_users` is locked meanwhile, so two requests at once cannot
 * both pass the limit. The user must have talked to the bot (`upsertBotUser`).
 *
 * @example
 * const r = await requestTracking(pool, { userId: '501', channelId: '1001234567', username: 'news', title: 'News', limit: 5 });
 * if (r.kind === 'limit_reached') reply(`You track ${r.used} of ${r.limit} channels already`);
 */
export async function requestTracking(
  pool: Pool,
  r: { userId: string; channelId: string; username: string | null; title: string | null; limit: number },
): Promise<TrackRequestOutcome> {
  if (!BARE_CHANNEL_ID.test(r.channelId))
    throw new ControlError('channelId', `expected a bare decimal channel id, got ${JSON.stringify(r.channelId)}`);
  if (r.username !== null && !USERNAME.test(r.username))
    throw new ControlError('username', `expected a Telegram username, got ${JSON.stringify(r.username)}`);
  return withTransaction(pool, async (client) => {
    const user = await client.query('SELECT 1 FROM bot_users WHERE user_id = $1 FOR UPDATE', [r.userId]);
    if (user.rowCount === 0)
      throw new ControlError('userId', `no bot user ${JSON.stringify(r.userId)}: record them with upsertBotUser first`);
    const { rows } = await client.query<RequestRow & { counted: boolean }>(
      `SELECT ${COLUMNS}, status <> 'failed' AS counted FROM track_requests WHERE user_id = $1`,
      [r.userId],
    );
    const used = rows.filter((x) => x.counted).length;
    const existing = rows.find((x) => x.channel_id === r.channelId);
    if (existing !== undefined && existing.status !== 'failed')
      return { kind: 'already_requested', request: requestOf(existing), used, limit: r.limit };
    if (used >= r.limit) return { kind: 'limit_reached', used, limit: r.limit };
    const inserted = await client.query<RequestRow>(
      `INSERT INTO track_requests (user_id, channel_id, username, title) VALUES ($1, $2, $3, $4)
       ON CONFLICT (user_id, channel_id) DO UPDATE SET username = EXCLUDED.username, title = EXCLUDED.title,
         status = 'pending', reason = NULL, requested_at = now(), resolved_at = NULL
       RETURNING ${COLUMNS}`,
      [r.userId, r.channelId, r.username, r.title],
    );
    await audit(client, {
      actor: `bot_user:${r.userId}`,
      action: 'track_request.create',
      target: r.channelId,
      details: { username: r.username },
    });
    return { kind: 'requested', request: requestOf(inserted.rows[0]), used: used + 1, limit: r.limit };
  });
}

/** A user's requests, newest first. */
export async function userTrackRequests(pool: Pool, userId: string): Promise<TrackRequest[]> {
  const { rows } = await pool.query<RequestRow>(
    `SELECT ${COLUMNS} FROM track_requests WHERE user_id = $1 ORDER BY requested_at DESC, channel_id`,
    [userId],
  );
  return rows.map(requestOf);
}

/** Pending requests, one per channel (the oldest), oldest first: what the ingest role resolves next. */
export async function pendingTrackRequests(pool: Pool, limit = 20): Promise<TrackRequest[]> {
  const { rows } = await pool.query<RequestRow>(
    `SELECT DISTINCT ON (channel_id) ${COLUMNS} FROM track_requests WHERE status = 'pending'
     ORDER BY channel_id, requested_at`,
  );
  return rows
    .map(requestOf)
    .sort((a, b) => a.requestedAt - b.requestedAt)
    .slice(0, limit);
}

/**
 * Settles every pending request for a channel: `tracked` once it is in the
 * registry, or `failed` with the reason (plain text for the user). Returns
 * how many requests it settled.
 */
export async function settleTrackRequests(
  pool: Pool,
  channelId: string,
  outcome: { status: 'tracked' } | { status: 'failed'; reason: string },
): Promise<number> {
  const reason = outcome.status === 'failed' ? outcome.reason : null;
  return withTransaction(pool, async (client) => {
    const { rowCount } = await client.query(
      `UPDATE track_requests SET status = $2, reason = $3, resolved_at = now()
       WHERE channel_id = $1 AND status = 'pending'`,
      [channelId, outcome.status, reason],
    );
    if (rowCount)
      await audit(client, {
        actor: 'ingest',
        action: `track_request.${outcome.status}`,
        target: channelId,
        details: { requests: rowCount, ...(reason === null ? {} : { reason }) },
      });
    return rowCount ?? 0;
  });
}
