/**
 * `npm run bench:cli`: how long the everyday commands take from the shell, as
 * a user types them (`./tgpulse …`: bootstrap's checks, Node's start, loading
 * the command and its work), wall clock over several runs.
 *
 *   1. stopped   a fresh data folder with nothing running: `--help`, `status`,
 *                `query` (fails fast: no warehouse there) and `apikey list`
 *                (opens the folder's embedded control plane itself)
 *   2. running   `tgpulse up` on the same folder (its private nats-server,
 *                local warehouse and control plane; no workers): `status`,
 *                `query` (over HTTP as the reader) and `apikey list` (over the
 *                Postgres wire endpoint `up` serves)
 *
 * Each command runs once untimed first (the first `apikey list` creates the
 * control plane; the first `--help` may build dist/), then BENCH_CLI_RUNS
 * times (default 5). `up` is stopped on every exit path, and the servers it
 * started are killed if it could not stop them, so no process outlives the bench.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { privateEnv } from './private-env.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const TGPULSE = join(ROOT, 'tgpulse');
/** Every command should answer within this (the CLI's target on a 2-core machine). */
const TARGET_MS = 1000;
/** How long `up` may take to start its servers and write instance.json. */
const UP_START_TIMEOUT_MS = 180_000;

interface Case {
  label: string;
  args: string[];
}

const CASES: Record<'stopped' | 'running', Case[]> = {
  stopped: [
    { label: '--help', args: ['--help'] },
    { label: 'status', args: ['status'] },
    { label: 'query "SELECT 1"', args: ['query', 'SELECT 1'] },
    { label: 'apikey list', args: ['apikey', 'list'] },
  ],
  running: [
    { label: 'status', args: ['status'] },
    { label: 'query "SELECT 1"', args: ['query', 'SELECT 1'] },
    { label: 'apikey list', args: ['apikey', 'list'] },
  ],
};

interface Timed {
  ms: number;
  code: number | null;
  stderr: string;
}

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

function runs(): number {
  const n = Number(process.env.BENCH_CLI_RUNS ?? 5);
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new RangeError(`BENCH_CLI_RUNS must be 1..100, got ${n}`);
  return n;
}

/** The environment of every command: private (see private-env.ts), without workers. */
function benchEnv(dataDir: string): NodeJS.ProcessEnv {
  // The commands are measured, not the pipeline: workers would only compete for the cores.
  return privateEnv(dataDir, { TGPULSE_WORKERS: '0' });
}

function timeOnce(args: string[], env: NodeJS.ProcessEnv): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(TGPULSE, args, { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    child.once('error', reject);
    child.once('close', (code) => resolve({ ms: Number(process.hrtime.bigint() - start) / 1e6, code, stderr }));
  });
}

