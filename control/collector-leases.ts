/**
 * Work sharing between collector processes. Each process (a holder) brings
 * its own MTProto accounts; a lease gives one of them a tracked channel
 * until it expires, so no two processes poll the same channel, and a process
 * that dies simply stops renewing: its channels are free again after the TTL.
 *
 * A lease is only kept for an active, unparked account on an active, tracked
 * channel: acquiring or renewing drops the others, and disabling an account,
 * removing a channel or marking it unreachable drops its leases at once.
 *
 * Times come from the caller's clock (`now`, epoch ms, default Date.now()),
 * so every comparison of one call uses the same instant, and tests can move
 * time without sleeping. Processes sharing a control plane should keep their
 * clocks in sync to well under the TTL.
 */
import type { Pool, PoolClient } from 'pg';
import { epochMs, withTransaction } from './db.ts';
import { ControlError } from './errors.ts';
import { checkInteger, checkText } from './validate.ts';

/** A channel granted to one of the holder's accounts. */
export interface LeaseGrant {
  channelId: string;
  accountId: string;
}

/** A lease as stored. Times are epoch ms. */
export interface CollectorLease extends LeaseGrant {
  /** The collector process that holds it. */
  holder: string;
  expiresAt: number;
  acquiredAt: number;
}

/** What a collector process asks for. */
export interface LeaseRequest {
  /** This process's instance id (stable for its life, unique among processes). */
  holder: string;
  /** The accounts this process can read with; disabled and parked ones get nothing. */
  accountIds: string[];
  /** How many channels the process wants to hold in all, counting those it already holds. */
  want: number;
  /** Channels one account takes at most (default: no limit beyond `want`). */
  perAccount?: number;
  /** How long the leases last unless renewed (1 s .. 1 day). */
  ttlMs: number;
  /** Epoch ms; defaults to Date.now(). */
  now?: number;
}

/** The clock of a call that takes no other options. */
export interface LeaseClock {
  /** Epoch ms; defaults to Date.now(). */
  now?: number;
}

const MAX_TTL_MS = 86_400_000;
const MAX_WANT = 100_000;
/** A bound for `now`, well inside what Date and timestamptz hold. */
const LATEST_MS = Date.UTC(9999, 0, 1);
/** How often a transaction that Postgres aborted as a deadlock is tried again. */
const ATTEMPTS = 3;

/**
 * Renews the holder's leases and takes more channels, up to `want` in all,
 * and returns every channel the holder now holds, by channel id. New channels
 * go to the least-loaded of the holder's usable accounts. Channels never
 * leased come first, then those whose lease expired longest ago.
 *
 * Safe under concurrency: channel rows are claimed with `FOR NO KEY UPDATE
 * SKIP LOCKED`, so two processes acquiring at once pick different channels,
 * and the insert only replaces a lease that has expired, so even a channel
 * picked from a stale snapshot is never taken from a live holder.
 *
 * A holder's leases on accounts it no longer offers, or that were disabled or
 * parked, are given up here, and may be taken again by its other accounts in
 * the same call. Leases beyond `want` are kept: release them explicitly.
 *
 * @example
 * const mine = await acquireLeases(pool, { holder: instanceId, accountIds: ['a1b2c3d4e5f6'], want: 200, ttlMs: 60_000 });
 */
