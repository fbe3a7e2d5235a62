/**
 * A warning when a listener answers beyond this machine without asking who
 * is calling. Every listener binds loopback by default; an operator opens one
 * with its host variable (in containers they must), and then should know what
 * anyone who reaches the port can read there.
 *
 * What "without authentication" means for each listener, from its code:
 * - the ops endpoint (TGPULSE_HTTP_HOST) has no authentication at all: its
 *   /metrics and /readyz (which names failing dependencies) answer anyone;
 * - the REST API (TGPULSE_API_HOST) asks for an API key on every analytics
 *   route and a signed token on share links, and the bot's webhook needs its
 *   secret (the configuration refuses webhook mode without one); but its
 *   /metrics and /readyz answer anyone, as on the ops endpoint.
 * The local warehouse, the private nats-server and the embedded Postgres
 * socket bind 127.0.0.1 with no setting to change it, so they never warn.
 */
import { BlockList, isIP } from 'node:net';
import type { Logger } from '../observability/index.ts';

export interface Listener {
  /** What listens, as the operator knows it. */
  name: string;
  /** The variable that sets its address. */
  variable: string;
  host: string;
  port: number;
  /** What it serves without authentication; empty when every route asks for credentials. */
  open: string[];
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** True when `host` reaches this machine only: 127.0.0.0/8, ::1 (also IPv4-mapped) or localhost. */
export function isLoopback(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  const family = isIP(h);
  if (family === 0) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
  if (mapped) return LOOPBACK.check(mapped[1], 'ipv4');
  return LOOPBACK.check(h, family === 4 ? 'ipv4' : 'ipv6');
}

/** The routes of the ops endpoint and of the REST API that answer without credentials and tell something. */
const OPEN_OPS_ROUTES = ['/metrics', '/readyz'];

export function opsListener(host: string, port: number): Listener {
  return { name: 'the ops endpoint', variable: 'TGPULSE_HTTP_HOST', host, port, open: OPEN_OPS_ROUTES };
}

export function apiListener(host: string, port: number): Listener {
  return { name: 'the REST API', variable: 'TGPULSE_API_HOST', host, port, open: OPEN_OPS_ROUTES };
}

/** The warning a listener deserves, or null when it is loopback or everything on it needs credentials. */
export function openListenerWarning(l: Listener): string | null {
  if (isLoopback(l.host) || l.open.length === 0) return null;
  return (
    `${l.name} listens on ${l.host}:${l.port} (${l.variable}=${l.host}), reachable from other machines, ` +
    `and serves ${l.open.join(' and ')} there without authentication: anyone who reaches the port reads them. ` +
    `Set ${l.variable}=127.0.0.1, or keep the port behind a firewall or an authenticating proxy.`
  );
}

/** Logs the warning of a listener that has just started, if it deserves one. */
export function warnIfOpen(log: Logger, l: Listener): void {
  const warning = openListenerWarning(l);
  if (warning !== null) log.warn({ listener: l.name, host: l.host, port: l.port, open: l.open }, warning);
}
