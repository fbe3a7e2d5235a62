/**
 * Encryption at rest of the Telegram sessions the collectors log in with.
 *
 * A StringSession is a full login: whoever reads it can act as the account.
 * It is sealed with AES-256-GCM under a key kept out of the database
 * (TGPULSE_SESSION_KEY), so a dump of the control plane alone is useless, and
 * the account id is bound in as additional authenticated data, so a sealed
 * session copied onto another account's row no longer opens.
 *
 * Sealed form: `v1.<iv>.<ciphertext>.<tag>`, each part base64url.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** AES-256 takes a 32-byte key. */
const KEY_BYTES = 32;
/** The IV size GCM is designed for; random per seal, so one key never reuses an IV in practice. */
const IV_BYTES = 12;
const TAG_BYTES = 16;
const VERSION = 'v1';

const HEX_KEY = /^[0-9a-fA-F]{64}$/;
// 32 bytes are 43 base64 characters and one '=' of padding; either alphabet.
const BASE64_KEY = /^[A-Za-z0-9+/_-]{43}=$/;
const BASE64URL_PART = /^[A-Za-z0-9_-]*$/;

/**
 * A sealed session did not open: the key is not the one it was sealed with,
 * or the stored text was altered or belongs to another account. Carries the
 * account id, never the key or the session.
 */
export class SessionKeyError extends Error {
  constructor(
    /** The account whose session did not open. */
    readonly accountId: string,
    /** Why, without secrets. */
    readonly problem: string,
    options?: ErrorOptions,
  ) {
    super(
      `cannot open the stored session of MTProto account ${accountId}: ${problem}. ` +
        'Check that TGPULSE_SESSION_KEY is the key the session was sealed with; if it is, the row was altered: log the account in again',
      options,
    );
    this.name = 'SessionKeyError';
  }
}

/**
 * Reads the session key from its configuration text: 32 bytes as 64 hex
 * characters or 44 base64 characters (`openssl rand -base64 32` makes one).
 * The message of a bad key names the variable and the expected form, never
 * the value.
 *
 * @example
 * const key = parseSessionKey(process.env.TGPULSE_SESSION_KEY ?? '');
 */
export function parseSessionKey(text: string): Buffer {
  const trimmed = text.trim();
  let key: Buffer | null = null;
  if (HEX_KEY.test(trimmed)) key = Buffer.from(trimmed, 'hex');
  else if (BASE64_KEY.test(trimmed)) key = Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (key === null || key.length !== KEY_BYTES) {
    throw new Error(
      `TGPULSE_SESSION_KEY must be ${KEY_BYTES} bytes written as 64 hex characters or 44 base64 characters ` +
        `(got ${trimmed.length} characters that are neither); make one with \`openssl rand -base64 32\``,
    );
  }
  return key;
}

/**
 * Seals a StringSession for the account `accountId`; only
 * `decryptSession` with the same key and account id opens it.
 *
 * @example
 * const sealed = encryptSession(session.save(), key, account.id);
 */
export function encryptSession(plain: string, key: Buffer, accountId: string): string {
  checkKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(associatedData(accountId));
  const ciphertext = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return [
    VERSION,
    iv.toString('base64url'),
    ciphertext.toString('base64url'),
    cipher.getAuthTag().toString('base64url'),
  ].join('.');
}

/**
 * Opens what `encryptSession` sealed for `accountId`. Throws a
 * `SessionKeyError` when the key is wrong or the text was altered or moved
 * from another account: GCM cannot tell these apart, and none may yield a
 * session.
 *
 * @example
 * const session = new StringSession(decryptSession(await accountSession(pool, id), key, id));
 */
export function decryptSession(sealed: string, key: Buffer, accountId: string): string {
  checkKey(key);
  const parts = sealed.split('.');
  if (parts.length !== 4 || parts[0] !== VERSION || !parts.slice(1).every((p) => BASE64URL_PART.test(p))) {
    throw new SessionKeyError(accountId, `the stored text is not a ${VERSION} sealed session`);
  }
  const iv = Buffer.from(parts[1], 'base64url');
  const ciphertext = Buffer.from(parts[2], 'base64url');
  const tag = Buffer.from(parts[3], 'base64url');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
    throw new SessionKeyError(accountId, `the stored text is not a ${VERSION} sealed session`);
  }
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(associatedData(accountId));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
  } catch (err) {
    // OpenSSL's message ("Unsupported state or unable to authenticate data") holds no secret, but says less than ours.
    throw new SessionKeyError(accountId, 'the key is wrong or the stored session was tampered with', { cause: err });
  }
}

/** Binds the format version and the account into the tag. */
function associatedData(accountId: string): Buffer {
  return Buffer.from(`tgpulse.mtproto_session.${VERSION}:${accountId}`, 'utf8');
}

function checkKey(key: Buffer): void {
  // A programming error, not a configuration one: parseSessionKey makes the keys.
  if (key.length !== KEY_BYTES)
    throw new Error(`a session key is ${KEY_BYTES} bytes, got ${key.length}: read it with parseSessionKey`);
}
