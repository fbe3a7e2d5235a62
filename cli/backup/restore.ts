/**
 * `tgpulse restore DIR`: a backup brought back into an empty deployment.
 *
 * Everything is checked before anything is written: the manifest and every
 * file's checksum (of the base backups too, for an incremental one), the
 * migrations against this code's, and that the target is empty (the data
 * folder's stores, or the configured NATS streams, warehouse database and
 * control-plane tables). Then the streams with their consumers and the
 * checkpoint bucket, the warehouse database and the control plane's rows.
 * Started afterwards, the processors resume from the restored checkpoints,
 * the sinks from their restored consumers, the collectors from their cursors.
 */
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Pool } from 'pg';
import {
  loadMigrations,
  openWarehouse,
  restoreDatabase,
  type BackupLocation,
  type Warehouse,
} from '../../clickhouse/index.ts';
import { backupsDir, warehouseDir } from '../../clickhouse/local-server/index.ts';
import { loadControl, loadControlMigrations } from '../../control/index.ts';
import { isNotFound, restoreStream } from '../../streams/index.ts';
import { type Context, connectJetStream, ensureLocalWarehouse } from '../context.ts';
import { openControlFor } from '../control.ts';
import { readInstance } from '../instance.ts';
import { migrationMismatch } from './manifest.ts';
import { BackupRefused, readBackupChain, type VerifiedBackup } from './read.ts';
import { localArchive, placeInto } from './files.ts';

export interface RestoredBackup {
  id: string;
  ms: number;
  streams: Array<{ name: string; messages: number }>;
  controlRows: Record<string, number>;
  warehouseBytes: number;
}

/**
 * Restores the backup in `dir` into the deployment `ctx` is configured for,
 * which must be empty.
 *
 * @throws BackupRefused for a damaged or mismatched backup; Error naming what is not empty.
 */
export async function restoreBackup(ctx: Context, dir: string): Promise<RestoredBackup> {
  const started = Date.now();
  const chain = await readBackupChain(dir);
  const [backup] = chain;
  const m = backup.manifest;
  const refuse = (reason: string | null): void => {
    if (reason !== null) throw new BackupRefused(backup.dir, reason);
  };
  refuse(migrationMismatch('warehouse', m.warehouse.migrations, await loadMigrations()));
  refuse(migrationMismatch('control plane', m.control.migrations, await loadControlMigrations()));
  if (m.warehouse.driver !== ctx.config.warehouse.driver)
    refuse(`it is of a ${m.warehouse.driver} warehouse and this deployment's is ${ctx.config.warehouse.driver}`);
  if (m.warehouse.database !== ctx.config.warehouse.database)
    refuse(`its warehouse database is ${m.warehouse.database}, this deployment's is ${ctx.config.warehouse.database}`);
  refuseNonEmptyDataDir(ctx);

  const nats = await connectJetStream(ctx, { name: 'tgpulse-restore' });
  for (const part of m.streams) {
    const exists = await nats.jsm.streams.info(part.name).then(
      () => true,
      (err: unknown) => {
        if (isNotFound(err)) return false;
        throw err;
      },
    );
    if (exists)
      throw new Error(
        `stream ${part.name} exists on ${nats.url}: restore into a NATS without tgpulse's streams (delete them, or point TGPULSE_NATS_URL elsewhere)`,
      );
  }
  const cfg = ctx.config.warehouse;
  if (cfg.driver === 'local') await ensureLocalWarehouse(ctx);
  const wh = await openWarehouse(cfg);
  ctx.onClose('the warehouse connection', () => wh.close());
  await refuseNonEmptyWarehouse(wh, cfg.database);
  const control = await openControlFor(ctx.config, ctx.log);
  ctx.onClose('the control plane', () => control.close());
  await refuseNonEmptyControl(control.pool);

  // Checked: from here on everything is written.
  const streams: RestoredBackup['streams'] = [];
  for (const part of m.streams) {
    await restoreStream(
      nats.nc,
      { stream: part.name, config: part.config, state: part.state },
      join(backup.dir, part.file),
    );
    streams.push({ name: part.name, messages: part.state.messages });
    ctx.log.info({ stream: part.name }, 'stream restored');
  }
  const warehouseBytes = await restoreWarehouse(ctx, wh, chain);
  ctx.log.info({ bytes: warehouseBytes }, 'warehouse restored');
  const controlRows = await loadControl(control.pool, join(backup.dir, m.control.file));
  return { id: m.id, ms: Date.now() - started, streams, controlRows, warehouseBytes };
}

