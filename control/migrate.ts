/**
 * Numbered SQL migrations of the control plane (`control/migrations/NNN_name.sql`).
 *
 * Each file runs once, in order, in its own transaction, and is recorded in
 * `control_migrations` with a checksum. A file changed after it was applied
 * stops the start: the database no longer matches the code, and guessing
 * which one is right would be worse than asking.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Pool } from 'pg';
import { silentLogger, type Logger } from '../observability/index.ts';
import { sha256Hex } from './crypto.ts';
import { withTransaction } from './db.ts';

/** One migration file, read and checksummed. */
export interface ControlMigration {
  version: number;
  name: string;
  sql: string;
  /** SHA-256 (hex) of the file's text. */
  checksum: string;
}

/** The folder of the migrations shipped with this code. */
export const CONTROL_MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

/**
 * Key of the advisory lock held while migrating, so two processes starting
 * at once against one server apply each file once. Any constant works as long
 * as nothing else in the database uses it; this one spells "tgpctl" in ASCII.
 */
const MIGRATION_LOCK_KEY = 0x7467_7063_746c;

const MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS control_migrations (
  version    int PRIMARY KEY,
  name       text NOT NULL,
  checksum   text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

const FILE_NAME = /^(\d+)_([\w-]+)\.sql$/;

/**
 * Reads the migrations of a folder in version order. Files that do not look
 * like `NNN_name.sql` are ignored; two files with one version are an error,
 * since their order would be undefined.
 */
export async function loadControlMigrations(dir: string = CONTROL_MIGRATIONS_DIR): Promise<ControlMigration[]> {
  const migrations: ControlMigration[] = [];
  for (const file of (await readdir(dir)).sort()) {
    const match = FILE_NAME.exec(file);
    if (!match) continue;
    const sql = await readFile(join(dir, file), 'utf8');
    migrations.push({ version: Number(match[1]), name: file, sql, checksum: sha256Hex(sql) });
  }
  migrations.sort((a, b) => a.version - b.version);
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i].version === migrations[i - 1].version) {
      throw new Error(
        `control migrations ${migrations[i - 1].name} and ${migrations[i].name} share version ${migrations[i].version}: renumber one of them`,
      );
    }
  }
  return migrations;
}

/**
 * Applies the pending control-plane migrations and returns the versions it
 * applied (empty when the schema was up to date).
 *
 * @example
 * const applied = await migrateControl(pool, { log });
 */
export async function migrateControl(
  pool: Pool,
  opts: { migrations?: ControlMigration[]; log?: Logger } = {},
): Promise<number[]> {
  const log = opts.log ?? silentLogger;
  const migrations = opts.migrations ?? (await loadControlMigrations());
  const applied: number[] = [];
  for (const m of migrations) {
    const ran = await withTransaction(pool, async (client) => {
      // Held until this transaction ends; a second migrator waits here and then sees the row.
      await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
      await client.query(MIGRATIONS_TABLE);
      const { rows } = await client.query<{ checksum: string }>(
        'SELECT checksum FROM control_migrations WHERE version = $1',
        [m.version],
      );
      if (rows.length > 0) {
        if (rows[0].checksum !== m.checksum) {
          throw new Error(
            `control migration ${m.name} was changed after it was applied (checksum ${rows[0].checksum.slice(0, 12)}… in the database, ` +
              `${m.checksum.slice(0, 12)}… on disk): restore the file and put schema changes in a new numbered migration`,
          );
        }
        return false;
      }
      await client.query(m.sql);
      await client.query('INSERT INTO control_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
        m.version,
        m.name,
        m.checksum,
      ]);
      return true;
    });
    if (ran) {
      applied.push(m.version);
      log.info({ migration: m.name }, 'applied control-plane migration');
    }
  }
  return applied;
}
