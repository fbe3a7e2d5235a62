/**
 * `tgpulse backup DIR`: a consistent backup of a running deployment.
 *
 * Nothing is paused. Consistency comes from the order the parts are taken,
 * each later part holding at least what the earlier ones refer to:
 * 1. the control plane: the collectors' cursors (pts, last post) never run
 *    ahead of what TG_RAW holds, so after a restore they re-read, never skip;
 * 2. the checkpoint bucket: a processor's checkpoint covers raw sequences
 *    whose outputs it published before writing it;
 * 3. TG_DERIVED and TG_DLQ, which therefore hold every output the checkpoints
 *    cover, and the sinks' consumer positions on them;
 * 4. TG_RAW, which holds every sequence the checkpoints cover;
 * 5. the warehouse last: it holds at least every row the sinks acked in the
 *    stream snapshots. Rows beyond that are written again after a restore and
 *    collapse by id (ReplacingMergeTree, insert tokens, argMax states).
 * After a restore every role resumes from its restored position and the
 * final tables equal those of an uninterrupted run.
 */
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { appliedMigrations, backupDatabase, openWarehouse } from '../../clickhouse/index.ts';
import { backupsDir } from '../../clickhouse/local-server/index.ts';
import { dumpControl } from '../../control/index.ts';
import { snapshotStream } from '../../streams/index.ts';
import { type Context, ensureLocalWarehouse, openNats } from '../context.ts';
import { openControlFor } from '../control.ts';
import { describeFiles, filesUnder, localArchive, placeInto } from './files.ts';
import {
  BACKUP_FORMAT,
  type BackupManifest,
  backupId,
  CONTROL_FILE,
  MANIFEST_FILE,
  type StreamPart,
} from './manifest.ts';
import { readBackup } from './read.ts';
import { TGPULSE_VERSION } from '../version.ts';

export interface TakenBackup {
  manifest: BackupManifest;
  dir: string;
  ms: number;
  bytes: number;
}

/**
 * Writes a backup of the deployment `ctx` is configured for into `dir`
 * (created; it must not exist or be empty), incremental over the backup in
 * `base` when given.
 *
 * @throws Error saying which part failed; the half-written folder is removed.
 */
