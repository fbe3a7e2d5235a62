/**
 * Production wiring of the collectors' Telegram connections: a gramjs
 * client per account, opened from its sealed session, through its proxy or
 * the configured fallbacks, with gramjs's console output routed to the
 * process's logger, wrapped in an {@link AccountSession}.
 *
 * gramjs's own FLOOD_WAIT sleeping is off (`floodSleepThreshold: 0`): the
 * AccountSession parks the account and the collector moves its channels,
 * which a library sleeping inside `invoke` would hide.
 */
import { TelegramClient } from 'telegram';
import { StringSession } from 'telegram/sessions/index.js';
import { Logger as GramLogger, LogLevel } from 'telegram/extensions/Logger.js';
import type { ProxyInterface } from 'telegram/network/connection/TCPMTProxy.js';
import type { Pool } from 'pg';
import type { Logger } from '../../observability/index.ts';
import { accountSession, listAccounts, redactProxy, type MtprotoAccount, decryptSession } from '../../control/index.ts';
import { AccountSession } from './account.ts';
import { apiCredentials, sessionKeyOf, type MtprotoConfig } from './config.ts';
import type { CollectorMetrics } from './metrics.ts';

/** What opening one Telegram connection needs. */
export interface TelegramClientOptions {
  /** A StringSession text; '' for a fresh login. */
  session: string;
  apiId: number;
  apiHash: string;
  /** `socks5://…` or `mtproxy://…`; null connects directly. */
  proxy: string | null;
  log: Logger;
}

/** Opens a connected client; tests pass one that answers from a fake Telegram. */
export type ConnectTelegram = (opts: TelegramClientOptions) => Promise<TelegramClient>;

/** Connection attempts gramjs makes before `connect` gives up. */
const CONNECTION_RETRIES = 3;

/**
 * A proxy URL as gramjs's `proxy` option.
 *
 * @example
 * proxyOption('socks5://bob:pw@10.0.0.1:1080') // { socksType: 5, ip: '10.0.0.1', port: 1080, username: 'bob', password: 'pw' }
 * proxyOption('mtproxy://ee00…@proxy.example:443') // { ip: 'proxy.example', port: 443, secret: 'ee00…', MTProxy: true }
 * @throws Error naming the accepted forms (without the URL, which may hold a password).
 */
export function proxyOption(url: string): ProxyInterface {
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    throw new Error(
      'a proxy must be socks5://[user:pass@]host:port or mtproxy://secret@host:port; this one is not a URL',
    );
  }
  const port = Number(parsed.port);
  // IPv6 hosts come bracketed from URL; sockets want them bare.
  const ip = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  if (ip === '' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`the proxy ${redactProxy(url)} needs a host and a port from 1 to 65535`);
  }
  if (parsed.protocol === 'socks5:') {
    const username = decodeURIComponent(parsed.username);
    const password = decodeURIComponent(parsed.password);
    return { socksType: 5, ip, port, ...(username ? { username } : {}), ...(password ? { password } : {}) };
  }
  if (parsed.protocol === 'mtproxy:') {
    const secret = decodeURIComponent(parsed.username);
    if (!/^[0-9a-fA-F]{32,}$|^[A-Za-z0-9_=+/-]{22,}$/.test(secret))
      throw new Error(`the MTProxy ${redactProxy(url)} needs its secret (hex or base64) before the @`);
    return { ip, port, secret, MTProxy: true };
  }
  throw new Error(`the proxy scheme ${parsed.protocol} is not supported: use socks5:// or mtproxy://`);
}

/**
 * gramjs logs with console.log, and its sender prints whole errors with
 * console.error whenever its level allows errors. This logger sends its lines
 * to pino instead and reports the error level as closed, so those raw dumps
 * stay off the terminal; gramjs's `error` lines still arrive, as warnings,
 * since the AccountSession decides what a failure means.
 */
class RoutedGramLogger extends GramLogger {
  readonly #log: Logger;
  constructor(log: Logger) {
    super(log.isLevelEnabled('trace') ? LogLevel.DEBUG : log.isLevelEnabled('debug') ? LogLevel.INFO : LogLevel.WARN);
    this.#log = log;
  }
  override canSend(level: LogLevel): boolean {
    return level === LogLevel.ERROR ? false : super.canSend(level);
  }
  override error(message: string): void {
    this.#log.warn({ gramjs: 'error' }, message);
  }
  override log(level: LogLevel, message: string): void {
    if (level === LogLevel.WARN) this.#log.debug({ gramjs: level }, message);
    else this.#log.trace({ gramjs: level }, message);
  }
}

/**
 * Opens and connects a gramjs client. Throws when Telegram cannot be reached
 * (after gramjs's own retries), naming the proxy (redacted) it went through.
 *
 * @example
 * const client = await openTelegramClient({ session: '', apiId, apiHash, proxy: null, log });
 */
