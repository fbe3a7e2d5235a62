/**
 * What runs where for a data folder: the facts `tgpulse status` prints, read
 * from the files the running processes keep there, and their rendering with
 * the sizes of the tables and streams (asked for by status-sizes.ts). Pure
 * apart from reading those files.
 */
import { join } from 'node:path';
import { readRunningWarehouse, readerPasswordFile, READER_USER } from '../clickhouse/local-server/index.ts';
import { ttlDays, type TableSize } from '../clickhouse/index.ts';
import type { StreamSize } from '../streams/index.ts';
import { runningLocalNats } from './local-nats.ts';
import { DAY_MS, formatBytes, HOUR_MS, redactUrl } from '../common/index.ts';
import { readInstance } from './instance.ts';
import type { CoreConfig } from './core-config.ts';
import type { MtprotoAccount } from '../control/index.ts';

export interface Status {
  /** Whether a `tgpulse up` runs on the data folder. */
  running: boolean;
  api_url: string | null;
  ops_url: string | null;
  nats_url: string | null;
  warehouse: {
    driver: string;
    http_url: string | null;
    native_port: number | null;
    database: string;
    reader_user: string | null;
    reader_password_file: string | null;
  };
  control_plane: string;
  data_dir: string;
  /** Per MTProto account, what its collector last reported; a string when the control plane could not be read. */
  collectors?: CollectorStatus[] | string;
  /** Rows, bytes and TTL per warehouse table; a string saying why when the warehouse could not be read. */
  warehouse_tables?: TableSize[] | string;
  /** Messages, bytes and limits per JetStream stream; a string saying why when NATS could not be read. */
  streams?: StreamSize[] | string;
}

/** One account's work as `tgpulse status` shows it. */
export interface CollectorStatus {
  account: string;
  status: string;
  channels_held: number | null;
  /** Share of its channels with every polled post's counters within the freshness targets. */
  channels_fresh_share: number | null;
  /** Share of its request budget used over the last hour. */
  budget_used: number | null;
  /** Channels furthest behind their targets, worst first (at most 20). */
  stale_channels: string[];
  reported_at: string | null;
}

/** The collectors' part of the status, from the control plane's accounts. */
export function collectorStatus(accounts: readonly MtprotoAccount[]): CollectorStatus[] {
  return accounts.map((a) => ({
    account: a.id,
    status: a.status,
    channels_held: a.load?.channelsHeld ?? null,
    channels_fresh_share:
      a.load && a.load.channelsHeld > 0 ? Number((a.load.channelsFresh / a.load.channelsHeld).toFixed(3)) : null,
    budget_used: a.load ? Number(a.load.budgetUsed.toFixed(3)) : null,
    stale_channels: a.load?.staleChannels ?? [],
    reported_at: a.load ? new Date(a.load.at).toISOString() : null,
  }));
}

/** The NATS the data folder's processes use, credentials included: to connect to, never to print. */
export function statusNatsUrl(config: CoreConfig): string | null {
  return (
    readInstance(config.dataDir)?.nats_url ?? config.explicitNatsUrl ?? runningLocalNats(join(config.dataDir, 'nats'))
  );
}

export function readStatus(config: CoreConfig): Status {
  const instance = readInstance(config.dataDir);
  const wh = config.warehouse;
  const local = wh.driver === 'local' ? readRunningWarehouse(wh.dataDir) : null;
  const nats = statusNatsUrl(config);
  const control =
    config.control.driver === 'embedded'
      ? `embedded PGlite in ${config.control.path}${instance?.postgres_url ? ` (wire ${redactUrl(instance.postgres_url)})` : ''}`
      : redactUrl(config.control.url);
  return {
    running: instance !== null,
    api_url: instance?.api_url ?? null,
    ops_url: instance?.url ?? null,
    nats_url: nats === null ? null : redactUrl(nats),
    warehouse: {
      driver: wh.driver,
      http_url: wh.driver === 'server' ? wh.url : (local?.http_url ?? null),
      native_port: local?.native_port ?? null,
      database: wh.database,
      reader_user: wh.driver === 'local' ? READER_USER : wh.username,
      reader_password_file: wh.driver === 'local' ? readerPasswordFile(wh.dataDir) : null,
    },
    control_plane: control,
    data_dir: config.dataDir,
  };
}

