/**
 * Which MTProto account is a member of which tracked channel, and what the
 * collectors report of each account's work. Telegram pushes a channel's
 * updates only to its members, and caps how many channels an account may
 * join (CHANNELS_TOO_MUCH, about 500 for a regular account), so membership is
 * a resource of the account pool: the collectors record it here, leases give
 * a channel to an account that joined it, and joins stop on an account that
 * Telegram refused.
 */
import type { Pool } from 'pg';
import { MAX_STALE_REPORTED, type AccountLoad } from './mtproto-accounts.ts';
import { ControlError } from './errors.ts';
import { checkInteger } from './validate.ts';

/** Epoch ms as a Date for timestamptz. */
function checkNowMs(field: string, value: unknown): Date {
  return new Date(checkInteger(field, value, 0, Number.MAX_SAFE_INTEGER));
}

/** Records that `accountId` is a member of `channelId` (`joinedByUs`: tgpulse joined it). */
export async function recordMembership(
  pool: Pool,
  channelId: string,
  accountId: string,
  opts: { joinedByUs: boolean; now?: number },
): Promise<void> {
  await pool.query(
    `INSERT INTO channel_memberships (channel_id, account_id, joined_by_us, since) VALUES ($1, $2, $3, $4)
     ON CONFLICT (channel_id, account_id) DO UPDATE SET joined_by_us = channel_memberships.joined_by_us OR EXCLUDED.joined_by_us`,
    [channelId, accountId, opts.joinedByUs, checkNowMs('now', opts.now ?? Date.now())],
  );
}

/** Records that the account is no longer a member (Telegram says it left, or it was removed). */
export async function forgetMembership(pool: Pool, channelId: string, accountId: string): Promise<void> {
  await pool.query('DELETE FROM channel_memberships WHERE channel_id = $1 AND account_id = $2', [channelId, accountId]);
}

/** Channels the account is a member of, as far as tgpulse knows. */
export async function membershipCount(pool: Pool, accountId: string): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM channel_memberships WHERE account_id = $1',
    [accountId],
  );
  return rows[0]?.n ?? 0;
}

/** Telegram refused a join with this account: no joins before `untilMs`. */
export async function refuseJoins(pool: Pool, accountId: string, untilMs: number): Promise<void> {
  await pool.query('UPDATE mtproto_accounts SET joins_refused_until = $2, updated_at = now() WHERE id = $1', [
    accountId,
    checkNowMs('untilMs', untilMs),
  ]);
}

/** Stores what an account's collector reports of its work. */
export async function recordAccountLoad(pool: Pool, accountId: string, load: AccountLoad): Promise<void> {
  const { budgetUsed, channelsHeld, channelsFresh, staleChannels, at } = load;
  if (!Number.isFinite(budgetUsed) || budgetUsed < 0)
    throw new ControlError('budgetUsed', `expected a share ≥ 0, got ${budgetUsed}`);
  checkInteger('channelsHeld', channelsHeld, 0, Number.MAX_SAFE_INTEGER);
  checkInteger('channelsFresh', channelsFresh, 0, channelsHeld);
  if (!Array.isArray(staleChannels) || staleChannels.some((c) => typeof c !== 'string'))
    throw new ControlError('staleChannels', 'expected a list of channel ids');
  await pool.query(
    'UPDATE mtproto_accounts SET budget_used = $2, channels_held = $3, channels_fresh = $4, stale_channels = $5, load_at = $6 WHERE id = $1',
    [
      accountId,
      budgetUsed,
      channelsHeld,
      channelsFresh,
      staleChannels.slice(0, MAX_STALE_REPORTED),
      checkNowMs('at', at),
    ],
  );
}
