/**
 * Telegram Mini App sign-in data (`initData`): the query string Telegram
 * hands a Mini App when a user opens it, signed with the bot's token.
 * Checking it proves which Telegram user opened the app, without a password
 * and without trusting the browser.
 *
 * The check, as Telegram specifies it: every field except `hash`, decoded,
 * sorted by name and joined as `name=value` lines is the data-check-string;
 * `hash` must be the hex HMAC-SHA256 of that string under the key
 * HMAC-SHA256(key "WebAppData", message bot token). `auth_date` (Unix
 * seconds, inside the signed fields) bounds how long a captured string can
 * be replayed. Fields Telegram adds later (`signature`, for third-party
 * checks, is one) are signed like any other and need no code here.
 *
 * Pure: the clock and the token come in as arguments, so the tests can
 * cover every refusal without a server.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Longest initData accepted: Telegram's are well under 2 KB even with a long name and a photo URL. */
export const MAX_INIT_DATA_CHARS = 4096;

/** How far `auth_date` may lie ahead of our clock: Telegram's clock and ours are never quite the same. */
const CLOCK_SKEW_MS = 60_000;

/** Field names as Telegram writes them (`auth_date`, `query_id`, `user`…). */
const FIELD_NAME = /^[A-Za-z0-9_]{1,64}$/;
const HASH = /^[0-9a-f]{64}$/;
const UNIX_SECONDS = /^[0-9]{1,12}$/;

/** The Telegram user who opened the Mini App. */
export interface WebAppUser {
  /** Telegram user id, as a decimal string like every id the API answers. */
  id: string;
  firstName: string;
  username?: string;
}

/** Why initData was refused. */
export type InitDataRefusal =
  /** Not a query string of distinct fields with a hash, an `auth_date` and a user. */
  | 'malformed'
  /** The hash does not match: altered, or signed for another bot. */
  | 'bad_hash'
  /** Older than the accepted age: a replay of an old string, or an app left open too long. */
  | 'expired'
  /** Signed for a time ahead of our clock by more than the skew: our clock or the data is wrong. */
  | 'from_future';

export type InitDataCheck =
  | { ok: true; user: WebAppUser /** When Telegram signed it, epoch ms. */; authDate: number }
  | { ok: false; reason: InitDataRefusal };

/**
 * Who opened the Mini App, if `raw` is initData Telegram signed for this bot
 * within the last `maxAgeSeconds`.
 *
 * @example
 * const check = verifyInitData(body.init_data, botToken, Date.now(), 3600);
 * if (!check.ok) refuse(check.reason); // 'malformed' | 'bad_hash' | 'expired' | 'from_future'
 * else signIn(check.user.id);
 */
export function verifyInitData(raw: string, botToken: string, nowMs: number, maxAgeSeconds: number): InitDataCheck {
  const fields = parseFields(raw);
  const hash = fields?.get('hash');
  if (fields === null || hash === undefined || !HASH.test(hash)) return refused('malformed');
  fields.delete('hash');
  if (!sameHex(hash, expectedHash(fields, botToken))) return refused('bad_hash');

  // Only signed fields are interpreted: nothing below runs on data Telegram did not vouch for.
  const authDate = fields.get('auth_date');
  const user = parseUser(fields.get('user'));
  if (authDate === undefined || !UNIX_SECONDS.test(authDate) || user === null) return refused('malformed');
  const signedAt = Number(authDate) * 1000;
  if (signedAt > nowMs + CLOCK_SKEW_MS) return refused('from_future');
  if (nowMs - signedAt > maxAgeSeconds * 1000) return refused('expired');
  return { ok: true, user, authDate: signedAt };
}

/** The fields of a query string, decoded; null when it is too long, repeats a field or carries a line break. */
function parseFields(raw: string): Map<string, string> | null {
  if (raw.length === 0 || raw.length > MAX_INIT_DATA_CHARS) return null;
  const fields = new Map<string, string>();
  for (const [name, value] of new URLSearchParams(raw)) {
    // A repeated field would make "which value was signed" a matter of parser taste; a line
    // break could shift text between lines of the data-check-string. Telegram sends neither.
    if (!FIELD_NAME.test(name) || fields.has(name) || value.includes('\n')) return null;
    fields.set(name, value);
  }
  return fields;
}

/** The hex HMAC Telegram puts in `hash` for these fields (`hash` itself left out). */
function expectedHash(fields: ReadonlyMap<string, string>, botToken: string): string {
  const dataCheckString = [...fields.keys()]
    .sort()
    .map((name) => `${name}=${fields.get(name)}`)
    .join('\n');
  const secretKey = createHmac('sha256', 'WebAppData').update(botToken).digest();
  return createHmac('sha256', secretKey).update(dataCheckString).digest('hex');
}

/** Compares two hex digests of equal length in constant time. */
function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The `user` field (JSON): a positive integer id and a first name are required. */
function parseUser(json: string | undefined): WebAppUser | null {
  if (json === undefined) return null;
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const { id, first_name: firstName, username } = value as Record<string, unknown>;
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id <= 0) return null;
  if (typeof firstName !== 'string' || firstName.length > 256) return null;
  if (username !== undefined && (typeof username !== 'string' || username.length > 64)) return null;
  return { id: String(id), firstName, ...(username === undefined ? {} : { username }) };
}

function refused(reason: InitDataRefusal): InitDataCheck {
  return { ok: false, reason };
}
