/**
 * The local ClickHouse server: chDB's engine run as clickhouse-local with its
 * HTTP and native listeners open (see `launcher.c`), started and stopped by
 * tgpulse the way it runs its private nats-server.
 *
 * - Data, configuration and passwords live in `<dataDir>/warehouse/`.
 * - Listeners are on loopback only. The preferred ports are taken when free,
 *   otherwise free ones below the kernel's ephemeral range; a restart keeps
 *   the ports it had.
 * - `server.json` records where it listens while it runs, so every other
 *   tgpulse command (query, status, roles run alone) finds it.
 * - It never outlives its owner: the launcher dies with its parent process
 *   (PR_SET_PDEATHSIG), and an unexpected exit is restarted with backoff.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { bindable, processAlive, serverPort, stopChild } from './child.ts';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { backoffMs, sleep } from '../../common/index.ts';
import {
  DEFAULT_READER_LIMITS,
  LAUNCHER_QUERY_QUOTA,
  launcherQueries,
  renderConfigXml,
  renderUsersXml,
  type ReaderLimits,
  type WarehouseUsers,
} from './config-files.ts';
import { loadUsers, passwordFile } from './credentials.ts';

// Compiled (dist/clickhouse/local-server/server.js, see scripts/build.sh) the project root is one level further up.
const PROJECT_ROOT = fileURLToPath(new URL(import.meta.url.endsWith('.js') ? '../../../' : '../../', import.meta.url));
/** Built by scripts/build-warehouse.sh (bootstrap runs it). */
export const LAUNCHER_PATH = join(PROJECT_ROOT, 'node_modules/.tgpulse/tgpulse-warehouse');
const BUILD_SCRIPT = join(PROJECT_ROOT, 'scripts/build-warehouse.sh');

export interface LocalWarehouseOptions {
  /** The tgpulse data folder; the warehouse keeps everything in its `warehouse/` subfolder. */
  dataDir: string;
  database: string;
  /** Preferred HTTP port; 0 = any free port. */
  httpPort: number;
  /** Preferred native-protocol port; 0 = any free port. */
  nativePort: number;
  log: Logger;
  readerLimits?: ReaderLimits;
  /** How long to wait for the listeners (default 60 s). */
  startTimeoutMs?: number;
}

/** Where a running local server listens: `server.json`, read by other commands. */
export interface LocalWarehouseEndpoint {
  /** The launcher's process id. */
  pid: number;
  /** The tgpulse process that started it and stops it. */
  owner_pid: number;
  http_url: string;
  native_port: number;
  database: string;
  started_at: number;
}

export class LocalWarehouseError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LocalWarehouseError';
  }
}

/** The folder of the local warehouse inside a tgpulse data folder. */
export function warehouseDir(dataDir: string): string {
  return join(dataDir, 'warehouse');
}

/**
 * The one folder the local server may write backups to and restore them from
 * (`backups.allowed_path`): `tgpulse backup` stages its archive here.
 */
export function backupsDir(dataDir: string): string {
  return join(warehouseDir(dataDir), 'backups');
}

function endpointFile(dataDir: string): string {
  return join(warehouseDir(dataDir), 'server.json');
}

/** The running local server of a data folder, if its launcher and owner are alive. */
export function readRunningWarehouse(dataDir: string): LocalWarehouseEndpoint | null {
  const endpoint = readEndpointFile(dataDir);
  return endpoint !== null && processAlive(endpoint.pid) && processAlive(endpoint.owner_pid) ? endpoint : null;
}

/** The users of a data folder's local server, or null when it never ran. */
export function localWarehouseUsers(dataDir: string): WarehouseUsers | null {
  return loadUsers(warehouseDir(dataDir), { create: false });
}

/** The reader's password file of a data folder's local server. */
export function readerPasswordFile(dataDir: string): string {
  return passwordFile(warehouseDir(dataDir), 'reader');
}

async function choosePort(preferred: number, taken: number[], log: Logger, what: string): Promise<number> {
  if (preferred !== 0 && !taken.includes(preferred) && (await bindable(preferred))) return preferred;
  // A restart keeps the port, so it must not be one an outgoing connection may take meanwhile.
  let port = await serverPort();
  while (taken.includes(port)) port = await serverPort();
  if (preferred !== 0)
    log.warn({ preferred, port }, `warehouse ${what} port is busy; using a free one (tgpulse status shows it)`);
  return port;
}

function tcpListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

/** Make sure the launcher binary exists, building it when it does not. */
export function ensureLauncher(): string {
  if (existsSync(LAUNCHER_PATH)) return LAUNCHER_PATH;
  const built = spawnSync('bash', [BUILD_SCRIPT], { encoding: 'utf8' });
  if (built.status !== 0 || !existsSync(LAUNCHER_PATH)) {
    throw new LocalWarehouseError(
      `the local warehouse launcher is not built and building it failed: ${(built.stderr || built.error?.message || '').trim()}. ` +
        'It needs gcc (apt-get install gcc libc6-dev) and the chdb npm package; or set TGPULSE_WAREHOUSE=server to use a ClickHouse server.',
    );
  }
  return LAUNCHER_PATH;
}

