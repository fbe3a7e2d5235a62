/**
 * Reading a backup folder back: its manifest, checked against every file it
 * names, and the chain of base backups an incremental one needs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { filesMismatch } from './files.ts';
import { type BackupManifest, MANIFEST_FILE, parseManifest } from './manifest.ts';

/** A backup folder whose files match its manifest. */
export interface VerifiedBackup {
  dir: string;
  manifest: BackupManifest;
}

/** A backup that cannot be used, with the reason in its message. */
export class BackupRefused extends Error {
  constructor(
    readonly dir: string,
    reason: string,
  ) {
    super(`the backup in ${dir} cannot be restored: ${reason}`);
    this.name = 'BackupRefused';
  }
}

/**
 * Reads and verifies one backup folder.
 *
 * @throws BackupRefused when the manifest is missing or malformed, or a file is missing, resized or corrupt.
 */
export async function readBackup(dirArg: string): Promise<VerifiedBackup> {
  const dir = resolve(dirArg);
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path))
    throw new BackupRefused(dir, `there is no ${MANIFEST_FILE}: not a tgpulse backup, or one that did not finish`);
  let manifest: BackupManifest;
  try {
    manifest = parseManifest(JSON.parse(readFileSync(path, 'utf8')), MANIFEST_FILE);
  } catch (err) {
    throw new BackupRefused(dir, (err as Error).message);
  }
  const mismatch = await filesMismatch(dir, manifest.files, MANIFEST_FILE);
  if (mismatch !== null) throw new BackupRefused(dir, mismatch);
  return { dir, manifest };
}

/**
 * The backup and every base it is incremental over, newest first, each
 * verified. A base must be where the backup was made from, with the id the
 * backup recorded.
 */
export async function readBackupChain(dir: string): Promise<VerifiedBackup[]> {
  const chain = [await readBackup(dir)];
  for (let base = chain[0].manifest.base; base !== null; base = chain[chain.length - 1].manifest.base) {
    if (chain.length > 100) throw new BackupRefused(dir, 'its chain of base backups is longer than 100');
    const previous = chain[chain.length - 1];
    if (!existsSync(base.dir))
      throw new BackupRefused(
        previous.dir,
        `it is incremental over ${base.id}, expected in ${base.dir}, which is gone: put that backup back there`,
      );
    const found = await readBackup(base.dir);
    if (found.manifest.id !== base.id)
      throw new BackupRefused(previous.dir, `its base in ${base.dir} is ${found.manifest.id}, not ${base.id}`);
    chain.push(found);
  }
  return chain;
}