/** The data folder's own stores must not exist yet: a restore never merges into data. */
function refuseNonEmptyDataDir(ctx: Context): void {
  const cfg = ctx.config;
  const running = readInstance(cfg.dataDir);
  if (running)
    throw new Error(
      `tgpulse runs on ${cfg.dataDir} (pid ${running.pid}): stop it, and restore into an empty data folder`,
    );
  const stores = [
    ...(cfg.warehouse.driver === 'local' ? [join(warehouseDir(cfg.dataDir), 'clickhouse')] : []),
    ...(cfg.control.driver === 'embedded' ? [cfg.control.path] : []),
    ...(cfg.explicitNatsUrl === null ? [join(cfg.dataDir, 'nats', 'jetstream')] : []),
  ];
  const used = stores.filter((path) => existsSync(path) && readdirSync(path).length > 0);
  if (used.length)
    throw new Error(
      `the data folder ${cfg.dataDir} already holds data (${used.join(', ')}): restore into an empty data folder (TGPULSE_DATA_DIR)`,
    );
}

async function refuseNonEmptyControl(pool: Pool): Promise<void> {
  const { rows } = await pool.query<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.tables
      WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'control_migrations'`,
  );
  for (const { name } of rows) {
    const { rows: any } = await pool.query(`SELECT 1 FROM "${name.replace(/"/g, '""')}" LIMIT 1`);
    if (any.length)
      throw new Error(
        `the control plane's table ${name} is not empty: restore into an empty control plane (a new database for TGPULSE_POSTGRES_URL)`,
      );
  }
}

/**
 * Restores the warehouse database: on the local server from the archives
 * linked into its backups folder for the time it takes (an incremental
 * archive reads its bases by name), on a user's server from its backup disk.
 */
async function restoreWarehouse(ctx: Context, wh: Warehouse, chain: VerifiedBackup[]): Promise<number> {
  const cfg = ctx.config.warehouse;
  const m = chain[0].manifest;
  const staged: string[] = [];
  try {
    let from: BackupLocation;
    if (cfg.driver === 'local') {
      const stage = backupsDir(cfg.dataDir);
      mkdirSync(stage, { recursive: true });
      for (const b of chain) staged.push(placeInto(stage, localArchive(b)));
      from = { engine: 'File', path: `${m.id}.tar` };
    } else {
      const archive = m.warehouse.archive;
      if (!('disk' in archive)) throw new BackupRefused(chain[0].dir, 'its warehouse archive is not on a server disk');
      from = { engine: 'Disk', disk: archive.disk, path: archive.path };
    }
    const outcome = await restoreDatabase(wh, cfg.database, `restore-${m.id}-${Date.now()}`, from);
    return outcome.totalBytes;
  } finally {
    for (const path of staged) rmSync(path, { force: true });
  }
}

async function refuseNonEmptyWarehouse(wh: Warehouse, database: string): Promise<void> {
  const tables = await wh.query<{ name: string }>(
    'SELECT name FROM system.tables WHERE database = {db:String} LIMIT 5',
    { db: database },
  );
  if (tables.length)
    throw new Error(
      `the warehouse database ${database} already has tables (${tables.map((t) => t.name).join(', ')}): restore into an empty database`,
    );
}
