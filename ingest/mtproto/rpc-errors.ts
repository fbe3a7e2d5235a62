/**
 * What a failed MTProto call means for the collector. gramjs turns Telegram's
 * RPC errors into classes for some (FloodWaitError) and a generic RPCError
 * with the message for the rest (STATS_MIGRATE_4, CHANNEL_PRIVATE); a dropped
 * connection surfaces as a plain Error or even a string. One pure function
 * sorts them, so every caller reacts the same way.
 */
import { errors } from 'telegram';

export type RpcFailure =
  /** Too many requests: this account must not call this method for `seconds`. */
  | { kind: 'flood'; seconds: number; message: string }
  /** The data lives on another DC (stats): repeat the call there. */
  | { kind: 'migrate'; dcId: number; message: string }
  /** The channel cannot be read any more (private, deleted, banned). */
  | { kind: 'channel_gone'; message: string }
  /** The account lacks the rights for this call (e.g. stats without admin). */
  | { kind: 'no_rights'; message: string }
  /** The account's session is not valid any more: it must log in again. */
  | { kind: 'auth'; message: string }
  /** Worth retrying: network, timeouts, Telegram's internal errors. */
  | { kind: 'transient'; message: string }
  /** A request Telegram refuses for good (a bug or bad input): do not retry. */
  | { kind: 'refused'; message: string };

const CHANNEL_GONE = new Set([
  'CHANNEL_PRIVATE',
  'CHANNEL_INVALID',
  'CHANNEL_PUBLIC_GROUP_NA',
  'CHAT_FORBIDDEN',
  'USERNAME_NOT_OCCUPIED',
  'USERNAME_INVALID',
  'CHANNEL_BANNED',
]);
const NO_RIGHTS = new Set(['CHAT_ADMIN_REQUIRED', 'BROADCAST_REQUIRED', 'STATS_UNAVAILABLE', 'CHAT_WRITE_FORBIDDEN']);
const AUTH = new Set([
  'AUTH_KEY_UNREGISTERED',
  'AUTH_KEY_INVALID',
  'SESSION_REVOKED',
  'SESSION_EXPIRED',
  'USER_DEACTIVATED',
  'USER_DEACTIVATED_BAN',
  'AUTH_KEY_DUPLICATED',
]);
const TRANSIENT = new Set([
  'RPC_CALL_FAIL',
  'RPC_MCGET_FAIL',
  'TIMEOUT',
  'MSG_WAIT_FAILED',
  'PERSISTENT_TIMESTAMP_OUTDATED',
]);

/** Sorts a thrown value from `client.invoke` into what to do about it. */
export function classifyRpcFailure(err: unknown): RpcFailure {
  if (err instanceof errors.FloodWaitError || err instanceof errors.FloodTestPhoneWaitError) {
    return { kind: 'flood', seconds: err.seconds, message: err.errorMessage };
  }
  if (err instanceof errors.RPCError) {
    const message = err.errorMessage;
    const flood = /^(?:FLOOD_WAIT|FLOOD_PREMIUM_WAIT|SLOWMODE_WAIT)_(\d+)$/.exec(message);
    if (flood) return { kind: 'flood', seconds: Number(flood[1]), message };
    const migrate = /^(?:STATS|FILE|NETWORK|USER|PHONE)_MIGRATE_(\d+)$/.exec(message);
    if (migrate) return { kind: 'migrate', dcId: Number(migrate[1]), message };
    if (CHANNEL_GONE.has(message)) return { kind: 'channel_gone', message };
    if (NO_RIGHTS.has(message)) return { kind: 'no_rights', message };
    if (AUTH.has(message) || err.code === 401) return { kind: 'auth', message };
    if (TRANSIENT.has(message) || (err.code !== undefined && err.code >= 500) || err.code === -503)
      return { kind: 'transient', message };
    return { kind: 'refused', message };
  }
  if (err instanceof errors.ServerError) return { kind: 'transient', message: err.errorMessage };
  // A dropped connection: gramjs rejects with an Error or, after its own reconnects fail, a string.
  const message = err instanceof Error ? err.message : String(err);
  return { kind: 'transient', message: message || 'connection error' };
}

/** A call the collector gave up on, with what it means; `cause` is gramjs's error. */
export class MtprotoCallError extends Error {
  override readonly name = 'MtprotoCallError';
  constructor(
    readonly method: string,
    readonly failure: RpcFailure,
    options?: { cause: unknown },
  ) {
    super(`${method} failed: ${failure.kind} (${failure.message})`, options);
  }
}