export async function acquireLeases(pool: Pool, request: LeaseRequest): Promise<LeaseGrant[]> {
  const holder = checkHolder(request.holder);
  const want = checkInteger('want', request.want, 0, MAX_WANT);
  const ttlMs = checkTtl(request.ttlMs);
  const now = checkNow(request.now);
  if (!Array.isArray(request.accountIds) || request.accountIds.some((id) => typeof id !== 'string')) {
    throw new ControlError('accountIds', 'expected a list of MTProto account ids');
  }
  const offered = [...new Set(request.accountIds)];
  const nowAt = new Date(now);
  const expiresAt = new Date(now + ttlMs);
  return retryDeadlocks(() =>
    withTransaction(pool, async (client) => {
      const { rows: usable } = await client.query<{ id: string }>(
        `SELECT id FROM mtproto_accounts
         WHERE id = ANY($1::text[]) AND status = 'active' AND (parked_until IS NULL OR parked_until <= $2) ORDER BY id`,
        [offered, nowAt],
      );
      const accounts = usable.map((r) => r.id);
      const kept = await keepHolderLeases(client, holder, accounts, nowAt, expiresAt);
      const need = want - kept.length;
      if (need <= 0 || accounts.length === 0) return sortByChannel(kept);

      const { rows: candidates } = await client.query<{ channel_id: string }>(
        `SELECT c.channel_id FROM tracked_channels c LEFT JOIN collector_leases l ON l.channel_id = c.channel_id
         WHERE c.status = 'active' AND c.removed_at IS NULL AND (l.channel_id IS NULL OR l.expires_at <= $1)
         ORDER BY l.expires_at NULLS FIRST, c.added_at, c.channel_id
         LIMIT $2
         FOR NO KEY UPDATE OF c SKIP LOCKED`,
        [nowAt, need],
      );
      if (candidates.length === 0) return sortByChannel(kept);

      const { rows: loads } = await client.query<{ account_id: string; n: number }>(
        'SELECT account_id, count(*)::int AS n FROM collector_leases WHERE account_id = ANY($1::text[]) AND expires_at > $2 GROUP BY account_id',
        [accounts, nowAt],
      );
      const { rows: memberships } = await client.query<{ channel_id: string; account_id: string }>(
        'SELECT channel_id, account_id FROM channel_memberships WHERE channel_id = ANY($1::text[]) AND account_id = ANY($2::text[])',
        [candidates.map((r) => r.channel_id), accounts],
      );
      const members = new Map<string, string[]>();
      for (const m of memberships) members.set(m.channel_id, [...(members.get(m.channel_id) ?? []), m.account_id]);
      const assigned = spreadOverAccounts(
        candidates.map((r) => r.channel_id),
        accounts,
        new Map(loads.map((r) => [r.account_id, r.n])),
        { members, perAccount: request.perAccount },
      );
      // In channel order, so concurrent inserts lock rows in one order and cannot deadlock each other.
      assigned.sort((a, b) => compareIds(a.channelId, b.channelId));
      const { rows: taken } = await client.query<{ channel_id: string; account_id: string }>(
        `INSERT INTO collector_leases (channel_id, account_id, holder, expires_at, acquired_at)
         SELECT t.channel_id, t.account_id, $3::text, $4::timestamptz, $5::timestamptz FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(channel_id, account_id, n) ORDER BY t.n
         ON CONFLICT (channel_id) DO UPDATE SET account_id = EXCLUDED.account_id, holder = EXCLUDED.holder,
           expires_at = EXCLUDED.expires_at, acquired_at = EXCLUDED.acquired_at
         WHERE collector_leases.expires_at <= EXCLUDED.acquired_at
         RETURNING channel_id, account_id`,
        [assigned.map((a) => a.channelId), assigned.map((a) => a.accountId), holder, expiresAt, nowAt],
      );
      return sortByChannel([...kept, ...taken.map((r) => ({ channelId: r.channel_id, accountId: r.account_id }))]);
    }),
  );
}

/**
 * Gives up the holder's leases, all of them (on shutdown) or the channels
 * named (e.g. those of an account that was just parked), so other processes
 * can take them without waiting for expiry. Returns how many were released.
 */
export async function releaseLeases(pool: Pool, holder: string, channelIds?: string[]): Promise<number> {
  checkHolder(holder);
  if (channelIds !== undefined && (!Array.isArray(channelIds) || channelIds.some((id) => typeof id !== 'string'))) {
    throw new ControlError('channelIds', "expected a list of channel ids, or nothing for all of the holder's leases");
  }
  const { rowCount } =
    channelIds === undefined
      ? await pool.query('DELETE FROM collector_leases WHERE holder = $1', [holder])
      : await pool.query('DELETE FROM collector_leases WHERE holder = $1 AND channel_id = ANY($2::text[])', [
          holder,
          channelIds,
        ]);
  return rowCount ?? 0;
}

/**
 * Hands the holder's live leases of one account to another of its accounts
 * (e.g. when the first is parked by a flood wait), keeping the channels in
 * this process. The target must be active and not parked. Returns the
 * channel ids moved.
 */
export async function moveLeases(
  pool: Pool,
  holder: string,
  fromAccountId: string,
  toAccountId: string,
  clock: LeaseClock = {},
): Promise<string[]> {
  checkHolder(holder);
  const now = new Date(checkNow(clock.now));
  return withTransaction(pool, async (client) => {
    // FOR SHARE keeps the target from being disabled or removed until the move commits.
    const { rows: target } = await client.query<{ status: string; parked_until: Date | null }>(
      'SELECT status, parked_until FROM mtproto_accounts WHERE id = $1 FOR SHARE',
      [toAccountId],
    );
    if (target.length === 0)
      throw new ControlError('toAccountId', `no MTProto account has the id ${JSON.stringify(toAccountId)}`);
    if (target[0].status !== 'active')
      throw new ControlError(
        'toAccountId',
        `account ${toAccountId} is ${target[0].status}; move the leases to an active account`,
      );
    const parkedUntil = epochMs(target[0].parked_until);
    if (parkedUntil !== null && parkedUntil > now.getTime()) {
      throw new ControlError(
        'toAccountId',
        `account ${toAccountId} is parked until ${new Date(parkedUntil).toISOString()}; move the leases to an unparked account`,
      );
    }
    const { rows } = await client.query<{ channel_id: string }>(
      'UPDATE collector_leases SET account_id = $3 WHERE holder = $1 AND account_id = $2 AND expires_at > $4 RETURNING channel_id',
      [holder, fromAccountId, toAccountId, now],
    );
    return rows.map((r) => r.channel_id).sort(compareIds);
  });
}

