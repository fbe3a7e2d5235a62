/**
 * The private `nats-server -js` of a data folder: its store lives in the data
 * folder beside the warehouse, so an instance keeps its streams, consumers
 * and checkpoints together with the tables they fed. It listens on a free
 * loopback port, recorded in `<store>/server.json` for the other commands.
 * Tests use the same code with a temp folder.
 *
 * It never outlives the process that started it: it runs under
 * `setpriv --pdeathsig KILL` (util-linux) where that exists.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { anyFreePort, dieWithParent, processAlive, stopChild } from '../clickhouse/local-server/index.ts';
import { sleep } from '../common/index.ts';

export const NATS_INSTALL_HINT =
  'nats-server was not found. Install it with `apt-get install nats-server` (Debian/Ubuntu) or put a nats-server binary (v2.9 or newer) on PATH, or point TGPULSE_NATS_URL at a running server with JetStream.';

export function findNatsServer(): string | null {
  const dirs = [
    ...(process.env.PATH ?? '').split(delimiter),
    '/usr/sbin',
    '/usr/local/sbin',
    '/usr/bin',
    '/usr/local/bin',
  ];
  for (const d of dirs) {
    if (d && existsSync(join(d, 'nats-server'))) return join(d, 'nats-server');
  }
  return null;
}

/** A free loopback port (kept under this name for the tests that start their own servers). */
export const freePort = anyFreePort;

export interface LocalNats {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Where a running private nats-server listens: `<store>/server.json`. */
interface LocalNatsEndpoint {
  url: string;
  pid: number;
  owner_pid: number;
}

/** The URL of the private nats-server running on a store folder, if any. */
export function runningLocalNats(storeDir: string): string | null {
  try {
    const endpoint = JSON.parse(readFileSync(join(storeDir, 'server.json'), 'utf8')) as LocalNatsEndpoint;
    return processAlive(endpoint.pid) && processAlive(endpoint.owner_pid) ? endpoint.url : null;
  } catch {
    return null;
  }
}

/** `setpriv --pdeathsig KILL --` when util-linux has it: the child then dies with this process. */
export async function startLocalNats(storeDir: string, opts: { port?: number } = {}): Promise<LocalNats> {
  const bin = findNatsServer();
  if (!bin) throw new Error(NATS_INSTALL_HINT);
  mkdirSync(storeDir, { recursive: true });
  const port = opts.port ?? (await freePort());
  const [cmd, ...args] = [...dieWithParent(), bin, '-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir];
  // Its own process group: Ctrl-C reaches tgpulse alone, which stops the server after the roles drained.
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const url = `nats://127.0.0.1:${port}`;
  // Imported here: `tgpulse status` reads server.json through this module and needs no NATS client.
  const { natsReachable } = await import('../streams/index.ts');
  const deadline = Date.now() + 15_000;
  while (!(await natsReachable(url, 500))) {
    if (child.exitCode !== null) throw new Error(`nats-server exited with code ${child.exitCode}: ${stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`nats-server did not start on ${url} within 15 s: ${stderr}`);
    }
    await sleep(100);
  }
  const endpointFile = join(storeDir, 'server.json');
  writeFileSync(
    endpointFile,
    JSON.stringify({ url, pid: child.pid ?? -1, owner_pid: process.pid } satisfies LocalNatsEndpoint),
  );
  return {
    url,
    process: child,
    async stop() {
      rmSync(endpointFile, { force: true });
      await stopChild(child, 5000);
    },
  };
}
