/**
 * The part of the configuration that is cheap to read: the data folder, the
 * log level, where NATS, the warehouse and the control plane are. It imports
 * no role's code (types only), so the commands that need no more (`status`,
 * `query`, `apikey`) start without loading NATS, gramjs or the processors just
 * to fill in defaults they never use. config.ts builds the whole configuration
 * on top of it, with the same validation.
 */
import { resolve } from 'node:path';
import type { WarehouseConfig } from '../clickhouse/index.ts';
import type { ControlConfig } from '../control/index.ts';
import type { LogFormat } from '../observability/index.ts';

export interface CoreConfig {
  dataDir: string;
  logLevel: string;
  /** TGPULSE_LOG_FORMAT when set; null: pretty at a terminal, JSON elsewhere (observability's chooseLogFormat). */
  logFormat: LogFormat | null;
  /**
   * TGPULSE_NATS_URL when set. Without it (null) every command uses the data
   * folder's private nats-server (started when none runs), never a NATS that
   * merely happens to answer on the default port.
   */
  explicitNatsUrl: string | null;
  warehouse: WarehouseConfig;
  /** The Postgres control plane (API keys, share links, audit log; later accounts, bot users). */
  control: ControlConfig;
}

export class ConfigError extends Error {
  constructor(variable: string, expected: string, got: string) {
    super(`${variable}=${JSON.stringify(got)} is invalid: expected ${expected}`);
    this.name = 'ConfigError';
  }
}

export type Env = Record<string, string | undefined>;

export function str(env: Env, name: string, def: string): string {
  const v = env[name];
  return v === undefined || v === '' ? def : v;
}

export function int(env: Env, name: string, def: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const v = env[name];
  if (v === undefined || v === '') return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(name, `an integer from ${min} to ${max}`, v);
  return n;
}

export function oneOf<T extends string>(env: Env, name: string, def: T, allowed: readonly T[]): T {
  const v = env[name];
  if (v === undefined || v === '') return def;
  if (!(allowed as readonly string[]).includes(v)) throw new ConfigError(name, `one of ${allowed.join(', ')}`, v);
  return v as T;
}

export function loadCoreConfig(env: Env = process.env): CoreConfig {
  const dataDir = resolve(str(env, 'TGPULSE_DATA_DIR', './data'));
  return {
    dataDir,
    logLevel: oneOf(env, 'TGPULSE_LOG_LEVEL', 'info', [
      'trace',
      'debug',
      'info',
      'warn',
      'error',
      'fatal',
      'silent',
    ] as const),
    logFormat:
      str(env, 'TGPULSE_LOG_FORMAT', '') === ''
        ? null
        : oneOf(env, 'TGPULSE_LOG_FORMAT', 'json', ['pretty', 'json'] as const satisfies readonly LogFormat[]),
    explicitNatsUrl: natsUrl(env),
    warehouse: warehouseConfig(env, dataDir),
    control: controlConfig(env, dataDir),
  };
}

function natsUrl(env: Env): string | null {
  const url = str(env, 'TGPULSE_NATS_URL', '');
  if (url === '') return null;
  if (!/^(nats|tls|ws|wss):\/\/[^\s]+$|^[\w.-]+:\d+/.test(url.split(',')[0].trim())) {
    throw new ConfigError('TGPULSE_NATS_URL', 'a URL like nats://host:4222', url);
  }
  return url;
}

function warehouseConfig(env: Env, dataDir: string): WarehouseConfig {
  const driver = oneOf(env, 'TGPULSE_WAREHOUSE', 'local', ['local', 'server'] as const);
  const url = str(env, 'TGPULSE_CLICKHOUSE_URL', 'http://127.0.0.1:8123');
  if (driver === 'server' && !/^https?:\/\//.test(url))
    throw new ConfigError('TGPULSE_CLICKHOUSE_URL', 'an http(s) URL', url);
  const cluster = str(env, 'TGPULSE_CLICKHOUSE_CLUSTER', '');
  const backupDisk = str(env, 'TGPULSE_CLICKHOUSE_BACKUP_DISK', '');
  if (backupDisk !== '' && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(backupDisk))
    throw new ConfigError('TGPULSE_CLICKHOUSE_BACKUP_DISK', 'a disk name from the server configuration', backupDisk);
  const database = str(env, 'TGPULSE_CLICKHOUSE_DATABASE', 'tgpulse');
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(database))
    throw new ConfigError('TGPULSE_CLICKHOUSE_DATABASE', 'an identifier (letters, digits, _)', database);
  return driver === 'local'
    ? {
        driver,
        dataDir,
        database,
        httpPort: int(env, 'TGPULSE_WAREHOUSE_HTTP_PORT', 8123, 0, 65535),
        nativePort: int(env, 'TGPULSE_WAREHOUSE_NATIVE_PORT', 9000, 0, 65535),
      }
    : {
        driver,
        url,
        username: str(env, 'TGPULSE_CLICKHOUSE_USER', 'default'),
        password: str(env, 'TGPULSE_CLICKHOUSE_PASSWORD', ''),
        database,
        ...(cluster ? { cluster } : {}),
        ...(backupDisk ? { backupDisk } : {}),
      };
}

function controlConfig(env: Env, dataDir: string): ControlConfig {
  const url = str(env, 'TGPULSE_POSTGRES_URL', '');
  if (url !== '' && !/^postgres(ql)?:\/\//.test(url))
    throw new ConfigError('TGPULSE_POSTGRES_URL', 'a URL like postgres://user@host:5432/db', url);
  const shareSecret = str(env, 'TGPULSE_SHARE_SECRET', '');
  if (shareSecret !== '' && shareSecret.length < 32)
    throw new ConfigError('TGPULSE_SHARE_SECRET', 'at least 32 characters', '<hidden>');
  const secret = shareSecret === '' ? {} : { shareSecret };
  return url === ''
    ? { driver: 'embedded', path: resolve(dataDir, 'pglite'), ...secret }
    : { driver: 'server', url, ...secret };
}
