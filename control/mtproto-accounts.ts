/**
 * Telegram user accounts the MTProto collectors read with: their sealed
 * sessions, an optional proxy each, and the health the collectors report
 * (flood waits park an account until a time).
 *
 * Sessions are stored sealed (control/session-crypto.ts) and never leave
 * this module except through `accountSession`, so listing accounts cannot
 * leak a login.
 */
import type { Pool } from 'pg';
import { audit, type Actor } from './audit.ts';
import { newId } from './crypto.ts';
import { epochMs, withTransaction } from './db.ts';
import { ControlError } from './errors.ts';

/** `active`: collectors may use it; `disabled`: kept, but given no work. */
export const ACCOUNT_STATUSES = ['active', 'disabled'] as const;
/** One of ACCOUNT_STATUSES. */
export type AccountStatus = (typeof ACCOUNT_STATUSES)[number];

/** An MTProto account as the control plane knows it; never carries the session. Times are epoch ms. */
export interface MtprotoAccount {
  id: string;
  /** International form, `+` and digits. */
  phone: string;
  /** The Telegram user id the session logs in as; null until known. */
  userId: string | null;
  status: AccountStatus;
  /** `socks5://…` or `mtproxy://…`; null = direct. Holds credentials: show it through `redactProxy`. */
  proxy: string | null;
  /** 0..1, as the collectors last reported it. */
  health: number;
  /** The account takes no work before this time (a flood wait); null = not parked. */
  parkedUntil: number | null;
  lastError: string | null;
  /** Telegram refused a join (CHANNELS_TOO_MUCH): no joins before this time; null = joins allowed. */
  joinsRefusedUntil: number | null;
  /** What its collector last reported of its work; null before any report. */
  load: AccountLoad | null;
  createdAt: number;
  updatedAt: number;
}

/** Stale channels an account report names at most. */
export const MAX_STALE_REPORTED = 20;

/** An account's work as its collector reports it (`tgpulse status`). */
export interface AccountLoad {
  /** Share of the account's total request budget used over the last hour (0..1, more when over). */
  budgetUsed: number;
  /** Channels it holds. */
  channelsHeld: number;
  /** Of them, channels whose every polled post was read within its freshness target. */
  channelsFresh: number;
  /** The channels furthest behind their targets, worst first (at most {@link MAX_STALE_REPORTED}). */
  staleChannels: string[];
  /** Epoch ms of the report. */
  at: number;
}

/**
 * Seals the account's StringSession for the row id it is stored under. The
 * id is only known inside `addAccount` (a re-login of a known phone keeps the
 * existing row's id, a new phone gets a fresh one), and the id is part of the
 * seal, so the caller hands over how to seal rather than a sealed text.
 */
export type SealSession = (accountId: string) => string;

/** A logged-in account to store. */
export interface NewMtprotoAccount {
  /** `+` and 7..15 digits. */
  phone: string;
  /** E.g. `(id) => encryptSession(session.save(), key, id)`. */
  sealSession: SealSession;
  /** The Telegram user id (decimal) the session belongs to, or null when unknown. */
  userId: string | null;
  /** Omitted: keep the current proxy on a re-login (none for a new account); null: connect directly. */
  proxy?: string | null;
}

/** What a collector observed about an account. */
export interface AccountHealth {
  /** 0..1. */
  health: number;
  /** Epoch ms the account is parked until; null un-parks it; omitted keeps it. */
  parkedUntil?: number | null;
  /** The last error, or null to clear it; omitted keeps it. Long texts are cut to 1,000 characters. */
  lastError?: string | null;
}

const PHONE = /^\+[0-9]{7,15}$/;
const USER_ID = /^[0-9]{1,20}$/;
const PROXY_SCHEMES = ['socks5:', 'mtproxy:'];
const PROXY_FORM = 'a URL socks5://[user:pass@]host:port or mtproxy://secret@host:port';
const MAX_ERROR_CHARS = 1000;

