/**
 * Roles as child processes (`tgpulse process`, `tgpulse sink`), so tests can
 * kill them with SIGKILL at any point like a crash would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dieWithParent } from '../../clickhouse/local-server/child.ts';
import { cliArgs, REPO_ROOT, seedControlFolder } from './cli.ts';

export interface RoleProcess {
  name: string;
  child: ChildProcess;
  /** Resolves with the exit code (or the signal name) when the process ends. */
  exited: Promise<number | string>;
  output(): string;
}

/** Starts `tgpulse <role>`; the last `keepChars` of its output are kept for assertions and failure messages. */
export function spawnRole(role: string, args: string[], env: Record<string, string>, keepChars = 20_000): RoleProcess {
  // Dies with the test (or bench) process, even when that is killed.
  const [cmd, ...prefix] = [...dieWithParent(), process.execPath];
  // BENCH_CPU_PROF=<dir>: each role writes a V8 CPU profile there when it exits (open it in Chrome DevTools).
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const fullEnv = { ...process.env, TGPULSE_HTTP_PORT: '0', TGPULSE_LOG_LEVEL: 'warn', ...env };
  seedControlFolder(role, fullEnv);
  const child = spawn(cmd, [...prefix, ...profile, ...cliArgs(role, ...args)], {
    cwd: REPO_ROOT,
    env: fullEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-keepChars);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  return { name: role, child, exited, output: () => out };
}

/** SIGTERM and wait: the role drains, checkpoints and exits 0. */
export async function stopRole(r: RoleProcess): Promise<number | string> {
  if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGTERM');
  return r.exited;
}

export async function killRole(r: RoleProcess): Promise<void> {
  if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
  await r.exited;
}

/**
 * What roles logged at warn and above, counted by message and written as
 * "3× message; …": the story of a run that went wrong, in one line.
 */
export function warningSummary(roles: readonly RoleProcess[]): string {
  const counts = new Map<string, { n: number; err: string | undefined }>();
  for (const r of roles) {
    for (const line of r.output().split('\n')) {
      const msg = /"level":(?:40|50|60).*?"msg":"([^"]+)"/.exec(line)?.[1];
      if (!msg) continue;
      // The error as a string, or the message of a serialized error object, or the status a connection reported.
      const why =
        /"err":"([^"]{0,160})/.exec(line)?.[1] ??
        /"err":\{[^}]*?"message":"([^"]{0,160})/.exec(line)?.[1] ??
        /"(?:status|type)":"([^"]{0,80})/.exec(line)?.[1];
      const seen = counts.get(msg) ?? { n: 0, err: why };
      seen.n++;
      counts.set(msg, seen);
    }
  }
  // The first error of each kind says why, e.g. which timeout.
  return [...counts].map(([m, { n, err }]) => `${n}× ${m}${err ? ` (first: ${err})` : ''}`).join('; ');
}
