/**
 * Ports for servers a test stops and starts again on the same port (a killed
 * NATS node, a stopped Postgres). A port from `listen(0)` lies in the kernel's
 * ephemeral range, so while the server is down an outgoing connection of any
 * process on the machine may take it, and the restart fails with "address
 * already in use" (seen with a NATS node down for 10 s). Below that range
 * only listeners take ports.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** The first port of the kernel's ephemeral range (Linux), 32768 when it cannot be read. */
function ephemeralStart(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768;
  }
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

const taken = new Set<number>();

/** A free loopback port below the ephemeral range, not handed out before by this process. */
export async function restartablePort(): Promise<number> {
  const top = ephemeralStart();
  const bottom = Math.max(1024, top - 12_000);
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = bottom + Math.floor(Math.random() * (top - bottom));
    if (taken.has(port) || !(await bindable(port))) continue;
    taken.add(port);
    return port;
  }
  throw new Error(`no free port between ${bottom} and ${top}`);
}