/**
 * Assigns channels to accounts: a channel goes to an account that is a member
 * of it (Telegram pushes its updates there, see channel-memberships.ts) while
 * that account has room under `perAccount`, else to the least-loaded account.
 * Pure, so the spreading is tested apart from Postgres.
 */
export function spreadOverAccounts(
  channelIds: readonly string[],
  accounts: readonly string[],
  loads: ReadonlyMap<string, number>,
  opts: { members?: ReadonlyMap<string, readonly string[]>; perAccount?: number } = {},
): LeaseGrant[] {
  if (accounts.length === 0) return [];
  const load = accounts.map((id) => loads.get(id) ?? 0);
  const index = new Map(accounts.map((id, i) => [id, i]));
  const room = opts.perAccount ?? Number.POSITIVE_INFINITY;
  return channelIds.map((channelId) => {
    let pick = -1;
    for (const m of opts.members?.get(channelId) ?? []) {
      const i = index.get(m);
      if (i !== undefined && load[i] < room && (pick < 0 || load[i] < load[pick])) pick = i;
    }
    if (pick < 0) {
      pick = 0;
      for (let i = 1; i < load.length; i++) if (load[i] < load[pick]) pick = i;
    }
    load[pick]++;
    return { channelId, accountId: accounts[pick] };
  });
}

/**
 * Gives up the holder's live leases that may no longer be kept, and renews
 * the rest until `expiresAt`. `accounts`: the usable accounts the holder
 * offered, or null to accept any active, unparked account.
 */
async function keepHolderLeases(
  client: PoolClient,
  holder: string,
  accounts: string[] | null,
  now: Date,
  expiresAt: Date,
): Promise<LeaseGrant[]> {
  await client.query(
    `DELETE FROM collector_leases l
     WHERE l.holder = $1 AND l.expires_at > $2 AND (
       NOT EXISTS (SELECT 1 FROM mtproto_accounts a WHERE a.id = l.account_id AND a.status = 'active'
                   AND (a.parked_until IS NULL OR a.parked_until <= $2) AND ($3::text[] IS NULL OR a.id = ANY($3::text[])))
       OR NOT EXISTS (SELECT 1 FROM tracked_channels c WHERE c.channel_id = l.channel_id AND c.status = 'active' AND c.removed_at IS NULL))`,
    [holder, now, accounts],
  );
  const { rows } = await client.query<{ channel_id: string; account_id: string }>(
    'UPDATE collector_leases SET expires_at = $3 WHERE holder = $1 AND expires_at > $2 RETURNING channel_id, account_id',
    [holder, now, expiresAt],
  );
  return rows.map((r) => ({ channelId: r.channel_id, accountId: r.account_id }));
}

/**
 * Runs a transaction again when Postgres aborted it as a deadlock or a
 * serialization failure: two processes taking over each other's expired
 * leases at the same instant can lock rows in opposite orders, and the
 * answer to that is simply to try again.
 */
async function retryDeadlocks<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      const code = err instanceof Error && 'code' in err ? err.code : undefined;
      if (attempt >= ATTEMPTS || (code !== '40P01' && code !== '40001')) throw err;
    }
  }
}

function checkHolder(holder: unknown): string {
  const text = checkText('holder', holder, 1, 200);
  // The stored holder must equal what later calls pass, so it is not trimmed silently.
  if (text !== holder) throw new ControlError('holder', 'expected an instance id without surrounding spaces');
  return text;
}

function checkTtl(ttlMs: unknown): number {
  return checkInteger('ttlMs', ttlMs, 1000, MAX_TTL_MS);
}

function checkNow(now: unknown): number {
  return now === undefined ? Date.now() : checkInteger('now', now, 0, LATEST_MS);
}

/** Numeric order of bare decimal ids (shorter is smaller): one order every process agrees on. */
function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

function sortByChannel<T extends LeaseGrant>(leases: T[]): T[] {
  return leases.sort((a, b) => compareIds(a.channelId, b.channelId));
}
