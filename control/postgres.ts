/**
 * Opens the Postgres control plane: a Postgres server, or PGlite in this
 * process served over the Postgres wire protocol, so the same `pg` code runs
 * on both. Migrations are applied before the handle is returned.
 */
import { PGlite } from '@electric-sql/pglite';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import pg, { type Pool } from 'pg';
import { silentLogger, type Logger } from '../observability/index.ts';
import type { ControlConfig } from './config.ts';
import { migrateControl } from './migrate.ts';
import { serveWire } from './pglite-wire.ts';
import { traceQueries } from './tracing.ts';
import { redactUrl } from '../common/index.ts';

/**
 * An open control plane. Query through `pool`; `close()` when done.
 *
 * @example
 * const control = await openControlPlane(config.control, { log });
 * try { await listApiKeys(control.pool); } finally { await control.close(); }
 */
export interface ControlPlane {
  readonly driver: 'embedded' | 'server';
  readonly pool: Pool;
  /**
   * Where other processes on this machine reach the embedded store over the
   * Postgres wire protocol while this process holds it (`tgpulse up` writes
   * it to data/instance.json for `tgpulse apikey`); null for a server.
   */
  readonly wireUrl: string | null;
  /** Resolves when the database answers a query; for readiness probes. */
  ping(): Promise<void>;
  /** Releases this handle; calling it again does nothing. */
  close(): Promise<void>;
}

/** How to open the control plane, beyond what its configuration says. */
export interface OpenControlOptions {
  /** Receives migration progress and errors of idle connections. Silent by default. */
  log?: Logger;
}

/**
 * Opens the control plane `cfg` names and brings its schema up to date.
 *
 * The embedded store is shared within a process: opening the same path again
 * returns another handle on the same PGlite (reference counted; the last
 * `close()` stops it), because PGlite keeps its state in memory and two
 * instances on one folder would silently diverge. Across processes a lock
 * file beside the folder refuses a second user; a server is the way to share.
 */
export async function openControlPlane(cfg: ControlConfig, opts: OpenControlOptions = {}): Promise<ControlPlane> {
  const log = opts.log ?? silentLogger;
  return cfg.driver === 'embedded' ? openEmbedded(resolve(cfg.path), log) : openServer(cfg.url, log);
}

async function openServer(url: string, log: Logger): Promise<ControlPlane> {
  const where = redactUrl(url);
  // A connect timeout so an unreachable host fails the start instead of hanging it.
  const pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: 10_000 });
  traceQueries(pool, { driver: 'server', database: databaseOf(url) });
  pool.on('error', (err) => log.warn({ err }, 'idle control-plane connection failed; the pool will reconnect'));
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new Error(
      `cannot reach Postgres at ${where}: ${describeError(err)}. Is it running? ` +
        'Set TGPULSE_POSTGRES_URL to a reachable server, or leave it empty for the embedded store',
      { cause: err },
    );
  }
  try {
    await migrateControl(pool, { log });
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new Error(`cannot migrate the control plane at ${where}: ${describeError(err)}`, { cause: err });
  }
  return handle('server', pool, null, () => pool.end());
}

/** One running embedded store: PGlite, its socket server and the pool over it. */
interface EmbeddedStore {
  pool: Pool;
  wireUrl: string;
  stop(): Promise<void>;
}

interface SharedStore {
  starting: Promise<EmbeddedStore>;
  handles: number;
}

/** Embedded stores open in this process, by absolute path. */
const openStores = new Map<string, SharedStore>();
/** Stores being stopped, so a reopen of the path waits until the files are released. */
const stoppingStores = new Map<string, Promise<void>>();

async function openEmbedded(path: string, log: Logger): Promise<ControlPlane> {
  let shared = openStores.get(path);
  if (!shared) {
    const starting = startEmbedded(path, log);
    const fresh: SharedStore = { starting, handles: 0 };
    openStores.set(path, fresh);
    // A failed start must not be handed to the next opener.
    starting.catch(() => openStores.get(path) === fresh && openStores.delete(path));
    shared = fresh;
  }
  const store = shared;
  store.handles++;
  let running: EmbeddedStore;
  try {
    running = await store.starting;
  } catch (err) {
    store.handles--;
    throw err;
  }
  return handle('embedded', running.pool, running.wireUrl, async () => {
    if (--store.handles > 0) return;
    openStores.delete(path);
    const stopped = running.stop();
    stoppingStores.set(path, stopped);
    try {
      await stopped;
    } finally {
      if (stoppingStores.get(path) === stopped) stoppingStores.delete(path);
    }
  });
}

