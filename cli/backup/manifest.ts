/**
 * The manifest of a tgpulse backup (`manifest.json` in the backup folder):
 * what each part holds, the schema it was taken from, and a checksum of every
 * file, so `tgpulse restore` can refuse a damaged or mismatched backup before
 * it touches anything. Pure: shapes and checks, no I/O.
 *
 * A backup folder holds:
 * - `control.jsonl`: the control plane's rows (control/dump.ts);
 * - `nats/<stream>.snapshot`: each JetStream stream with its consumers, the
 *   checkpoint bucket's stream among them (streams/snapshot.ts);
 * - `warehouse/<id>.tar`: the warehouse's own `BACKUP` archive, incremental
 *   over the base backup's archive when there is one (clickhouse/backup.ts).
 */
import type { StreamConfig, StreamState } from '@nats-io/jetstream';

/** Bumped when the layout changes; restore refuses formats it does not know. */
export const BACKUP_FORMAT = 1;

export const MANIFEST_FILE = 'manifest.json';
export const CONTROL_FILE = 'control.jsonl';

/** A migration as both schemas record it. */
export interface MigrationRecord {
  version: number;
  name: string;
  checksum: string;
}

/** A file of the backup, relative to its folder. */
export interface BackupFile {
  path: string;
  bytes: number;
  sha256: string;
}

export interface StreamPart {
  name: string;
  file: string;
  /** The stream's configuration and state as the server reported them at snapshot time. */
  config: StreamConfig;
  state: StreamState;
}

export interface BackupManifest {
  format: number;
  id: string;
  tgpulse_version: string;
  started_at: string;
  finished_at: string;
  /** The backup this one is incremental over (its warehouse archive is needed to restore). */
  base: { id: string; dir: string } | null;
  control: {
    driver: 'embedded' | 'server';
    file: string;
    tables: Record<string, number>;
    migrations: MigrationRecord[];
  };
  /** In the order they were taken (see take.ts: the order is what makes the cut consistent). */
  streams: StreamPart[];
  warehouse: {
    driver: 'local' | 'server';
    database: string;
    /** Where the archive is, for the local server inside this folder; on a user's server its disk and path. */
    archive: { file: string } | { disk: string; path: string };
    engine_version: string;
    migrations: MigrationRecord[];
    total_bytes: number;
  };
  files: BackupFile[];
}

/**
 * Why a backup's migrations do not fit this code, or null when they are the
 * same list. An exact match is required: a control-plane dump from another
 * schema cannot be loaded row for row, and a warehouse from a newer one would
 * hold tables this code does not know. Restore with the tgpulse that made
 * the backup, then upgrade by starting the new one.
 */
export function migrationMismatch(
  part: 'warehouse' | 'control plane',
  inBackup: readonly MigrationRecord[],
  inCode: readonly MigrationRecord[],
): string | null {
  const code = new Map(inCode.map((m) => [m.version, m]));
  const backup = new Map(inBackup.map((m) => [m.version, m]));
  for (const m of inBackup) {
    const mine = code.get(m.version);
    if (mine === undefined)
      return `the ${part} of this backup has migration ${m.version} (${m.name}), which this tgpulse does not have: it was made by a newer version`;
    if (mine.checksum !== m.checksum)
      return `the ${part} of this backup applied migration ${m.version} (${m.name}) with checksum ${m.checksum.slice(0, 12)}…, this tgpulse has ${mine.checksum.slice(0, 12)}…: it was made from a different schema`;
  }
  const missing = inCode.filter((m) => !backup.has(m.version));
  if (missing.length)
    return `the ${part} of this backup lacks migrations ${missing.map((m) => `${m.version} (${m.name})`).join(', ')}: it was made by an older tgpulse; restore it with that version, then start this one to upgrade`;
  return null;
}

/**
 * Checks the parsed `manifest.json` has the shape this code writes.
 *
 * @throws Error naming the first field that is wrong.
 */
export function parseManifest(value: unknown, where: string): BackupManifest {
  const m = value as Partial<BackupManifest> | null;
  const fail = (what: string): never => {
    throw new Error(`${where}: not a tgpulse backup manifest (${what})`);
  };
  if (m === null || typeof m !== 'object') return fail('not an object');
  if (m.format !== BACKUP_FORMAT) return fail(`format ${String(m.format)}, this tgpulse reads ${BACKUP_FORMAT}`);
  if (typeof m.id !== 'string' || !/^[A-Za-z0-9_-]+$/.test(m.id)) return fail('id');
  if (!Array.isArray(m.files) || !m.files.every(isBackupFile)) return fail('files');
  if (!Array.isArray(m.streams) || !m.streams.every((s) => typeof s?.name === 'string' && typeof s.file === 'string'))
    return fail('streams');
  if (typeof m.control?.file !== 'string' || !Array.isArray(m.control.migrations)) return fail('control');
  if (typeof m.warehouse?.database !== 'string' || !Array.isArray(m.warehouse.migrations)) return fail('warehouse');
  if (m.base !== null && (typeof m.base?.id !== 'string' || typeof m.base.dir !== 'string')) return fail('base');
  return m as BackupManifest;
}

function isBackupFile(f: unknown): f is BackupFile {
  const file = f as Partial<BackupFile> | null;
  return (
    typeof file?.path === 'string' &&
    !file.path.startsWith('/') &&
    !file.path.split('/').includes('..') &&
    typeof file.bytes === 'number' &&
    typeof file.sha256 === 'string'
  );
}

/** A backup id from its start time: sortable, and a plain name in SQL and on disk. */
export function backupId(startedAt: number, suffix: string): string {
  return `tgpulse-${new Date(startedAt)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}-${suffix}`;
}
