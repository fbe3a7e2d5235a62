/**
 * What runs where for a data folder: the facts `tgpulse status` prints, read
 * from the files the running processes keep there. Pure apart from reading
 * those files.
 */
import { join } from 'node:path';
import { readRunningWarehouse, readerPasswordFile, READER_USER } from '../clickhouse/local-server/index.ts';
import { runningLocalNats } from './local-nats.ts';
import { redactUrl } from '../common/index.ts';
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

export function readStatus(config: CoreConfig): Status {
  const instance = readInstance(config.dataDir);
  const wh = config.warehouse;
  const local = wh.driver === 'local' ? readRunningWarehouse(wh.dataDir) : null;
  const nats = instance?.nats_url ?? config.explicitNatsUrl ?? runningLocalNats(join(config.dataDir, 'nats'));
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
    '',
  ].join('\n');
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
