/**
 * Small helpers for the servers tgpulse runs as child processes (the local
 * warehouse, the private nats-server): is a process alive, a free loopback
 * port, and a stop that escalates to SIGKILL.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { sleep } from '../../common/index.ts';

/** Whether a process with this id exists (signal 0 checks without signalling). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A port on 127.0.0.1 that was free a moment ago. */
export async function anyFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no free port'))));
    });
  });
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the child has exited. */
export async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  // The grace timer is cancelled once the child is gone, so it does not hold the process open.
  const grace = new AbortController();
  await Promise.race([exited.then(() => grace.abort()), sleep(graceMs, grace.signal)]);
  grace.abort();
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await exited;
  }
}

/**
 * The command prefix that makes a child die with its parent, even when the
 * parent is SIGKILLed: `setpriv --pdeathsig KILL` (util-linux) where it
 * exists. Where it does not, children watch their stdin pipe instead.
 */
export function dieWithParent(): string[] {
  for (const p of ['/usr/bin/setpriv', '/bin/setpriv']) if (existsSync(p)) return [p, '--pdeathsig', 'KILL', '--'];
  return [];
}
