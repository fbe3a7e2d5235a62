/**
 * Passwords of the local server's users: generated once, kept in the
 * warehouse folder with mode 0600, read by every tgpulse command and by
 * anyone the machine's owner lets read the file (the reader's password is
 * what Grafana and SQL clients log in with).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WarehouseUsers } from './config-files.ts';

export const WRITER_USER = 'tgpulse';
export const READER_USER = 'reader';

/** Path of a user's password file in the warehouse folder. */
export function passwordFile(warehouseDir: string, role: 'writer' | 'reader'): string {
  return join(warehouseDir, `${role}.password`);
}

function readOrCreate(path: string, create: boolean): string | null {
  if (existsSync(path)) {
    const password = readFileSync(path, 'utf8').trim();
    if (password.length === 0) throw new Error(`${path} is empty: delete it to have a new password generated`);
    return password;
  }
  if (!create) return null;
  const password = randomBytes(24).toString('base64url');
  // 'wx': never overwrite a password another process just wrote.
  try {
    writeFileSync(path, `${password}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readOrCreate(path, false);
    throw err;
  }
  chmodSync(path, 0o600);
  return password;
}

/**
 * The users' credentials, generating missing passwords when `create` is set.
 *
 * @returns null when `create` is false and a password file is missing.
 */
export function loadUsers(warehouseDir: string, opts: { create: boolean }): WarehouseUsers | null {
  if (opts.create) mkdirSync(warehouseDir, { recursive: true, mode: 0o700 });
  const writer = readOrCreate(passwordFile(warehouseDir, 'writer'), opts.create);
  const reader = readOrCreate(passwordFile(warehouseDir, 'reader'), opts.create);
  if (writer === null || reader === null) return null;
  return { writer: { username: WRITER_USER, password: writer }, reader: { username: READER_USER, password: reader } };
}
