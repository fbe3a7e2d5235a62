/**
 * Small helpers for the servers tgpulse runs as child processes (the local
 * warehouse, the private nats-server): is a process alive, a free loopback
 * port, and a stop that escalates to SIGKILL.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
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

/** The first port of the kernel's ephemeral range (Linux), 32768 when it cannot be read. */
function ephemeralStart(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768;
  }
}

/** Whether a loopback listener could take this port now. */
export function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** Ports {@link serverPort} handed out, so two servers of one process never get the same. */
const handedOut = new Set<number>();

/**
 * A free loopback port for a server that is restarted on the same port
 * after a crash (the local warehouse, a test's NATS node or Postgres).
 * A port from `listen(0)` lies in the kernel's ephemeral range: while the
 * server is down, any outgoing connection on the machine may take it, and
 * the restart fails with "address already in use" (seen with a NATS node
 * down for 10 s). Below that range only listeners take ports.
 */
export async function serverPort(): Promise<number> {
  const top = ephemeralStart();
  const bottom = Math.max(1024, top - 12_000);
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = bottom + Math.floor(Math.random() * (top - bottom));
    if (handedOut.has(port) || !(await bindable(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free port between ${bottom} and ${top}`);
}

/** A port on 127.0.0.1 that was free a moment ago (for a client, or a server never restarted). */
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
