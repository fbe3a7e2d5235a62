/**
 * Mini App session tokens: what `POST /v1/webapp/session` hands the web app
 * once Telegram's initData checked out, used like an API key afterwards.
 *
 * A token is `tgw_<user id>.<exp>.<sig>`, `exp` in Unix seconds and `sig` the
 * base64url HMAC-SHA256 of everything before it. Nothing is stored: the
 * signature says the API issued it, `exp` ends it, and what the user may read
 * is looked up per request (sessions.ts), so a revoked grant does not wait
 * for the token to expire. The HMAC key is derived from the deployment's
 * share secret under a label of its own, so a session token and a share
 * link's signature can never stand in for each other.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** What every session token starts with: how the authentication tells it from an API key (`tgp_`). */
export const SESSION_TOKEN_PREFIX = 'tgw_';

/** Life of a session: a stolen token is worth an hour at most; the app signs in again with fresh initData. */
export const SESSION_TTL_MS = 3_600_000;

/** Distinguishes this key from every other use of the share secret. */
const KEY_LABEL = 'tgpulse webapp session v1';

const TOKEN = /^tgw_([0-9]{1,20})\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})$/;

/** A session that verified. */
export interface WebAppSession {
  /** Telegram user id (decimal). */
  userId: string;
  /** Epoch ms. */
  expiresAt: number;
}

export type SessionCheck =
  | ({ ok: true } & WebAppSession)
  | { ok: false; reason: 'malformed' | 'bad_signature' | 'expired' };

/** The HMAC key of session tokens, derived from the share secret (see the header). */
export function sessionKey(shareSecret: Buffer): Buffer {
  return createHmac('sha256', shareSecret).update(KEY_LABEL).digest();
}

/** True when a presented bearer token is a session token rather than an API key. */
export function isSessionToken(token: string): boolean {
  return token.startsWith(SESSION_TOKEN_PREFIX);
}

/**
 * A token for `userId` valid until `now + SESSION_TTL_MS` (to the second below).
 *
 * @example
 * const { token, expiresAt } = issueSession(sessionKey(shareSecret), '123456789', Date.now());
 */
export function issueSession(key: Buffer, userId: string, now: number): { token: string; expiresAt: number } {
  const exp = Math.floor((now + SESSION_TTL_MS) / 1000);
  const body = `${SESSION_TOKEN_PREFIX}${userId}.${exp}`;
  return { token: `${body}.${sign(key, body)}`, expiresAt: exp * 1000 };
}

/** The session a token carries, when the API signed it and it has not expired at `now`. */
export function verifySession(key: Buffer, token: string, now: number): SessionCheck {
  const m = TOKEN.exec(token);
  if (!m) return { ok: false, reason: 'malformed' };
  const [, userId, exp, sig] = m;
  // Compared as text: base64url decoding ignores the low bits of the last character, so two
  // spellings of one digest exist, and only the one this API writes may pass.
  const expected = Buffer.from(sign(key, `${SESSION_TOKEN_PREFIX}${userId}.${exp}`));
  if (!timingSafeEqual(Buffer.from(sig), expected)) return { ok: false, reason: 'bad_signature' };
  const expiresAt = Number(exp) * 1000;
  if (expiresAt <= now) return { ok: false, reason: 'expired' };
  return { ok: true, userId, expiresAt };
}

function sign(key: Buffer, body: string): string {
  return createHmac('sha256', key).update(body).digest('base64url');
}
