import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyRetention } from '../clickhouse/apply-retention.ts';
import { anyFreePort } from '../clickhouse/local-server/child.ts';
import { DEFAULT_RETENTION } from '../clickhouse/retention.ts';
import { openTempWarehouse, type TempWarehouse } from '../clickhouse/testing.ts';
import type { MtprotoAccount } from '../control/index.ts';
import { defaultStreamsConfig } from '../streams/config.ts';
import { ensureStreams, openCheckpointBucket } from '../streams/topology.ts';
import { startTestNats, type TestNats } from '../test/support/nats.ts';
import { loadCoreConfig } from './core-config.ts';
import { collectorStatus, renderStatus, type Status } from './status.ts';
import { streamSizes, warehouseSizes } from './status-sizes.ts';

const base: MtprotoAccount = {
  id: 'acc1',
  phone: '+4915100000001',
  userId: null,
  status: 'active',
  proxy: null,
  health: 1,
  parkedUntil: null,
  lastError: null,
  joinsRefusedUntil: null,
  load: null,
  createdAt: 0,
  updatedAt: 0,
};

const STATUS: Status = {
  running: true,
  api_url: null,
  ops_url: null,
  nats_url: null,
  warehouse: {
    driver: 'local',
    http_url: null,
    native_port: null,
    database: 'tgpulse',
    reader_user: null,
    reader_password_file: null,
  },
  control_plane: 'embedded',
  data_dir: '/data',
};

describe('the collectors in tgpulse status', () => {
  it("shows each account's channels, share within the freshness targets and budget use", () => {
    const at = Date.UTC(2026, 11, 7, 9, 0);
    const rows = collectorStatus([
      {
        ...base,
        load: { budgetUsed: 0.4567, channelsHeld: 800, channelsFresh: 796, staleChannels: ['1001', '1002'], at },
      },
      { ...base, id: 'acc2', status: 'disabled' },
    ]);
    expect(rows).toEqual([
      {
        account: 'acc1',
        status: 'active',
        channels_held: 800,
        channels_fresh_share: 0.995,
        budget_used: 0.457,
        stale_channels: ['1001', '1002'],
        reported_at: '2026-12-07T09:00:00.000Z',
      },
      {
        account: 'acc2',
        status: 'disabled',
        channels_held: null,
        channels_fresh_share: null,
        budget_used: null,
        stale_channels: [],
        reported_at: null,
      },
    ]);
    const text = renderStatus({ ...STATUS, collectors: rows });
    expect(text).toContain(
      'acc1                 800 channels, 100% fresh, 46% of budget (as of 2026-12-07T09:00:00.000Z)',
    );
    expect(text).toContain('    furthest behind: 1001, 1002');
    expect(text).toContain('acc2                 disabled - channels, - fresh, - of budget (no report yet)');
  });

  it('says when there is no account, or the control plane could not be read', () => {
    expect(renderStatus({ ...STATUS, collectors: [] })).toContain('no Telegram account (tgpulse login)');
    expect(renderStatus({ ...STATUS, collectors: 'control plane not readable: refused' })).toContain(
      'collectors             control plane not readable: refused',
    );
    expect(renderStatus(STATUS)).not.toContain('collectors');
  });
});

