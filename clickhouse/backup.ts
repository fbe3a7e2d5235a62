/**
 * Backup and restore of the warehouse database with ClickHouse's own
 * `BACKUP … TO` / `RESTORE … FROM`: tables, materialized views and the
 * partial aggregate states of the serving tables come back exactly, which no
 * row-level export could promise.
 *
 * Both run `ASYNC` and are followed in `system.backups` by their id, so a
 * large database never hits the HTTP request timeout, and a failure is
 * reported with the engine's own error.
 *
 * Where the archive goes is the server's business: the local server may write
 * only to its `backups/` folder (`backups.allowed_path`), a user's server to a
 * backup disk they configured (`<backups><allowed_disk>`), or S3.
 */
import { sleep } from '../common/index.ts';
import { WarehouseError } from './errors.ts';
import type { Warehouse } from './warehouse.ts';

/** Where an archive lives, as the server sees it. */
export type BackupLocation =
  /** A file under the server's `backups.allowed_path` (the local server's `warehouse/backups/`). */
  | { engine: 'File'; path: string }
  /** A path on a disk the server's configuration allows for backups. */
  | { engine: 'Disk'; disk: string; path: string };

/** What the engine reported when a backup or restore ended. */
export interface BackupOutcome {
  id: string;
  status: string;
  /** Bytes of data the backup holds (a base's share included for an incremental one). */
  totalBytes: number;
  /** Bytes this archive added (less than totalBytes when incremental). */
  uncompressedBytes: number;
  files: number;
  ms: number;
}

const ID_RE = /^[A-Za-z0-9_-]{1,100}$/;
/** Paths go into SQL string literals: keep them to what a file name needs. */
const PATH_RE = /^[A-Za-z0-9_./-]{1,300}$/;
const IDENT_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The SQL name of a location, e.g. `File('tgpulse-1.tar')`.
 *
 * @throws TypeError for a path or disk that is not a plain name (they are inlined in SQL).
 */
export function locationSql(loc: BackupLocation): string {
  if (!PATH_RE.test(loc.path) || loc.path.startsWith('/') || loc.path.includes('..'))
    throw new TypeError(`backup path ${JSON.stringify(loc.path)} must be a plain relative file name`);
  if (loc.engine === 'File') return `File('${loc.path}')`;
  if (!IDENT_RE.test(loc.disk)) throw new TypeError(`backup disk ${JSON.stringify(loc.disk)} must be an identifier`);
  return `Disk('${loc.disk}', '${loc.path}')`;
}

/** `BACKUP DATABASE …`, incremental over `base` when given. Pure. */
export function backupStatement(database: string, id: string, to: BackupLocation, base?: BackupLocation): string {
  checkNames(database, id);
  const settings = [`id = '${id}'`, ...(base ? [`base_backup = ${locationSql(base)}`] : [])];
  return `BACKUP DATABASE ${database} TO ${locationSql(to)} SETTINGS ${settings.join(', ')} ASYNC`;
}

/**
 * `RESTORE DATABASE …` into the (empty) database of the same name. An
 * incremental archive finds its base by the location it was made with.
 */
export function restoreStatement(database: string, id: string, from: BackupLocation): string {
  checkNames(database, id);
  return `RESTORE DATABASE ${database} FROM ${locationSql(from)} SETTINGS id = '${id}' ASYNC`;
}

function checkNames(database: string, id: string): void {
  if (!IDENT_RE.test(database)) throw new TypeError(`database ${JSON.stringify(database)} must be an identifier`);
  if (!ID_RE.test(id)) throw new TypeError(`backup id ${JSON.stringify(id)} must be letters, digits, _ or -`);
}

/**
 * Backs the database up and waits until the archive is complete.
 *
 * @example
 * await backupDatabase(wh, 'tgpulse', 'b-20261207', { engine: 'File', path: 'b-20261207.tar' });
 * @throws WarehouseError with the engine's error when the backup fails.
 */
export function backupDatabase(
  wh: Warehouse,
  database: string,
  id: string,
  to: BackupLocation,
  opts: { base?: BackupLocation; timeoutMs?: number } = {},
): Promise<BackupOutcome> {
  return runAndWait(wh, backupStatement(database, id, to, opts.base), id, 'BACKUP_CREATED', opts.timeoutMs);
}

/**
 * Restores the database from an archive into an empty database of the same
 * name and waits until it is done.
 *
 * @throws WarehouseError with the engine's error (a missing base, a corrupt archive, tables that exist).
 */
export function restoreDatabase(
  wh: Warehouse,
  database: string,
  id: string,
  from: BackupLocation,
  opts: { timeoutMs?: number } = {},
): Promise<BackupOutcome> {
  return runAndWait(wh, restoreStatement(database, id, from), id, 'RESTORED', opts.timeoutMs);
}

interface BackupRow {
  status: string;
  error: string;
  total_size: string | number;
  uncompressed_size: string | number;
  num_files: string | number;
}

async function runAndWait(
  wh: Warehouse,
  sql: string,
  id: string,
  done: string,
  timeoutMs = 3_600_000,
): Promise<BackupOutcome> {
  const started = Date.now();
  const operation = done === 'RESTORED' ? 'restore' : 'backup';
  await wh.exec(sql);
  for (let wait = 50; ; wait = Math.min(wait * 2, 1000)) {
    const [row] = await wh.query<BackupRow>(
      'SELECT status, error, total_size, uncompressed_size, num_files FROM system.backups WHERE id = {id:String}',
      { id },
    );
    if (row?.status === done)
      return {
        id,
        status: row.status,
        totalBytes: Number(row.total_size),
        uncompressedBytes: Number(row.uncompressed_size),
        files: Number(row.num_files),
        ms: Date.now() - started,
      };
    if (row && /FAILED|CANCELLED/.test(row.status))
      throw new WarehouseError(
        { driver: 'server', operation, target: id },
        `warehouse ${operation} ${id} failed: ${row.error.split('\n')[0]}`,
      );
    if (Date.now() - started > timeoutMs)
      throw new WarehouseError(
        { driver: 'server', operation, target: id },
        `warehouse ${operation} ${id} did not finish within ${timeoutMs} ms (status ${row?.status ?? 'unknown'})`,
      );
    await sleep(wait);
  }
}