interface AccountRow {
  id: string;
  phone: string;
  user_id: string | null;
  status: AccountStatus;
  proxy: string | null;
  health: number;
  parked_until: Date | null;
  last_error: string | null;
  joins_refused_until: Date | null;
  budget_used: number | null;
  channels_held: number | null;
  channels_fresh: number | null;
  stale_channels: string[] | null;
  load_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

// session_sealed is deliberately absent: only accountSession reads it.
const COLUMNS =
  'id, phone, user_id, status, proxy, health, parked_until, last_error, joins_refused_until, budget_used, channels_held, channels_fresh, stale_channels, load_at, created_at, updated_at';

function fromRow(r: AccountRow): MtprotoAccount {
  return {
    id: r.id,
    phone: r.phone,
    userId: r.user_id,
    status: r.status,
    proxy: r.proxy,
    // `real` is a float4: round away the float8 noise (0.7 → 0.699999988079071).
    health: Number(r.health.toPrecision(6)),
    parkedUntil: epochMs(r.parked_until),
    lastError: r.last_error,
    joinsRefusedUntil: epochMs(r.joins_refused_until),
    load:
      r.load_at === null
        ? null
        : {
            budgetUsed: Number((r.budget_used ?? 0).toPrecision(6)),
            channelsHeld: r.channels_held ?? 0,
            channelsFresh: r.channels_fresh ?? 0,
            staleChannels: r.stale_channels ?? [],
            at: epochMs(r.load_at),
          },
    createdAt: epochMs(r.created_at),
    updatedAt: epochMs(r.updated_at),
  };
}

/** A phone number in international form. */
function checkPhone(value: unknown): string {
  const phone = typeof value === 'string' ? value.trim() : value;
  if (typeof phone !== 'string' || !PHONE.test(phone)) {
    throw new ControlError(
      'phone',
      `expected + and 7 to 15 digits without spaces (e.g. +4915112345678), got ${JSON.stringify(value)}`,
    );
  }
  return phone;
}

/**
 * A proxy URL the collectors can dial: socks5 (optionally with credentials)
 * or an MTProxy with its secret, each with a host and port. The message of a
 * bad one does not repeat it, since it may hold a password.
 */
export function checkProxy(value: unknown): string {
  if (typeof value !== 'string') throw new ControlError('proxy', `expected ${PROXY_FORM}`);
  const text = value.trim();
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ControlError('proxy', `expected ${PROXY_FORM}; this is not a URL`);
  }
  if (!PROXY_SCHEMES.includes(url.protocol))
    throw new ControlError('proxy', `expected ${PROXY_FORM}; the scheme ${url.protocol} is not supported`);
  // Non-special schemes keep the port as written: it must be there and be a real port.
  const port = Number(url.port);
  if (url.hostname === '' || url.port === '' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ControlError('proxy', `expected ${PROXY_FORM}; it needs a host and a port from 1 to 65535`);
  }
  if ((url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '') {
    throw new ControlError('proxy', `expected ${PROXY_FORM}; nothing may follow host:port`);
  }
  if (url.protocol === 'mtproxy:' && (url.username === '' || url.password !== '')) {
    throw new ControlError(
      'proxy',
      `expected ${PROXY_FORM}; an MTProxy needs its secret before the @, and nothing else`,
    );
  }
  return text;
}

/**
 * A proxy URL with its password or MTProxy secret replaced by `***`, for
 * logs, audit rows and listings.
 *
 * @example
 * redactProxy('socks5://bob:hunter2@10.0.0.1:1080') // 'socks5://bob:***@10.0.0.1:1080'
 */
export function redactProxy(proxy: string): string {
  try {
    const url = new URL(proxy);
    if (url.protocol === 'mtproxy:' && url.username) url.username = '***';
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '<unparsable proxy URL>';
  }
}

/**
 * Stores a logged-in account, or replaces the session of the account with
 * that phone: a re-login keeps the account's id and leases, re-enables it
 * and forgets its past health, since the new session starts clean.
 *
 * @example
 * const account = await addAccount(pool, { phone: '+4915112345678', sealSession: (id) => encryptSession(session.save(), key, id), userId: '777' }, { actor: 'cli' });
 */
export async function addAccount(pool: Pool, input: NewMtprotoAccount, by: Actor = {}): Promise<MtprotoAccount> {
  const phone = checkPhone(input.phone);
  const userId = input.userId;
  if (userId !== null && (typeof userId !== 'string' || !USER_ID.test(userId))) {
    throw new ControlError(
      'userId',
      `expected a Telegram user id of decimal digits or null, got ${JSON.stringify(userId)}`,
    );
  }
  const proxy = input.proxy === undefined || input.proxy === null ? null : checkProxy(input.proxy);
  const keepProxy = input.proxy === undefined;
  if (typeof input.sealSession !== 'function')
    throw new ControlError('sealSession', 'expected a function sealing the session for an account id');
  // Two first logins of one phone at once both pick a fresh id; the loser of the
  // insert race finds the winner's row on its next try and seals for that id.
  for (let attempt = 0; attempt < 3; attempt++) {
    const stored = await withTransaction(pool, async (client) => {
      const existing = await client.query<{ id: string }>(
        'SELECT id FROM mtproto_accounts WHERE phone = $1 FOR UPDATE',
        [phone],
      );
      const id = existing.rows[0]?.id ?? newId();
      const sealed = input.sealSession(id);
      if (typeof sealed !== 'string' || sealed === '')
        throw new ControlError('sealSession', 'expected the sealed session as a non-empty string');
      const { rows } = await client.query<AccountRow>(
        `INSERT INTO mtproto_accounts (id, phone, session_sealed, user_id, proxy) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (phone) DO UPDATE SET session_sealed = EXCLUDED.session_sealed, user_id = EXCLUDED.user_id,
           proxy = CASE WHEN $6 THEN mtproto_accounts.proxy ELSE EXCLUDED.proxy END,
           status = 'active', health = 1, parked_until = NULL, last_error = NULL, updated_at = now()
         WHERE mtproto_accounts.id = EXCLUDED.id
         RETURNING ${COLUMNS}`,
        [id, phone, sealed, userId, proxy, keepProxy],
      );
      if (rows.length === 0) return null;
      await audit(client, {
        actor: by.actor ?? 'system',
        action: existing.rows.length > 0 ? 'mtproto_account.relogin' : 'mtproto_account.add',
        target: id,
        details: { phone, userId, proxy: rows[0].proxy === null ? null : redactProxy(rows[0].proxy) },
      });
      return rows[0];
    });
    if (stored) return fromRow(stored);
  }
  throw new Error(`could not store the MTProto account ${phone}: it kept being added concurrently; try again`);
}

/** Every account, oldest first. */
export async function listAccounts(pool: Pool): Promise<MtprotoAccount[]> {
  const { rows } = await pool.query<AccountRow>(`SELECT ${COLUMNS} FROM mtproto_accounts ORDER BY created_at, id`);
  return rows.map(fromRow);
}

/** One account, or null when there is none with that id. */
export async function getAccount(pool: Pool, id: string): Promise<MtprotoAccount | null> {
  const { rows } = await pool.query<AccountRow>(`SELECT ${COLUMNS} FROM mtproto_accounts WHERE id = $1`, [id]);
  return rows.length === 0 ? null : fromRow(rows[0]);
}

/**
 * The account's sealed session, for a collector to open with
 * `decryptSession(sealed, key, id)`. Throws a `ControlError` when the account
 * does not exist.
 */
export async function accountSession(pool: Pool, id: string): Promise<string> {
  const { rows } = await pool.query<{ session_sealed: string }>(
    'SELECT session_sealed FROM mtproto_accounts WHERE id = $1',
    [id],
  );
  if (rows.length === 0)
    throw new ControlError(
      'accountId',
      `no MTProto account has the id ${JSON.stringify(id)}; list them to find the right one`,
    );
  return rows[0].session_sealed;
}

/**
 * Enables or disables an account; false when there is no such account.
 * Disabling releases the account's leases at once, so its channels go to
 * other accounts without waiting for the leases to expire.
 */
export async function setAccountStatus(
  pool: Pool,
  id: string,
  status: AccountStatus,
  by: Actor = {},
): Promise<boolean> {
  if (!ACCOUNT_STATUSES.includes(status))
    throw new ControlError('status', `expected one of ${ACCOUNT_STATUSES.join(', ')}, got ${JSON.stringify(status)}`);
  return withTransaction(pool, async (client) => {
    const { rowCount } = await client.query(
      'UPDATE mtproto_accounts SET status = $2, updated_at = now() WHERE id = $1',
      [id, status],
    );
    if (!rowCount) return false;
    const released =
      status === 'disabled'
        ? ((await client.query('DELETE FROM collector_leases WHERE account_id = $1', [id])).rowCount ?? 0)
        : 0;
    await audit(client, {
      actor: by.actor ?? 'system',
      action: 'mtproto_account.status',
      target: id,
      details: { status, releasedLeases: released },
    });
    return true;
  });
}

/** Forgets an account and its session; its leases go with it. False when there is no such account. */
export async function removeAccount(pool: Pool, id: string, by: Actor = {}): Promise<boolean> {
  return withTransaction(pool, async (client) => {
    // The leases follow by ON DELETE CASCADE.
    const { rows } = await client.query<{ phone: string }>(
      'DELETE FROM mtproto_accounts WHERE id = $1 RETURNING phone',
      [id],
    );
    if (rows.length === 0) return false;
    await audit(client, {
      actor: by.actor ?? 'system',
      action: 'mtproto_account.remove',
      target: id,
      details: { phone: rows[0].phone },
    });
    return true;
  });
}

/**
 * Records what a collector observed about an account: health, a flood wait,
 * the last error. Not audited: collectors report often, and the audit log is
 * for decisions. False when there is no such account.
 */
export async function recordAccountHealth(pool: Pool, id: string, observed: AccountHealth): Promise<boolean> {
  const { health, parkedUntil, lastError } = observed;
  if (typeof health !== 'number' || !Number.isFinite(health) || health < 0 || health > 1) {
    throw new ControlError('health', `expected a number from 0 to 1, got ${JSON.stringify(health)}`);
  }
  if (parkedUntil !== undefined && parkedUntil !== null && (!Number.isInteger(parkedUntil) || parkedUntil < 0)) {
    throw new ControlError('parkedUntil', `expected epoch milliseconds or null, got ${JSON.stringify(parkedUntil)}`);
  }
  if (lastError !== undefined && lastError !== null && typeof lastError !== 'string') {
    throw new ControlError('lastError', 'expected a string or null');
  }
  const { rowCount } = await pool.query(
    `UPDATE mtproto_accounts SET health = $2,
       parked_until = CASE WHEN $3 THEN parked_until ELSE $4::timestamptz END,
       last_error = CASE WHEN $5 THEN last_error ELSE $6 END,
       updated_at = now()
     WHERE id = $1`,
    [
      id,
      health,
      parkedUntil === undefined,
      parkedUntil == null ? null : new Date(parkedUntil),
      lastError === undefined,
      lastError == null ? null : lastError.slice(0, MAX_ERROR_CHARS),
    ],
  );
  return (rowCount ?? 0) > 0;
}

/** Sets or clears (null) the proxy an account connects through; false when there is no such account. */
export async function setAccountProxy(pool: Pool, id: string, proxy: string | null, by: Actor = {}): Promise<boolean> {
  const valid = proxy === null ? null : checkProxy(proxy);
  return withTransaction(pool, async (client) => {
    const { rowCount } = await client.query(
      'UPDATE mtproto_accounts SET proxy = $2, updated_at = now() WHERE id = $1',
      [id, valid],
    );
    if (!rowCount) return false;
    await audit(client, {
      actor: by.actor ?? 'system',
      action: 'mtproto_account.proxy',
      target: id,
      details: { proxy: valid === null ? null : redactProxy(valid) },
    });
    return true;
  });
}