/**
 * A local server this process started. It is restarted when it exits on its
 * own; {@link stop} ends it for good.
 */
export class LocalWarehouse {
  readonly httpUrl: string;
  readonly users: WarehouseUsers;
  #child: ChildProcess;
  #stopping = false;
  #restarting: Promise<void> | null = null;
  #restarts = 0;

  private constructor(
    readonly options: LocalWarehouseOptions,
    readonly httpPort: number,
    readonly nativePort: number,
    users: WarehouseUsers,
    child: ChildProcess,
  ) {
    this.httpUrl = `http://127.0.0.1:${httpPort}`;
    this.users = users;
    this.#child = child;
    this.#watch(child);
  }

  /** The launcher's process id (changes after a restart). */
  get pid(): number {
    return this.#child.pid ?? -1;
  }

  /** How often it was restarted after exiting on its own. */
  get restarts(): number {
    return this.#restarts;
  }

  get readerPasswordFile(): string {
    return readerPasswordFile(this.options.dataDir);
  }

  /**
   * Start the local server of `opts.dataDir` and wait until both listeners
   * answer and the launcher's user is locked.
   *
   * @throws LocalWarehouseError when another server runs on the folder, the
   *   launcher is missing and cannot be built, or the engine does not start.
   */
  static async start(opts: LocalWarehouseOptions): Promise<LocalWarehouse> {
    const running = readRunningWarehouse(opts.dataDir);
    if (running !== null) {
      throw new LocalWarehouseError(
        `a local warehouse already runs on ${opts.dataDir} (pid ${running.pid}, ${running.http_url}, started by pid ${running.owner_pid}); connect to it or stop that process`,
      );
    }
    const launcher = ensureLauncher();
    const dir = warehouseDir(opts.dataDir);
    const users = loadUsers(dir, { create: true });
    if (users === null) throw new LocalWarehouseError(`cannot create the warehouse passwords in ${dir}`);
    mkdirSync(join(dir, 'clickhouse'), { recursive: true });
    writeFileSync(
      join(dir, 'users.xml'),
      renderUsersXml(users, opts.database, opts.readerLimits ?? DEFAULT_READER_LIMITS),
      { mode: 0o600 },
    );
    mkdirSync(backupsDir(opts.dataDir), { recursive: true });
    writeFileSync(join(dir, 'config.xml'), renderConfigXml(join(dir, 'users.xml'), `${backupsDir(opts.dataDir)}/`), {
      mode: 0o600,
    });
    const httpPort = await choosePort(opts.httpPort, [], opts.log, 'HTTP');
    const nativePort = await choosePort(opts.nativePort, [httpPort], opts.log, 'native');
    const child = await launch(launcher, opts, users, httpPort, nativePort);
    const server = new LocalWarehouse(opts, httpPort, nativePort, users, child);
    server.#writeEndpoint();
    opts.log.info({ http: server.httpUrl, native_port: nativePort, pid: child.pid }, 'local warehouse started');
    return server;
  }

