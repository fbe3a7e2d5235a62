/**
 * Random ids, secrets and constant-time comparison for API keys and share links.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Shape of the ids `newId` makes; token parsers use it to reject junk before touching the database. */
export const ID_PATTERN = '[0-9a-f]{12}';

/** A 12-character lowercase hex id (48 random bits): short enough to type, unique at control-plane scale. */
export function newId(): string {
  return randomBytes(6).toString('hex');
}

/** 32 random bytes as base64url (43 characters): a bearer secret. */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** SHA-256 of a UTF-8 string, hex encoded: what is stored in place of a secret. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Compares two byte strings in time that does not depend on where they differ. */
export function sameBytes(a: Buffer, b: Buffer): boolean {
  // timingSafeEqual throws on a length mismatch; lengths of digests are public anyway.
  return a.length === b.length && timingSafeEqual(a, b);
}
