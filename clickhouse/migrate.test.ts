import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR, MigrationError, appliedMigrations, loadMigrations, migrate } from './migrate.ts';
import { openTempWarehouse, type TempWarehouse } from './testing.ts';

/** Migrations shipped with tgpulse; the probes below come after them. */
const SHIPPED = readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).length;

describe('migrate (chDB)', () => {
  let t: TempWarehouse;
  const scratch = mkdtempSync(join(tmpdir(), 'tgpulse-migrations-'));
  /** A copy of the shipped migrations plus extra files, to play with. */
  function migrationsCopy(name: string, extra: Record<string, string> = {}): string {
    const dir = join(scratch, name);
    cpSync(MIGRATIONS_DIR, dir, { recursive: true });
    for (const [file, sql] of Object.entries(extra)) writeFileSync(join(dir, file), sql);
    return dir;
  }

  beforeAll(async () => {
    t = await openTempWarehouse({ migrated: false });
  });
  afterAll(async () => {
    await t?.dispose();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('applies the shipped migrations in order and records them', async () => {
    const shipped = await loadMigrations();
    const result = await migrate(t.wh, { now: () => Date.UTC(2024, 5, 1) });
    expect(result.applied.map((m) => m.file)).toEqual(shipped.map((m) => m.file));
    expect(result.unchanged).toBe(0);
    expect(await appliedMigrations(t.wh)).toEqual(
      shipped.map((m) => ({
        version: m.version,
        name: m.name,
        checksum: m.checksum,
        applied_at: Date.UTC(2024, 5, 1),
      })),
    );
    const tables = await t.wh.query<{ name: string }>(
      'SELECT name FROM system.tables WHERE database = currentDatabase() AND name = {n:String}',
      {
        n: 'channel_hourly_mv',
      },
    );
    expect(tables).toEqual([{ name: 'channel_hourly_mv' }]);
  });

  it('is a no-op when run again', async () => {
    const result = await migrate(t.wh);
    expect(result.applied).toEqual([]);
    expect(result.unchanged).toBe(SHIPPED);
    expect(await t.wh.query('SELECT count() AS n FROM schema_migrations')).toEqual([{ n: String(SHIPPED) }]);
  });

  it('applies only a new migration', async () => {
    const dir = migrationsCopy('new', {
      '090_add_probe.sql': 'CREATE TABLE IF NOT EXISTS probe (x UInt8) ENGINE = {{engine MergeTree}} ORDER BY x;\n',
    });
    const result = await migrate(t.wh, { dir });
    expect(result.applied.map((m) => m.file)).toEqual(['090_add_probe.sql']);
    expect(result.unchanged).toBe(SHIPPED);
  });

  it('stops when an applied migration was edited', async () => {
    const dir = migrationsCopy('edited', {
      '090_add_probe.sql': 'CREATE TABLE IF NOT EXISTS probe (x UInt8) ENGINE = {{engine MergeTree}} ORDER BY x;\n',
    });
    const file = join(dir, '002_derived_tables.sql');
    writeFileSync(file, readFileSync(file, 'utf8').replace('z Float64,', 'z Float32,'));
    await expect(migrate(t.wh, { dir })).rejects.toThrow(MigrationError);
    await expect(migrate(t.wh, { dir })).rejects.toThrow(/002_derived_tables\.sql was changed after it was applied/);
  });

  it('does not mistake a CRLF checkout for an edit', async () => {
    const dir = migrationsCopy('crlf', {
      '090_add_probe.sql': 'CREATE TABLE IF NOT EXISTS probe (x UInt8) ENGINE = {{engine MergeTree}} ORDER BY x;\r\n',
    });
    const file = join(dir, '001_raw_tables.sql');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/\n/g, '\r\n'));
    expect((await migrate(t.wh, { dir })).applied).toEqual([]);
  });

  it('stops when the schema is newer than the code (an applied migration is missing)', async () => {
    await expect(migrate(t.wh)).rejects.toThrow(/090_add_probe is applied but not in the migrations folder/);
  });

  it('does not record a migration whose statement failed, names it, and retries it whole next time', async () => {
    const good = 'CREATE TABLE IF NOT EXISTS probe2 (x UInt8) ENGINE = {{engine MergeTree}} ORDER BY x;\n';
    const probe = {
      '090_add_probe.sql': 'CREATE TABLE IF NOT EXISTS probe (x UInt8) ENGINE = {{engine MergeTree}} ORDER BY x;\n',
    };
    const broken = migrationsCopy('broken', {
      ...probe,
      '091_two_steps.sql': `${good}\nALTER TABLE probe2 ADD COLUMN y Nope;\n`,
    });
    await expect(migrate(t.wh, { dir: broken })).rejects.toThrow(
      /091_two_steps\.sql: statement 2 of 2 failed \(ALTER TABLE probe2 ADD COLUMN y Nope\)/,
    );
    expect((await appliedMigrations(t.wh)).map((a) => a.version)).toEqual([
      ...Array.from({ length: SHIPPED }, (_, i) => i + 1),
      90,
    ]);

    const fixed = migrationsCopy('fixed', {
      ...probe,
      '091_two_steps.sql': `${good}\nALTER TABLE probe2 ADD COLUMN IF NOT EXISTS y UInt8;\n`,
    });
    expect((await migrate(t.wh, { dir: fixed })).applied.map((m) => m.version)).toEqual([91]);
  });

  it('refuses a badly named migration file', async () => {
    const dir = migrationsCopy('badname', { '6_oops.sql': 'SELECT 1;' });
    await expect(loadMigrations(dir)).rejects.toThrow(/NNN_lower_snake_name\.sql/);
  });
});