function median(sorted: readonly number[]): number {
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Times `c` n times after an untimed run, and prints one row. */
async function measure(c: Case, env: NodeJS.ProcessEnv, n: number, warehouse: string): Promise<void> {
  await timeOnce(c.args, env);
  const results: Timed[] = [];
  for (let i = 0; i < n; i++) results.push(await timeOnce(c.args, env));
  const ms = results.map((r) => r.ms).sort((a, b) => a - b);
  const codes = [...new Set(results.map((r) => r.code))].join(',');
  const failed = results.find((r) => r.code !== 0);
  // What a failing command said, in one line: the bench shows that it fails fast and clearly.
  const said = failed
    ? `  says: ${
        failed.stderr
          .trim()
          .split('\n')
          .find((l) => l.startsWith('tgpulse'))
          ?.slice(0, 110) ?? failed.stderr.trim().slice(0, 110)
      }`
    : '';
  const fmt = (v: number) => v.toFixed(0).padStart(6);
  const verdict = median(ms) <= TARGET_MS ? 'ok' : 'SLOW';
  out(
    `${c.label.padEnd(18)} ${warehouse.padEnd(9)} ${fmt(ms[0])} ${fmt(median(ms))} ${fmt(ms[ms.length - 1])}  exit ${codes.padEnd(4)} ${verdict}${said}`,
  );
}

function header(): void {
  out(
    `${'command'.padEnd(18)} ${'warehouse'.padEnd(9)} ${'min'.padStart(6)} ${'median'.padStart(6)} ${'max'.padStart(6)}  (ms)`,
  );
}

/** A pid from one of the data folder's server.json files, if the file is there. */
function recordedPid(path: string): number | null {
  try {
    const pid = (JSON.parse(readFileSync(path, 'utf8')) as { pid?: unknown }).pid;
    return typeof pid === 'number' ? pid : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** `tgpulse up` on dataDir, started in a process group of its own (so that group can be killed as a last resort). */
class Up {
  readonly child: ChildProcess;
  #stderr = '';

  constructor(
    env: NodeJS.ProcessEnv,
    readonly dataDir: string,
  ) {
    // Under setpriv --pdeathsig, `up` stops (taking its servers along) even if this bench is killed.
    const guard = existsSync('/usr/bin/setpriv') ? ['/usr/bin/setpriv', '--pdeathsig', 'TERM', '--'] : [];
    const [cmd, ...args] = [...guard, TGPULSE, 'up'];
    this.child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    this.child.stderr?.on('data', (d: Buffer) => (this.#stderr = (this.#stderr + d.toString()).slice(-4000)));
  }

  /** Resolves once `up` has written instance.json (every server listens then). */
  async ready(): Promise<void> {
    const file = join(this.dataDir, 'instance.json');
    for (const until = Date.now() + UP_START_TIMEOUT_MS; Date.now() < until; ) {
      if (this.child.exitCode !== null || this.child.signalCode !== null)
        throw new Error(`tgpulse up exited while starting (${this.child.exitCode}): ${this.#stderr}`);
      if (existsSync(file)) return;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`tgpulse up did not start within ${UP_START_TIMEOUT_MS / 1000} s: ${this.#stderr}`);
  }

  /** SIGTERM (up drains and stops its servers), SIGKILL to its group after 60 s, then any server left behind. */
  async stop(): Promise<void> {
    const pid = this.child.pid;
    if (pid !== undefined && this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 60_000))]);
      if (this.child.exitCode === null && this.child.signalCode === null) {
        out(`  tgpulse up (pid ${pid}) did not stop within 60 s: killing its process group`);
        process.kill(-pid, 'SIGKILL');
        await exited;
      }
    }
    // The private nats-server and the warehouse run in groups of their own; up stops them, unless it was killed.
    for (const file of [join(this.dataDir, 'nats', 'server.json'), join(this.dataDir, 'warehouse', 'server.json')]) {
      const server = recordedPid(file);
      if (server !== null && alive(server)) {
        out(`  killing server ${server} left behind (${file})`);
        process.kill(server, 'SIGKILL');
      }
    }
  }
}

async function main(): Promise<void> {
  const n = runs();
  const dataDir = mkdtempSync(join(tmpdir(), 'tgpulse-bench-cli-'));
  const env = benchEnv(dataDir);
  let up: Up | null = null;
  const stopAll = async () => {
    const running = up;
    up = null;
    await running?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  // Ctrl-C or a kill stops `up` too.
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      void stopAll().finally(() => process.exit(130));
    });
  try {
    out(`tgpulse CLI bench: ./tgpulse wall clock, ${n} runs each after one untimed run (node ${process.version})`);
    out(
      `load average before: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}; data folder ${dataDir}`,
    );
    out('\nwarehouse and control plane NOT running (nothing started on the data folder):');
    header();
    for (const c of CASES.stopped) await measure(c, env, n, 'stopped');

    out('\nwarehouse and control plane RUNNING (tgpulse up on the data folder, TGPULSE_WORKERS=0):');
    const startedAt = Date.now();
    up = new Up(env, dataDir);
    await up.ready();
    out(`  tgpulse up ready in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
    header();
    for (const c of CASES.running) await measure(c, env, n, 'running');
    out(
      `\nload average after: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}; target: median under ${TARGET_MS} ms`,
    );
  } finally {
    await stopAll();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
