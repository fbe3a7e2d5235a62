/**
 * A private Postgres server for tests that stop and start the control plane:
 * initdb into a temp folder, `postgres` run in the foreground as a child
 * that dies with the test process (dieWithParent), on a free loopback port
 * that it keeps across restarts. Never the machine's own Postgres.
 *
 * Postgres refuses to run as root: under root the folder is handed to the
 * `postgres` OS user (Debian's package creates it) and the server runs as it.
 * The folder is removed by `remove()`, and on exit when a test forgot to.
 *
 * ```ts
 * const pg = await startPostgresServer();
 * try { await pg.stop(); await pg.start(); } finally { await pg.remove(); }
 * ```
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dieWithParent, serverPort } from '../../clickhouse/local-server/child.ts';
import { sleep } from '../../common/retry.ts';
import { postgresAnswers } from '../../control/postgres-probe.ts';

export interface PostgresServer {
  /** postgres://postgres@127.0.0.1:<port>/postgres (trust authentication, loopback only). */
  readonly url: string;
  readonly port: number;
  /** Whether the server process runs. */
  readonly running: boolean;
  /** Starts it again on the same folder and port; resolves once it accepts connections. */
  start(): Promise<void>;
  /** Fast shutdown (SIGINT): open sessions are ended at once, then it exits. */
  stop(): Promise<void>;
  /** Stops it and removes its folder. */
  remove(): Promise<void>;
}

const INSTALL_HINT =
  'a private Postgres server needs initdb and postgres: install them with `apt-get install --no-install-recommends postgresql` ' +
  '(TGPULSE_BOOTSTRAP_TESTS=1 scripts/bootstrap.sh does it as root)';

/** The folder of initdb and postgres: Debian's newest /usr/lib/postgresql/<version>/bin, else the PATH. */
function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length) return join(root, versions[0], 'bin');
  const found = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' }).stdout.trim();
  if (found) return found.slice(0, found.lastIndexOf('/'));
  throw new Error(INSTALL_HINT);
}

/** Under root, the unprivileged user to run Postgres as; otherwise nothing to change. */
function runAs(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error(`Postgres does not run as root and there is no postgres user: ${INSTALL_HINT}`);
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** Creates the cluster in a temp folder and starts it. */
export async function startPostgresServer(): Promise<PostgresServer> {
  const bin = postgresBin();
  const user = runAs();
  const dir = mkdtempSync(join(tmpdir(), 'tgpulse-postgres-'));
  const data = join(dir, 'data');
  const as = user ?? {};
  if (user) chownSync(dir, user.uid, user.gid);
  // Speed over durability: nothing here outlives the test.
  const init = spawnSync(
    join(bin, 'initdb'),
    ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--no-instructions'],
    { ...as, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } },
  );
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${(init.stderr || init.error?.message || '').trim()}`);
  }
  // Stopped and started again on the same port by the outage tests.
  const port = await serverPort();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let child: ChildProcess | null = null;
  let output = '';

  const exited = (c: ChildProcess) => c.exitCode !== null || c.signalCode !== null;
  const start = async (): Promise<void> => {
    if (child && !exited(child)) return;
    output = '';
    const [cmd, ...prefix] = [...dieWithParent(), join(bin, 'postgres')];
    const settings = {
      listen_addresses: '127.0.0.1',
      unix_socket_directories: dir,
      fsync: 'off',
      synchronous_commit: 'off',
      full_page_writes: 'off',
      max_connections: '50',
      shared_buffers: '16MB',
    };
    const c = spawn(
      cmd,
      [...prefix, '-D', data, '-p', String(port), ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])],
      { ...as, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } },
    );
    const keep = (d: Buffer) => {
      output = (output + d.toString()).slice(-4000);
    };
    c.stdout?.on('data', keep);
    c.stderr?.on('data', keep);
    child = c;
    for (const until = Date.now() + 30_000; !(await postgresAnswers(url)); await sleep(100)) {
      if (exited(c) || Date.now() > until) throw new Error(`postgres did not start on port ${port}: ${output}`);
    }
  };
  const stop = async (): Promise<void> => {
    const c = child;
    if (!c || exited(c)) return;
    const gone = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill('SIGINT');
    const grace = new AbortController();
    await Promise.race([gone, sleep(30_000, grace.signal)]);
    grace.abort();
    if (!exited(c)) {
      c.kill('SIGKILL');
      await gone;
    }
  };
  // A test that fails before remove() still leaves nothing behind (a killed one leaves the folder: its server dies with it).
  const leftovers = () => {
    if (child && !exited(child)) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', leftovers);

  const server: PostgresServer = {
    url,
    port,
    get running() {
      return child !== null && !exited(child);
    },
    start,
    stop,
    async remove() {
      await stop();
      process.removeListener('exit', leftovers);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await start();
  } catch (err) {
    await server.remove();
    throw err;
  }
  return server;
}
