import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS, HOUR_MS } from '../common/index.ts';
import {
  deadLetter,
  membersEvent,
  oneOfEachKind,
  postCountersEvent,
  postEvent,
  T0,
  trendEvent,
  windowAggEvent,
} from '../sinks/clickhouse/encoder.fixtures.ts';
import { deadLetterRow, encodeBatch } from '../sinks/clickhouse/encoder.ts';
import type { TgEvent } from '../streams/contract/events.ts';
import { applyRetention } from './apply-retention.ts';
import { RETAINED_TABLES, type RetentionConfig, tableRetentionState } from './retention.ts';
import { openTempWarehouse, type TempWarehouse } from './testing.ts';
import { toChTime } from './values.ts';

/** What users read: the serving tables the materialized views filled. */
const SERVING: Record<string, string> = {
  channel_daily: 'SELECT * FROM channel_daily FINAL ORDER BY channel_id, window_start',
  channel_hourly: 'SELECT * FROM channel_hourly FINAL ORDER BY channel_id, window_start',
  post_summary: `SELECT channel_id, post_id, max(date) AS date, argMaxMerge(views) AS views,
                        argMaxMerge(reactions_total) AS reactions_total, max(as_of) AS as_of, max(deleted_at) AS deleted_at
                 FROM post_summary GROUP BY channel_id, post_id ORDER BY channel_id, post_id`,
  post_meta: 'SELECT * FROM post_meta FINAL ORDER BY channel_id, post_id',
  channel_members_latest: `SELECT channel_id, argMaxMerge(members) AS members, max(as_of) AS as_of
                           FROM channel_members_latest GROUP BY channel_id`,
  anomalies: 'SELECT * FROM anomalies FINAL ORDER BY anomaly_id',
};

const everyDays = (days: number): RetentionConfig => ({
  rawSnapshotsDays: days,
  rawPostsDays: days,
  botEventsDays: days,
  derivedDays: days,
  deadLettersDays: days,
});