  #writeEndpoint(): void {
    const endpoint: LocalWarehouseEndpoint = {
      pid: this.pid,
      owner_pid: process.pid,
      http_url: this.httpUrl,
      native_port: this.nativePort,
      database: this.options.database,
      started_at: Date.now(),
    };
    writeFileSync(endpointFile(this.options.dataDir), JSON.stringify(endpoint));
  }

  #watch(child: ChildProcess): void {
    child.once('exit', (code, signal) => {
      if (this.#stopping) return;
      this.options.log.error({ code, signal, pid: child.pid }, 'the local warehouse exited; restarting it');
      this.#restarting = this.#restart();
    });
  }

  async #restart(): Promise<void> {
    for (let attempt = 0; !this.#stopping; attempt++) {
      await sleep(backoffMs(attempt, 200, 5000));
      if (this.#stopping) return;
      try {
        this.#child = await launch(LAUNCHER_PATH, this.options, this.users, this.httpPort, this.nativePort);
        if (this.#stopping) {
          await stopChild(this.#child, 10_000);
          return;
        }
        this.#restarts += 1;
        this.#writeEndpoint();
        this.#watch(this.#child);
        this.options.log.info({ pid: this.pid, restarts: this.#restarts }, 'local warehouse restarted');
        return;
      } catch (err) {
        this.options.log.error({ err, attempt }, 'the local warehouse did not restart; trying again');
      }
    }
  }

  /** Stop the server (SIGTERM, SIGKILL after 10 s) and forget its endpoint. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    await this.#restarting;
    await stopChild(this.#child, 10_000);
    const current = readEndpointFile(this.options.dataDir);
    if (current === null || current.owner_pid === process.pid)
      rmSync(endpointFile(this.options.dataDir), { force: true });
  }
}

function readEndpointFile(dataDir: string): LocalWarehouseEndpoint | null {
  try {
    return JSON.parse(readFileSync(endpointFile(dataDir), 'utf8')) as LocalWarehouseEndpoint;
  } catch {
    return null;
  }
}

/** Spawn the launcher and wait until it serves, then lock its own user. */
async function launch(
  launcher: string,
  opts: LocalWarehouseOptions,
  users: WarehouseUsers,
  httpPort: number,
  nativePort: number,
): Promise<ChildProcess> {
  const dir = warehouseDir(opts.dataDir);
  const args = [
    `--config-file=${join(dir, 'config.xml')}`,
    `--path=${join(dir, 'clickhouse')}/`,
    '--listen_host=127.0.0.1',
    `--http_port=${httpPort}`,
    `--tcp_port=${nativePort}`,
    '--log-level=warning',
    '--multiquery',
    `--query=${launcherQueries(opts.database)}`,
  ];
  const child = spawn(launcher, args, {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
    // Its own process group: Ctrl-C reaches tgpulse alone, which stops the server after the roles drained.
    detached: true,
    env: { ...process.env, TGPULSE_WAREHOUSE_PARENT_PID: String(process.pid) },
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-8000);
    for (const line of d.toString().split('\n'))
      if (line.trim()) opts.log.warn({ warehouse: line.slice(0, 2000) }, 'local warehouse says');
  });
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
  const failed = (why: string): LocalWarehouseError =>
    new LocalWarehouseError(`the local warehouse did not start: ${why}${stderr ? `\n${stderr.trim()}` : ''}`);
  /** Ends a half-started server before giving up: the next attempt needs the folder lock it holds until it exits. */
  const abandon = async (why: string): Promise<LocalWarehouseError> => {
    await stopChild(child, 0);
    return failed(why);
  };
  for (;;) {
    const early = await Promise.race([spawnError, sleep(100).then(() => null)]);
    if (early) throw failed(early.message);
    if (child.exitCode !== null || child.signalCode !== null)
      throw failed(`the launcher exited (code ${child.exitCode}, signal ${child.signalCode})`);
    if (Date.now() > deadline)
      throw await abandon(`no answer on ports ${httpPort}/${nativePort} within ${opts.startTimeoutMs ?? 60_000} ms`);
    if ((await httpPing(httpPort)) && (await tcpListening(nativePort)) && (await launcherBlocked(httpPort, users)))
      break;
  }
  try {
    await lockLauncherUser(httpPort);
  } catch (err) {
    throw await abandon((err as Error).message);
  }
  return child;
}

async function httpPing(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/ping`, { signal: AbortSignal.timeout(1000) });
    return res.ok;
  } catch {
    return false;
  }
}

/** True once the launcher's session sits in its final, blocking query (it has run all the others). */
async function launcherBlocked(port: number, users: WarehouseUsers): Promise<boolean> {
  // The launcher's session has no user name in system.processes; its query text is ours.
  const sql = "SELECT count() FROM system.processes WHERE startsWith(query, 'SELECT sleepEachRow(1)') FORMAT TSV";
  try {
    const res = await fetch(`http://127.0.0.1:${port}/`, {
      method: 'POST',
      body: sql,
      headers: { 'X-ClickHouse-User': users.writer.username, 'X-ClickHouse-Key': users.writer.password },
      signal: AbortSignal.timeout(2000),
    });
    return res.ok && (await res.text()).trim() === '1';
  } catch {
    return false;
  }
}

/**
 * Use up the launcher user's query quota, so that nobody can log in as it
 * once the server runs (it cannot have a password: clickhouse-local logs its
 * own session in without one).
 */
async function lockLauncherUser(port: number): Promise<void> {
  for (let i = 0; i <= LAUNCHER_QUERY_QUOTA; i++) {
    const res = await fetch(`http://127.0.0.1:${port}/`, {
      method: 'POST',
      // A query that reads a table: constant-only queries (SELECT 1) skip quota accounting.
      body: 'SELECT number FROM system.numbers LIMIT 1',
      headers: { 'X-ClickHouse-User': 'default' },
      signal: AbortSignal.timeout(5000),
    });
    const body = await res.text();
    if (!res.ok && /QUOTA_EXCEEDED/.test(body)) return;
    if (!res.ok) throw new LocalWarehouseError(`locking the launcher's user failed: ${body.trim()}`);
  }
  throw new LocalWarehouseError(
    `the launcher's user still answers after ${LAUNCHER_QUERY_QUOTA + 1} queries: its quota is not in force`,
  );
}
