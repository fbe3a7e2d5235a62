/**
 * Schema migrations: numbered SQL files (`NNN_name.sql` in `migrations/`)
 * applied in order and recorded in `schema_migrations`.
 *
 * - Re-running is a no-op: applied versions are skipped.
 * - An applied migration must never change: its checksum is compared on every
 *   run and a mismatch stops the run (add a new migration instead).
 * - A migration that fails part-way is not recorded and is re-run from its
 *   first statement next time, so every statement must be idempotent
 *   (`IF NOT EXISTS`, `IF EXISTS`).
 * - One migrator at a time: there is no lock, start `tgpulse migrate` once.
 *
 * Files are written with the `{{…}}` markers of `template.ts` and rendered for
 * the target: plain DDL for chDB or one server, `ON CLUSTER`/Replicated/
 * Distributed DDL for a cluster. On a cluster `schema_migrations` is a
 * replicated table of the shard the migrator talks to; point `migrate` at the
 * same shard each time.
 */
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { messageOf } from './errors.ts';
import { SINGLE_NODE, renderStatement, splitStatements, type RenderTarget } from './template.ts';
import { fromChTime, toChTime, toSafeInt } from './values.ts';
import type { Warehouse, WarehouseConfig } from './warehouse.ts';

/** The migrations shipped with tgpulse. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

/** One migration file as found on disk. */
export interface Migration {
  version: number;
  name: string;
  file: string;
  /** sha256 of the file text (line endings normalised, so a CRLF checkout matches). */
  checksum: string;
  sql: string;
}

/** A row of `schema_migrations`. */
export interface AppliedMigration {
  version: number;
  name: string;
  checksum: string;
  applied_at: number;
}

export interface MigrateResult {
  /** Migrations applied by this run, in order. */
  applied: Migration[];
  /** Migrations found already applied (and unchanged). */
  unchanged: number;
}

export interface MigrateOptions {
  /** Folder of migration files (default: {@link MIGRATIONS_DIR}). */
  dir?: string;
  /** Render for a cluster instead of a single node (see {@link renderTargetFor}). */
  target?: RenderTarget;
  /** Clock for `applied_at` (tests). */
  now?: () => number;
}

/** Why migrating stopped; names the file and, when one failed, the statement. */
export class MigrationError extends Error {
  override readonly name = 'MigrationError';
}

const FILE_RE = /^(\d{3,})_([a-z0-9_]+)\.sql$/;

const SCHEMA_MIGRATIONS_DDL = `CREATE TABLE IF NOT EXISTS schema_migrations {{on_cluster}}
(
    version UInt32,
    name String,
    checksum String,
    applied_at DateTime64(3, 'UTC')
)
ENGINE = {{engine ReplacingMergeTree(applied_at)}}
ORDER BY version`;

/** The render target a warehouse configuration implies. */
export function renderTargetFor(cfg: WarehouseConfig): RenderTarget {
  return cfg.driver === 'server' && cfg.cluster !== undefined
    ? { kind: 'cluster', cluster: cfg.cluster, database: cfg.database }
    : SINGLE_NODE;
}

/**
 * Read and order the migration files of a folder.
 *
 * @throws MigrationError for a `.sql` file not named `NNN_name.sql` or a duplicate version.
 */
export async function loadMigrations(dir: string = MIGRATIONS_DIR): Promise<Migration[]> {
  const migrations: Migration[] = [];
  for (const file of (await readdir(dir)).sort()) {
    if (!file.endsWith('.sql')) continue;
    const m = FILE_RE.exec(file);
    if (!m) throw new MigrationError(`${join(dir, file)}: migration files are named NNN_lower_snake_name.sql`);
    const sql = (await readFile(join(dir, file), 'utf8')).replace(/\r\n/g, '\n');
    migrations.push({ version: Number(m[1]), name: m[2], file, checksum: sha256(sql), sql });
  }
  migrations.sort((a, b) => a.version - b.version);
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i].version === migrations[i - 1].version) {
      throw new MigrationError(
        `${migrations[i - 1].file} and ${migrations[i].file} share version ${migrations[i].version}`,
      );
    }
  }
  return migrations;
}

/** The statements of a migration as they will be sent for a target. */
export function migrationStatements(migration: Pick<Migration, 'sql'>, target: RenderTarget = SINGLE_NODE): string[] {
  return splitStatements(migration.sql)
    .map((s) => renderStatement(s, target).trim())
    .filter((s) => s.length > 0);
}

/**
 * Bring the warehouse schema up to date.
 *
 * ```ts
 * const { applied } = await migrate(wh, { target: renderTargetFor(cfg) });
 * ```
 * @throws MigrationError on a changed or missing applied migration, or a failed statement.
 */
export async function migrate(wh: Warehouse, opts: MigrateOptions = {}): Promise<MigrateResult> {
  const target = opts.target ?? SINGLE_NODE;
  const now = opts.now ?? Date.now;
  const migrations = await loadMigrations(opts.dir);

  await wh.exec(renderStatement(SCHEMA_MIGRATIONS_DDL, target));
  const applied = await appliedMigrations(wh);
  const byVersion = new Map(migrations.map((m) => [m.version, m]));
  for (const a of applied) {
    const m = byVersion.get(a.version);
    if (m === undefined) {
      throw new MigrationError(
        `migration ${pad(a.version)}_${a.name} is applied but not in the migrations folder: this schema is newer than this code`,
      );
    }
    if (m.checksum !== a.checksum) {
      throw new MigrationError(
        `${m.file} was changed after it was applied (checksum ${short(m.checksum)}, applied ${short(a.checksum)}); ` +
          'restore it and put the change in a new migration',
      );
    }
  }

  const done = new Set(applied.map((a) => a.version));
  const result: MigrateResult = { applied: [], unchanged: applied.length };
  for (const m of migrations) {
    if (done.has(m.version)) continue;
    await applyMigration(wh, m, target);
    await wh.insertRows('schema_migrations', [
      { version: m.version, name: m.name, checksum: m.checksum, applied_at: toChTime(now()) },
    ]);
    result.applied.push(m);
  }
  return result;
}

/** The rows of `schema_migrations`, by version. */
export async function appliedMigrations(wh: Warehouse): Promise<AppliedMigration[]> {
  const rows = await wh.query<Record<string, unknown>>(
    'SELECT version, name, checksum, applied_at FROM schema_migrations FINAL ORDER BY version',
  );
  return rows.map((r) => ({
    version: toSafeInt(r.version),
    name: String(r.name),
    checksum: String(r.checksum),
    applied_at: fromChTime(r.applied_at),
  }));
}

async function applyMigration(wh: Warehouse, m: Migration, target: RenderTarget): Promise<void> {
  const statements = migrationStatements(m, target);
  for (const [i, statement] of statements.entries()) {
    try {
      await wh.exec(statement);
    } catch (err) {
      throw new MigrationError(
        `${m.file}: statement ${i + 1} of ${statements.length} failed (${firstLine(statement)}): ${messageOf(err)}`,
        { cause: err },
      );
    }
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function pad(version: number): string {
  return String(version).padStart(3, '0');
}

function short(checksum: string): string {
  return checksum.slice(0, 12);
}

function firstLine(statement: string): string {
  return (
    statement
      .split('\n')
      .find((l) => l.trim() !== '' && !l.trim().startsWith('--'))
      ?.trim() ?? ''
  );
}
