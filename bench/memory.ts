/**
 * `npm run bench:memory`: the resident memory of every process that
 * `tgpulse up --simulate` runs (the tgpulse process, its nats-server, its
 * local warehouse server), sampled from /proc while it works through the
 * simulated history, and what dominates.
 *
 * Sizes: BENCH_MEMORY_CHANNELS (comma list, default "20,1000"),
 * BENCH_MEMORY_DAYS of history (default 3), BENCH_MEMORY_SECONDS of sampling
 * per size (default 90). Every process is stopped at the end, also on failure.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { privateEnv } from './private-env.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const PAGE_KIB = 4;

function out(s: string): void {
  process.stdout.write(`${s}\n`);
}

/** pid → (parent pid, name, RSS in KiB) of every process on the machine. */
function processTable(): Map<number, { ppid: number; name: string; rssKiB: number }> {
  const table = new Map<number, { ppid: number; name: string; rssKiB: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const statm = readFileSync(`/proc/${entry}/statm`, 'utf8').split(' ');
      table.set(Number(entry), { ppid: Number(fields[1]), name, rssKiB: Number(statm[1]) * PAGE_KIB });
    } catch {
      // the process ended while we looked
    }
  }
  return table;
}

/** The process and all its descendants. */
function tree(root: number): Array<{ pid: number; name: string; rssKiB: number }> {
  const table = processTable();
  const found: Array<{ pid: number; name: string; rssKiB: number }> = [];
  const queue = [root];
  while (queue.length) {
    const pid = queue.shift()!;
    const p = table.get(pid);
    if (!p) continue;
    found.push({ pid, name: p.name, rssKiB: p.rssKiB });
    for (const [child, c] of table) if (c.ppid === pid) queue.push(child);
  }
  return found;
}

async function measure(channels: number, days: number, seconds: number): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tgpulse-bench-memory-'));
  const env = privateEnv(dataDir);
  // Under setpriv --pdeathsig, `up` stops (and takes its servers along) even if this bench is killed.
  const guard = existsSync('/usr/bin/setpriv') ? ['/usr/bin/setpriv', '--pdeathsig', 'TERM', '--'] : [];
  const [cmd, ...args] = [
    ...guard,
    process.execPath,
    '--import',
    'tsx',
    'cli/main.ts',
    'up',
    '--simulate',
    '--channels',
    String(channels),
    '--days',
    String(days),
  ];
  const up = spawn(cmd, args, {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  up.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const peakByName = new Map<string, number>();
  let peakTotal = 0;
  try {
    for (const until = Date.now() + seconds * 1000; Date.now() < until; await new Promise((r) => setTimeout(r, 500))) {
      if (up.exitCode !== null) throw new Error(`tgpulse up exited early (${up.exitCode}): ${stderr}`);
      const procs = tree(up.pid!);
      const byName = new Map<string, number>();
      for (const p of procs) {
        const name = p.pid === up.pid ? 'tgpulse (node: every role, PGlite)' : p.name;
        byName.set(name, (byName.get(name) ?? 0) + p.rssKiB);
      }
      const total = [...byName.values()].reduce((a, b) => a + b, 0);
      if (total > peakTotal) peakTotal = total;
      for (const [name, kib] of byName) peakByName.set(name, Math.max(peakByName.get(name) ?? 0, kib));
    }
  } finally {
    const exited = new Promise((r) => up.once('exit', r));
    up.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
    if (up.exitCode === null) up.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
  out(`\n${channels} channels, ${days} days of history, sampled for ${seconds} s`);
  for (const [name, kib] of [...peakByName].sort((a, b) => b[1] - a[1]))
    out(`  ${name.padEnd(40)} peak ${(kib / 1024).toFixed(0).padStart(6)} MiB`);
  out(`  ${'all processes together'.padEnd(40)} peak ${(peakTotal / 1024).toFixed(0).padStart(6)} MiB`);
}

async function main(): Promise<void> {
  const sizes = (process.env.BENCH_MEMORY_CHANNELS ?? '20,1000').split(',').map((s) => Number(s.trim()));
  const days = Number(process.env.BENCH_MEMORY_DAYS ?? 3);
  const seconds = Number(process.env.BENCH_MEMORY_SECONDS ?? 90);
  out(`tgpulse memory bench: RSS of every process of tgpulse up --simulate (node ${process.version})`);
  for (const channels of sizes) await measure(channels, days, seconds);
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