export async function takeBackup(ctx: Context, dirArg: string, opts: { base?: string } = {}): Promise<TakenBackup> {
  const dir = resolve(dirArg);
  if (existsSync(dir) && readdirSync(dir).length > 0)
    throw new Error(
      `${dir} is not empty: give tgpulse backup a new folder (a backup is written whole, never into another)`,
    );
  const base = opts.base ? await readBackup(resolve(opts.base)) : null;
  if (base && base.manifest.warehouse.driver !== ctx.config.warehouse.driver)
    throw new Error(
      `the base backup ${base.dir} is of a ${base.manifest.warehouse.driver} warehouse, this deployment's is ${ctx.config.warehouse.driver}`,
    );
  const started = Date.now();
  const id = backupId(started, randomBytes(3).toString('hex'));
  mkdirSync(join(dir, 'nats'), { recursive: true, mode: 0o700 });
  mkdirSync(join(dir, 'warehouse'), { recursive: true, mode: 0o700 });
  try {
    const log = ctx.log.child({ backup: id });
    // 1. The control plane.
    const control = await openControlFor(ctx.config, ctx.log);
    const controlPart = await dumpControl(control.pool, join(dir, CONTROL_FILE)).finally(() => control.close());
    log.info({ tables: controlPart.tables }, 'control plane dumped');

    // 2–4. The checkpoint bucket, then the streams that feed and follow from it.
    const nats = await openNats(ctx, { name: 'tgpulse-backup' });
    const names = ctx.config.streams.names;
    const streams: StreamPart[] = [];
    for (const stream of [`KV_${names.checkpoints}`, names.derived, names.dlq, names.raw]) {
      const file = join('nats', `${stream}.snapshot`);
      const snap = await snapshotStream(nats.nc, stream, join(dir, file));
      streams.push({ name: stream, file, config: snap.config, state: snap.state });
      log.info({ stream, bytes: snap.bytes, messages: snap.state.messages }, 'stream snapshot taken');
    }

    // 5. The warehouse.
    const warehouse = await backupWarehouse(ctx, dir, id, base);
    log.info({ bytes: warehouse.total_bytes }, 'warehouse backed up');

    const manifest: BackupManifest = {
      format: BACKUP_FORMAT,
      id,
      tgpulse_version: TGPULSE_VERSION,
      started_at: new Date(started).toISOString(),
      finished_at: new Date().toISOString(),
      base: base ? { id: base.manifest.id, dir: base.dir } : null,
      control: {
        driver: ctx.config.control.driver,
        file: CONTROL_FILE,
        tables: controlPart.tables,
        migrations: controlPart.migrations,
      },
      streams,
      warehouse,
      files: await describeFiles(dir, privateFiles(dir)),
    };
    writeFileSync(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
    return {
      manifest,
      dir,
      ms: Date.now() - started,
      bytes: manifest.files.reduce((sum, f) => sum + f.bytes, 0),
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Backs the warehouse up. The local server writes only to its own backups
 * folder, so the archive is made there and moved into the backup folder (an
 * incremental one's base archive is linked in for the time it takes); a
 * user's server writes to the backup disk its configuration allows.
 */
async function backupWarehouse(
  ctx: Context,
  dir: string,
  id: string,
  base: Awaited<ReturnType<typeof readBackup>> | null,
): Promise<BackupManifest['warehouse']> {
  const cfg = ctx.config.warehouse;
  if (cfg.driver === 'server' && !cfg.backupDisk)
    throw new Error(
      'backing up a ClickHouse server needs a backup disk: configure one in the server (<backups><allowed_disk>) and set TGPULSE_CLICKHOUSE_BACKUP_DISK to its name',
    );
  if (cfg.driver === 'local') await ensureLocalWarehouse(ctx);
  const wh = await openWarehouse(cfg);
  const staged: string[] = [];
  try {
    const [{ version }] = await wh.query<{ version: string }>('SELECT version() AS version');
    const migrations = (await appliedMigrations(wh)).map(({ version: v, name, checksum }) => ({
      version: v,
      name,
      checksum,
    }));
    const file = `${id}.tar`;
    if (cfg.driver === 'local') {
      const stage = backupsDir(cfg.dataDir);
      mkdirSync(stage, { recursive: true });
      // The engine finds an incremental archive's base by name in the same folder.
      const baseArchive = base ? placeInto(stage, localArchive(base)) : null;
      if (baseArchive) staged.push(baseArchive);
      const outcome = await backupDatabase(
        wh,
        cfg.database,
        id,
        { engine: 'File', path: file },
        baseArchive ? { base: { engine: 'File', path: basename(baseArchive) } } : {},
      );
      moveInto(join(stage, file), join(dir, 'warehouse', file));
      return {
        driver: 'local',
        database: cfg.database,
        archive: { file: join('warehouse', file) },
        engine_version: version,
        migrations,
        total_bytes: outcome.totalBytes,
      };
    }
    const disk = cfg.backupDisk ?? '';
    const baseLoc = base && 'disk' in base.manifest.warehouse.archive ? base.manifest.warehouse.archive : null;
    const outcome = await backupDatabase(
      wh,
      cfg.database,
      id,
      { engine: 'Disk', disk, path: file },
      baseLoc ? { base: { engine: 'Disk', disk: baseLoc.disk, path: baseLoc.path } } : {},
    );
    return {
      driver: 'server',
      database: cfg.database,
      archive: { disk, path: file },
      engine_version: version,
      migrations,
      total_bytes: outcome.totalBytes,
    };
  } finally {
    for (const path of staged) rmSync(path, { force: true });
    await wh.close();
  }
}

/** Makes the folder and every file in it readable by the owner alone; returns the files. */
function privateFiles(dir: string): string[] {
  const files = filesUnder(dir, [MANIFEST_FILE]);
  chmodSync(dir, 0o700);
  for (const sub of ['nats', 'warehouse']) chmodSync(join(dir, sub), 0o700);
  for (const f of files) chmodSync(join(dir, f), 0o600);
  return files;
}

function moveInto(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch {
    copyFileSync(from, to);
    rmSync(from, { force: true });
  }
}