async function startEmbedded(path: string, log: Logger): Promise<EmbeddedStore> {
  await stoppingStores.get(path)?.catch(() => undefined);
  // Resources started so far, stopped in reverse order on failure or at the end.
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async (): Promise<void> => {
    let first: unknown = null;
    for (const stop of stops.splice(0).reverse()) await stop().catch((err: unknown) => (first ??= err));
    if (first !== null) throw first;
  };
  try {
    await mkdir(path, { recursive: true });
    stops.push(await lockFolder(path));
    if (!existsSync(join(path, 'PG_VERSION'))) await initEmbeddedFolder(path);
    const db = await PGlite.create(path, PGLITE_OPTIONS);
    stops.push(() => db.close());
    const server = await serveWire(db, {
      host: '127.0.0.1',
      port: 0,
      onError: (err) => log.error({ err }, 'embedded control plane: cleaning up after a closed connection failed'),
    });
    stops.push(() => server.stop());
    const pool = new pg.Pool({
      host: server.host,
      port: server.port,
      user: 'postgres',
      database: 'postgres',
      // PGlite is one backend session shared by every connection: the wire server runs one
      // exchange or transaction at a time (pglite-wire.ts), so more connections here would only wait.
      max: 1,
    });
    traceQueries(pool, { driver: 'embedded', database: 'postgres' });
    pool.on('error', (err) => log.warn({ err }, 'embedded control-plane connection failed; the pool will reconnect'));
    stops.push(() => pool.end());
    await migrateControl(pool, { log });
    return {
      pool,
      wireUrl: `postgres://postgres@${server.host}:${server.port}/postgres`,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll().catch((stopErr: unknown) =>
      log.warn({ err: stopErr }, 'error while undoing a failed control-plane start'),
    );
    throw new Error(`cannot open the embedded control plane at ${path}: ${describeError(err)}`, { cause: err });
  }
}

/**
 * Sized for a control plane of a few thousand rows (keys, grants, leases):
 * PGlite's default 128 MB of shared buffers and 256 MB of initial WebAssembly
 * memory are most of its footprint. Measured on reopening a folder: 351 MB
 * RSS with the defaults, 226 MB with these.
 */
const PGLITE_OPTIONS = { initialMemory: 128 * 2 ** 20, postgresqlconf: ['shared_buffers=16MB'] };

/**
 * Creates a new PGlite data folder (initdb, no migrations) in a short-lived
 * child process. initdb runs in WebAssembly memory that is never handed back
 * to the system: done in this process, it would stay for the process's life
 * (measured: 830 MB RSS after a first start against 226 MB after a reopen).
 */
export async function initEmbeddedFolder(path: string): Promise<void> {
  const pglite = pathToFileURL(createRequire(import.meta.url).resolve('@electric-sql/pglite')).href;
  const script = `const { PGlite } = await import(${JSON.stringify(pglite)});
const db = await PGlite.create(process.argv[1]);
await db.close();`;
  await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, path], { timeout: 120_000 });
}

/**
 * Takes `<path>.lock` for this process and returns its release. PGlite has no
 * lock of its own: two processes on one folder both start and then overwrite
 * each other's data. A lock left by a process that is gone is taken over.
 */
async function lockFolder(path: string): Promise<() => Promise<void>> {
  const file = `${path}.lock`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await writeFile(file, `${process.pid}\n`, { flag: 'wx' });
      return () => rm(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number((await readFile(file, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && processAlive(holder)) {
      throw new Error(
        `it is in use by process ${holder} (see ${file}). Stop that tgpulse first, ` +
          'or run every process against one Postgres server with TGPULSE_POSTGRES_URL',
      );
    }
    await rm(file, { force: true });
  }
  throw new Error(`could not take the lock ${file}; remove it if no tgpulse is running`);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function handle(
  driver: ControlPlane['driver'],
  pool: Pool,
  wireUrl: string | null,
  release: () => Promise<void>,
): ControlPlane {
  let closing: Promise<void> | null = null;
  return {
    driver,
    pool,
    wireUrl,
    async ping() {
      await pool.query('SELECT 1');
    },
    close: () => (closing ??= release()),
  };
}

/** A one-line reason; connection failures to `localhost` arrive as an AggregateError with an empty message. */
function describeError(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return err.errors.map(describeError).join('; ');
  if (err instanceof Error) return err.message || (err as NodeJS.ErrnoException).code || err.name;
  return String(err);
}

/** The database a connection URL names (Postgres defaults it to the user's name). */
function databaseOf(url: string): string {
  try {
    const u = new URL(url);
    return decodeURIComponent(u.pathname.slice(1)) || decodeURIComponent(u.username) || 'postgres';
  } catch {
    return 'postgres';
  }
}