/** The status as lines for a terminal. */
export function renderStatus(s: Status): string {
  const row = (k: string, v: string | number | null) => `${k.padEnd(22)} ${v ?? '-'}`;
  return [
    row('instance', s.running ? 'running (tgpulse up)' : 'not running'),
    row('api', s.api_url),
    row('ops (metrics, health)', s.ops_url),
    row('nats', s.nats_url),
    row(
      'warehouse',
      `${s.warehouse.driver}${s.warehouse.http_url ? ` ${s.warehouse.http_url}` : s.warehouse.driver === 'local' ? ' (not running)' : ''}`,
    ),
    row('  native port', s.warehouse.native_port),
    row('  database', s.warehouse.database),
    row('  reader user', s.warehouse.reader_user),
    row('  reader password file', s.warehouse.reader_password_file),
    row('control plane', s.control_plane),
    row('data folder', s.data_dir),
    ...collectorLines(s.collectors),
    ...tableLines(s.warehouse_tables),
    ...streamLines(s.streams),
    '',
  ].join('\n');
}

function tableLines(t: Status['warehouse_tables']): string[] {
  if (t === undefined) return [];
  if (typeof t === 'string') return [`warehouse tables       ${t}`];
  const width = Math.max(20, ...t.map((r) => r.table.length));
  return [
    'warehouse tables (rows, on disk, uncompressed, rows kept)',
    ...t.map(
      (r) =>
        `  ${r.table.padEnd(width)} ${count(r.rows).padStart(13)} ${formatBytes(r.bytes_on_disk).padStart(10)} ${formatBytes(r.bytes_uncompressed).padStart(10)}  ${kept(r.ttl)}`,
    ),
  ];
}

function streamLines(st: Status['streams']): string[] {
  if (st === undefined) return [];
  if (typeof st === 'string') return [`streams                ${st}`];
  return [
    'streams (messages, size, oldest message, limits)',
    ...st.map((s) => {
      const limits = [
        s.max_age_ms === null ? 'no age limit' : `max age ${duration(s.max_age_ms)}`,
        ...(s.max_bytes === null ? [] : [`max ${formatBytes(s.max_bytes)}`]),
      ].join(', ');
      return `  ${s.stream.padEnd(20)} ${count(s.messages).padStart(13)} ${formatBytes(s.bytes).padStart(10)}  ${(s.oldest ?? '-').padEnd(24)}  ${limits}`;
    }),
  ];
}

/** How long a table keeps rows: the days of a tgpulse retention, or the TTL as written. */
function kept(ttl: string | null): string {
  if (ttl === null) return 'forever';
  const days = ttlDays(ttl);
  return days === null ? `TTL ${ttl}` : `${plural(days, 'day')} after written`;
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

function duration(ms: number): string {
  if (ms % DAY_MS === 0) return plural(ms / DAY_MS, 'day');
  return ms % HOUR_MS === 0 ? `${ms / HOUR_MS} h` : `${Math.round(ms / 1000)} s`;
}

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

function collectorLines(c: Status['collectors']): string[] {
  if (c === undefined) return [];
  if (typeof c === 'string') return [`collectors             ${c}`];
  if (c.length === 0) return ['collectors             no Telegram account (tgpulse login)'];
  const pct = (v: number | null) => (v === null ? '-' : `${Math.round(v * 100)}%`);
  return [
    'collectors (account: channels, share within freshness targets, request budget used in the last hour)',
    ...c.flatMap((a) => [
      `  ${a.account.padEnd(20)} ${a.status === 'active' ? '' : `${a.status} `}${a.channels_held ?? '-'} channels, ${pct(a.channels_fresh_share)} fresh, ${pct(a.budget_used)} of budget${a.reported_at ? ` (as of ${a.reported_at})` : ' (no report yet)'}`,
      ...(a.stale_channels.length ? [`    furthest behind: ${a.stale_channels.join(', ')}`] : []),
    ]),
  ];
}