export async function openTelegramClient(opts: TelegramClientOptions): Promise<TelegramClient> {
  const proxy = opts.proxy === null ? undefined : proxyOption(opts.proxy);
  const client = new TelegramClient(new StringSession(opts.session), opts.apiId, opts.apiHash, {
    floodSleepThreshold: 0,
    connectionRetries: CONNECTION_RETRIES,
    baseLogger: new RoutedGramLogger(opts.log),
    ...(proxy ? { proxy } : {}),
  });
  const via = opts.proxy === null ? 'directly' : `through ${redactProxy(opts.proxy)}`;
  let connected = false;
  try {
    connected = await client.connect();
  } catch (err) {
    await client.destroy().catch(() => undefined);
    throw new Error(`could not connect to Telegram ${via}: ${(err as Error).message}`, { cause: err });
  }
  if (!connected) {
    // gramjs answers false (and starts its update loop) when every attempt failed: stop it.
    await client.destroy().catch(() => undefined);
    throw new Error(
      `could not connect to Telegram ${via} after ${CONNECTION_RETRIES} attempts: check the network or the proxy`,
    );
  }
  return client;
}

/** The accounts a collector process opened. */
export interface OpenedAccounts {
  sessions: AccountSession[];
  /** Accounts that could not be opened, with why (no secrets). */
  skipped: Array<{ accountId: string; phone: string; reason: string }>;
  /** Disconnects every client. */
  close(): Promise<void>;
}

export interface OpenAccountsOptions {
  control: Pool;
  config: MtprotoConfig;
  log: Logger;
  metrics?: CollectorMetrics;
  /** Default: {@link openTelegramClient}. */
  connect?: ConnectTelegram;
  /** Only these account ids (default: every active account). */
  only?: string[];
}

/**
 * Opens every active account of the control plane: decrypts its session,
 * connects through its proxy, then directly or through each fallback proxy
 * in turn, and wraps the client in an AccountSession. An account that cannot
 * be opened (its session does not decrypt, no route connects) is reported
 * and skipped, so one bad account does not stop the others.
 *
 * @throws Error when the API credentials or the session key are not configured.
 */
export async function openAccounts(opts: OpenAccountsOptions): Promise<OpenedAccounts> {
  const creds = apiCredentials(opts.config);
  if (!creds.ok) throw new Error(creds.problem);
  const key = sessionKeyOf(opts.config);
  if (!key.ok) throw new Error(key.problem);
  const connect = opts.connect ?? openTelegramClient;
  const accounts = (await listAccounts(opts.control)).filter(
    (a) => a.status === 'active' && (opts.only === undefined || opts.only.includes(a.id)),
  );
  const sessions: AccountSession[] = [];
  const skipped: OpenedAccounts['skipped'] = [];
  for (const account of accounts) {
    const log = opts.log.child({ account: account.id });
    let session: string;
    try {
      session = decryptSession(await accountSession(opts.control, account.id), key.key, account.id);
    } catch (err) {
      log.error({ err }, 'cannot open the stored session of this account; it is skipped');
      skipped.push({ accountId: account.id, phone: account.phone, reason: (err as Error).message });
      continue;
    }
    const first = await connectAny(account, session, creds, opts.config.proxies, connect, log);
    if (first instanceof Error) {
      skipped.push({ accountId: account.id, phone: account.phone, reason: first.message });
      continue;
    }
    let route = first.route;
    // When the connection keeps failing mid-run, the account moves on to the next route.
    const reconnect = async (): Promise<TelegramClient> => {
      const next = await connectAny(account, session, creds, opts.config.proxies, connect, log, route + 1);
      if (next instanceof Error) throw next;
      route = next.route;
      return next.client;
    };
    sessions.push(
      new AccountSession({
        accountId: account.id,
        client: first.client,
        reconnect,
        limits: opts.config.rateLimits,
        log: opts.log,
        metrics: opts.metrics,
      }),
    );
  }
  return {
    sessions,
    skipped,
    async close() {
      await Promise.all(
        sessions.map((s) =>
          s.client
            .destroy()
            .catch((err: unknown) =>
              opts.log.warn({ err, account: s.accountId }, 'disconnecting from Telegram failed'),
            ),
        ),
      );
    },
  };
}

/**
 * The routes an account tries, in order: its own proxy (or direct when it
 * has none), then each fallback proxy; duplicates once.
 */
export function connectionRoutes(accountProxy: string | null, fallbacks: readonly string[]): Array<string | null> {
  const routes: Array<string | null> = [accountProxy];
  for (const p of fallbacks) if (!routes.includes(p)) routes.push(p);
  return routes;
}

async function connectAny(
  account: MtprotoAccount,
  session: string,
  creds: { apiId: number; apiHash: string },
  fallbacks: readonly string[],
  connect: ConnectTelegram,
  log: Logger,
  /** Index of the route to try first; the others follow in order, wrapping around. */
  from = 0,
): Promise<{ client: TelegramClient; route: number } | Error> {
  const routes = connectionRoutes(account.proxy, fallbacks);
  const failures: string[] = [];
  for (let k = 0; k < routes.length; k++) {
    const route = (from + k) % routes.length;
    const proxy = routes[route];
    const shown = proxy === null ? 'direct' : redactProxy(proxy);
    try {
      const client = await connect({ session, apiId: creds.apiId, apiHash: creds.apiHash, proxy, log });
      if (failures.length || from > 0) log.info({ proxy: shown }, 'connected to Telegram through another route');
      return { client, route };
    } catch (err) {
      failures.push(shown);
      log.warn({ proxy: shown, error: (err as Error).message }, 'connecting to Telegram failed; trying the next route');
    }
  }
  const message = `account ${account.id} (${account.phone}) could not connect to Telegram through any route (${failures.join(', ')}); check the network, its proxy (tgpulse accounts proxy) or TGPULSE_MTPROTO_PROXIES`;
  log.error({ routes: failures }, message);
  return new Error(message);
}
