import { randomBytes } from 'node:crypto';
import { madeUpSession } from '../test/support/fake-telegram.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import { decryptSession, encryptSession, parseSessionKey, SessionKeyError } from './session-crypto.ts';

describe('session crypto', () => {
  const key = randomBytes(32);
  let plain = '';
  beforeAll(async () => {
    plain = await madeUpSession();
    expect(plain).toMatch(/^1[A-Za-z0-9+/=]{300,}$/);
  });

  it('opens what it sealed, for the same account and key', () => {
    const sealed = encryptSession(plain, key, 'a1b2c3d4e5f6');
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
    expect(decryptSession(sealed, key, 'a1b2c3d4e5f6')).toBe(plain);
  });

  it('seals the same session differently each time, and never shows it', () => {
    const one = encryptSession(plain, key, 'a1b2c3d4e5f6');
    const two = encryptSession(plain, key, 'a1b2c3d4e5f6');
    expect(one).not.toBe(two);
    expect(one).not.toContain(plain.slice(0, 24));
    expect(Buffer.from(one.split('.')[2], 'base64url').toString('utf8')).not.toContain(plain.slice(0, 24));
  });

  it('refuses a wrong key, saying so without the key or the session', () => {
    const sealed = encryptSession(plain, key, 'a1b2c3d4e5f6');
    const other = randomBytes(32);
    expect(() => decryptSession(sealed, other, 'a1b2c3d4e5f6')).toThrow(SessionKeyError);
    try {
      decryptSession(sealed, other, 'a1b2c3d4e5f6');
    } catch (err) {
      const message = (err as Error).message;
      expect(message).toMatch(/key is wrong or the stored session was tampered with/);
      expect(message).toContain('TGPULSE_SESSION_KEY');
      expect(message).toContain('a1b2c3d4e5f6');
      for (const secret of [
        other.toString('hex'),
        other.toString('base64'),
        key.toString('hex'),
        key.toString('base64'),
        plain,
      ])
        expect(message).not.toContain(secret);
    }
  });

  it('refuses a sealed session moved to another account', () => {
    const sealed = encryptSession(plain, key, 'a1b2c3d4e5f6');
    expect(() => decryptSession(sealed, key, '0123456789ab')).toThrow(SessionKeyError);
  });

  it('refuses tampered ciphertext, IV, tag and malformed text', () => {
    const sealed = encryptSession(plain, key, 'a1b2c3d4e5f6');
    const parts = sealed.split('.');
    const flip = (part: string): string => {
      const bytes = Buffer.from(part, 'base64url');
      bytes[0] ^= 0x01;
      return bytes.toString('base64url');
    };
    for (const i of [1, 2, 3]) {
      const tampered = parts.map((p, j) => (j === i ? flip(p) : p)).join('.');
      expect(() => decryptSession(tampered, key, 'a1b2c3d4e5f6'), `part ${i}`).toThrow(SessionKeyError);
    }
    for (const bad of [
      '',
      plain,
      `v2.${parts.slice(1).join('.')}`,
      parts.slice(0, 3).join('.'),
      `${sealed}.x`,
      sealed.replace(parts[1], parts[1].slice(2)),
      sealed.replace(parts[3], '!!'),
    ]) {
      expect(() => decryptSession(bad, key, 'a1b2c3d4e5f6'), JSON.stringify(bad)).toThrow(SessionKeyError);
    }
  });

  it('reads a key from 64 hex characters or 44 base64 characters', () => {
    expect(parseSessionKey(key.toString('hex'))).toEqual(key);
    expect(parseSessionKey(key.toString('hex').toUpperCase())).toEqual(key);
    expect(parseSessionKey(` ${key.toString('base64')}\n`)).toEqual(key);
    expect(parseSessionKey(`${key.toString('base64url')}=`)).toEqual(key);
    const sealed = encryptSession(plain, parseSessionKey(key.toString('hex')), 'x');
    expect(decryptSession(sealed, parseSessionKey(key.toString('base64')), 'x')).toBe(plain);
  });

  it('refuses bad key text, naming the variable and the form but not the value', () => {
    const short = randomBytes(16);
    for (const bad of [
      '',
      'hunter2hunter2',
      short.toString('hex'),
      short.toString('base64'),
      `${key.toString('hex').slice(1)}g`,
      randomBytes(33).toString('base64'),
      key.toString('base64').slice(0, 43),
    ]) {
      expect(() => parseSessionKey(bad), JSON.stringify(bad)).toThrow(
        /TGPULSE_SESSION_KEY must be 32 bytes written as 64 hex characters or 44 base64 characters/,
      );
      try {
        parseSessionKey(bad);
      } catch (err) {
        if (bad.length > 0) expect((err as Error).message).not.toContain(bad);
      }
    }
  });
});