describe('the sizes in tgpulse status', () => {
  let t: TempWarehouse;
  let nats: TestNats;

  beforeAll(async () => {
    [t, nats] = await Promise.all([openTempWarehouse(), startTestNats()]);
    await applyRetention(t.wh, DEFAULT_RETENTION);
    await t.wh.insertRows(
      'raw_channel_members',
      [1, 2, 3].map((i) => ({
        v: 1,
        id: `cm_${i}`,
        channel_id: '1001',
        event_time: '2026-05-01 00:00:00.000',
        observed_at: '2026-05-01 00:00:00.000',
        source: 'simulator',
        members: 100 + i,
      })),
    );
    // The topology every role creates, and a few messages on TG_RAW and in the checkpoint bucket.
    const nc = await connect({ servers: nats.url });
    try {
      await ensureStreams(await jetstreamManager(nc), defaultStreamsConfig);
      const kv = await openCheckpointBucket(nc, defaultStreamsConfig);
      await kv.put('p00', 'state');
      const js = jetstream(nc);
      for (let i = 0; i < 5; i++) await js.publish(`tg.raw.p00.post.1001`, `batch ${i}`);
    } finally {
      await nc.close();
    }
  });
  afterAll(async () => {
    await t?.dispose();
    await nats?.stop();
  });

  it('shows rows, bytes and the TTL in force per table, and messages, bytes and limits per stream', async () => {
    const tables = await warehouseSizes({ ...loadCoreConfig({}), warehouse: t.config });
    const streams = await streamSizes(nats.url);
    if (typeof tables === 'string' || typeof streams === 'string') throw new Error(`${tables} ${streams}`);

    const members = tables.find((r) => r.table === 'raw_channel_members');
    expect(members).toMatchObject({ rows: 3, ttl: 'ingested_at + toIntervalDay(90)' });
    expect(members?.bytes_on_disk).toBeGreaterThan(0);
    expect(members?.bytes_uncompressed).toBeGreaterThan(0);
    expect(tables.find((r) => r.table === 'channel_daily')).toMatchObject({ rows: 0, ttl: null });
    // Views and other engines hold no parts and are not listed.
    expect(tables.map((r) => r.table)).not.toContain('channel_daily_mv');

    expect(streams.map((s) => s.stream)).toEqual(['TG_RAW', 'TG_DERIVED', 'TG_DLQ', 'KV_tg_checkpoints']);
    expect(streams[0]).toMatchObject({ messages: 5, max_age_ms: defaultStreamsConfig.maxAgeMs, max_bytes: null });
    expect(streams[0].bytes).toBeGreaterThan(0);
    expect(streams[0].oldest).not.toBe(null);
    expect(streams[1]).toMatchObject({ messages: 0, bytes: 0, oldest: null });
    expect(streams[3]).toMatchObject({ messages: 1, max_age_ms: null });

    const text = renderStatus({ ...STATUS, warehouse_tables: tables, streams });
    expect(text).toContain('warehouse tables (rows, on disk, uncompressed, rows kept)');
    expect(text).toMatch(/ {2}raw_channel_members +3 +[\d.]+ (B|KB) +[\d.]+ (B|KB) {2}90 days after written\n/);
    expect(text).toMatch(/ {2}channel_daily +0 +0 B +0 B {2}forever\n/);
    expect(text).toMatch(/ {2}TG_RAW +5 +[\d.]+ (B|KB) {2}\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z {2}max age 7 days\n/);
    expect(text).toMatch(/ {2}KV_tg_checkpoints +1 .* no age limit\n/);
    expect(text).toMatch(/ {2}TG_DERIVED +0 +0 B {2}- {25}max age 7 days\n/);
  });

  it('says when the warehouse or NATS cannot be read, and prints the rest', async () => {
    const closed = await anyFreePort();
    const tables = await warehouseSizes({
      ...loadCoreConfig({}),
      warehouse: { ...t.config, url: `http://127.0.0.1:${closed}` },
    });
    expect(tables).toMatch(/^warehouse not readable: /);
    expect(await streamSizes(`nats://127.0.0.1:${closed}`)).toMatch(/^NATS not readable: /);
    const stopped = await streamSizes(null);
    expect(stopped).toMatch(/NATS is not running/);
    const local = await warehouseSizes(loadCoreConfig({ TGPULSE_DATA_DIR: nats.storeDir }));
    expect(local).toMatch(/local warehouse is not running/);

    const text = renderStatus({ ...STATUS, warehouse_tables: local, streams: stopped });
    expect(text).toContain('warehouse tables       the local warehouse is not running');
    expect(text).toContain('streams                NATS is not running');
    expect(text).toContain('data folder            /data');
  });
});
