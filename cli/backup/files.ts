/**
 * The files of a backup folder: their checksums when it is written, the
 * check `tgpulse restore` makes before it trusts them, and placing a
 * warehouse archive where the local server may read it.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, createReadStream, existsSync, linkSync, readdirSync, rmSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import type { BackupFile, BackupManifest } from './manifest.ts';

/** Size and SHA-256 of a file, read as a stream. */
export async function hashFile(path: string): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { bytes, sha256: hash.digest('hex') };
}

/** Every file under `dir` (relative paths, sorted) except `skip`. */
export function filesUnder(dir: string, skip: readonly string[] = []): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else out.push(relative(dir, path));
    }
  };
  walk(dir);
  return out.filter((p) => !skip.includes(p)).sort();
}

/** The manifest entries of the given files of `dir`. */
export async function describeFiles(dir: string, paths: readonly string[]): Promise<BackupFile[]> {
  const files: BackupFile[] = [];
  for (const path of paths) files.push({ path, ...(await hashFile(join(dir, path))) });
  return files;
}

/**
 * Why the files of `dir` do not match their manifest entries, or null when
 * every file is there with its size and checksum. Files the manifest does not
 * name are refused too: a backup folder is written whole, never added to.
 */
export async function filesMismatch(dir: string, files: readonly BackupFile[], skip: string): Promise<string | null> {
  for (const f of files) {
    const path = join(dir, f.path);
    if (!existsSync(path)) return `${f.path} is missing`;
    const size = statSync(path).size;
    if (size !== f.bytes) return `${f.path} has ${size} bytes, the manifest says ${f.bytes}`;
    const { sha256 } = await hashFile(path);
    if (sha256 !== f.sha256)
      return `${f.path} fails its checksum (sha256 ${sha256.slice(0, 12)}…, the manifest says ${f.sha256.slice(0, 12)}…)`;
  }
  const named = new Set(files.map((f) => f.path));
  const extra = filesUnder(dir, [skip]).filter((p) => !named.has(p));
  return extra.length ? `${extra.join(', ')} ${extra.length === 1 ? 'is' : 'are'} not in the manifest` : null;
}

/** The absolute path of a local backup's warehouse archive. */
export function localArchive(backup: { dir: string; manifest: BackupManifest }): string {
  const archive = backup.manifest.warehouse.archive;
  if (!('file' in archive))
    throw new Error(`${backup.dir} is a backup of a ClickHouse server, not of a local warehouse`);
  return join(backup.dir, archive.file);
}

/** Links (or copies, across file systems) a file into a folder under its own name; returns the new path. */
export function placeInto(folder: string, file: string): string {
  const target = join(folder, basename(file));
  rmSync(target, { force: true });
  try {
    linkSync(file, target);
  } catch {
    copyFileSync(file, target);
  }
  return target;
}