describe('retention on the real warehouse', () => {
  let t: TempWarehouse;
  const now = Date.now();
  /** Rows written long ago carry old event times too, as a live run writes them. */
  const writtenLongAgo = toChTime(T0 + DAY_MS);

  async function store(events: readonly TgEvent[], ingestedAt?: string): Promise<void> {
    const at = ingestedAt === undefined ? {} : { ingested_at: ingestedAt };
    for (const [table, rows] of encodeBatch(events).rows)
      await t.wh.insertRows(
        table,
        rows.map((r) => ({ ...r, ...at })),
      );
  }

  async function snapshot(): Promise<Record<string, unknown[]>> {
    const out: Record<string, unknown[]> = {};
    for (const [name, sql] of Object.entries(SERVING)) out[name] = await t.wh.query(sql);
    return out;
  }

  /** Rows of a table written before or since `cutoff`. */
  async function rowsBy(table: string, cutoff: string): Promise<{ old: number; recent: number }> {
    const [r] = await t.wh.query<{ old: string; recent: string }>(
      `SELECT countIf(ingested_at < {cutoff:DateTime64(3)}) AS old, countIf(ingested_at >= {cutoff:DateTime64(3)}) AS recent FROM ${table}`,
      { cutoff },
    );
    return { old: Number(r.old), recent: Number(r.recent) };
  }

  async function ttlOf(table: string): Promise<string | null> {
    const [r] = await t.wh.query<{ engine_full: string }>(
      'SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = {table:String}',
      { table },
    );
    return tableRetentionState(r.engine_full).ttl;
  }

  beforeAll(async () => {
    t = await openTempWarehouse();
    // Two years ago: one event of every kind, a day's window and a dead letter, written then.
    await store([...oneOfEachKind(), windowAggEvent('1d', T0 - DAY_MS, 2, 5000)], writtenLongAgo);
    await t.wh.insertRows('dead_letters', [{ ...deadLetterRow(deadLetter()), ingested_at: writtenLongAgo }]);
    // Today: more of the same channel written now, and a replay of an old snapshot (old event
    // time, written now), which a TTL on event time would drop at once.
    const hour = Math.floor(now / HOUR_MS) * HOUR_MS;
    const day = Math.floor(now / DAY_MS) * DAY_MS;
    await store([
      { ...postEvent({ post_id: 77, date: now }, 'p_recent'), event_time: now, observed_at: now },
      postCountersEvent(900, now, 'pc_recent'),
      postCountersEvent(450, T0 + 30_000, 'pc_replayed'),
      membersEvent(1600, now, 'cm_recent'),
      windowAggEvent('1h', hour, 1, 70),
      windowAggEvent('1d', day, 1, 7000),
      trendEvent(hour, 5),
    ]);
    await t.wh.insertRows('dead_letters', [deadLetterRow(deadLetter({ id: 'dl_recent', received_at: now }))]);
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it('gives every retained table the ingested_at the TTL counts from', async () => {
    const rows = await t.wh.query<{ table: string }>(
      "SELECT table FROM system.columns WHERE database = currentDatabase() AND name = 'ingested_at' AND type = 'DateTime64(3, \\'UTC\\')'",
    );
    expect(rows.map((r) => r.table)).toEqual(expect.arrayContaining(RETAINED_TABLES.map((r) => r.table)));
  });

  it('drops the old raw and derived rows, keeps the recent ones and every serving figure', async () => {
    const cutoff = toChTime(now - DAY_MS);
    const before = new Map<string, { old: number; recent: number }>();
    for (const { table } of RETAINED_TABLES) before.set(table, await rowsBy(table, cutoff));
    for (const [table, n] of before) expect(n.old, table).toBeGreaterThan(0);
    expect(before.get('raw_post_counters')?.recent).toBe(2);
    expect(before.get('window_aggs')?.recent).toBe(2);
    expect(before.get('dead_letters')?.recent).toBe(1);
    const serving = await snapshot();
    expect(serving.channel_daily).toHaveLength(2);
    expect(serving.post_summary.length).toBeGreaterThanOrEqual(3);

    const changes = await applyRetention(t.wh, everyDays(1));
    expect(changes.filter((c) => c.kind === 'ttl')).toHaveLength(RETAINED_TABLES.length);
    // TTL merges come when ClickHouse gets to them (merge_with_ttl_timeout); force them here. A
    // part that merged with the replayed row before is kept whole by ttl_only_drop_parts until
    // that row expires, so a final merge also removes the rows of mixed parts one by one.
    for (const { table } of RETAINED_TABLES) {
      await t.wh.exec(`ALTER TABLE ${table} MATERIALIZE TTL SETTINGS mutations_sync = 2`);
      await t.wh.exec(`OPTIMIZE TABLE ${table} FINAL`);
    }

    for (const { table } of RETAINED_TABLES)
      expect(await rowsBy(table, cutoff), table).toEqual({ old: 0, recent: before.get(table)?.recent });
    expect(await snapshot()).toEqual(serving);
  });

  it('alters nothing when started again with the same configuration; 0 removes the TTL', async () => {
    const days = { ...everyDays(1), rawPostsDays: 400 };
    await applyRetention(t.wh, days);
    expect(await ttlOf('raw_posts')).toBe('ingested_at + toIntervalDay(400)');
    expect(await applyRetention(t.wh, days)).toEqual([]);

    const forever = await applyRetention(t.wh, everyDays(0));
    expect(forever.map((c) => c.kind)).toEqual(RETAINED_TABLES.map(() => 'remove_ttl'));
    for (const { table } of RETAINED_TABLES) expect(await ttlOf(table), table).toBe(null);
    expect(await applyRetention(t.wh, everyDays(0))).toEqual([]);
    // Serving tables never get one.
    expect(await ttlOf('channel_daily')).toBe(null);
  });
});
