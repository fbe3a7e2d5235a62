import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TgEvent } from '../streams/contract/events.ts';
import { TABLE_BY_KIND, encodeBatch, tableFor } from '../sinks/clickhouse/encoder.ts';
import {
  CHANNEL,
  T0,
  anomalyEvent,
  membersEvent,
  oneOfEachKind,
  postCountersEvent,
  postEvent,
  trendEvent,
  windowAggEvent,
} from '../sinks/clickhouse/encoder.fixtures.ts';
import { latestTrends } from './serving.ts';
import { HOUR_MS } from '../common/index.ts';
import { openTempWarehouse, type TempWarehouse } from './testing.ts';

describe('serving tables (chDB)', () => {
  let t: TempWarehouse;

  /** Insert like the sink: one insert per table per batch, each batch with its own (or no) token. */
  async function store(events: readonly TgEvent[], dedupToken?: string): Promise<void> {
    const { rows } = encodeBatch(events);
    for (const [table, tableRows] of rows)
      await t.wh.insertRows(table, tableRows, dedupToken ? { dedupToken: `${dedupToken}:${table}` } : undefined);
  }
  async function count(sql: string): Promise<number> {
    const [row] = await t.wh.query<{ n: string }>(sql);
    return Number(row.n);
  }

  beforeAll(async () => {
    t = await openTempWarehouse();
    // The story of one channel, every batch delivered twice (at-least-once, no token),
    // some of them out of order.
    const batches: TgEvent[][] = [
      [postEvent(), postCountersEvent(500, T0 + 60_000), membersEvent(1490, T0 + 1_000)],
      [postCountersEvent(700, T0 + 120_000), membersEvent(1500, T0 + 5_000)],
      [postCountersEvent(600, T0 + 90_000)], // late snapshot: must not win
      [
        { ...postEvent({ post_id: 43 }, 'p_43') },
        {
          ...postCountersEvent(9_999, T0 + 130_000, 'pc_43'),
          data: { ...postCountersEvent(9_999, T0 + 130_000).data, post_id: 43 },
        },
      ],
      [
        {
          kind: 'post_deleted',
          v: 1,
          id: 'pd_43',
          channel_id: CHANNEL,
          event_time: T0 + 140_000,
          observed_at: T0 + 140_000,
          source: 'simulator',
          data: { post_ids: [43] },
        },
      ],
      [
        windowAggEvent('1h', T0, 1, 800),
        windowAggEvent('1h', T0 + HOUR_MS, 1, 50),
        windowAggEvent('1d', T0 - 22 * HOUR_MS, 1, 5000),
      ],
      [windowAggEvent('1h', T0, 2, 900)], // late update of the same window
      [anomalyEvent('updated', 2, T0 + 2 * HOUR_MS), anomalyEvent('opened', 1, T0 + HOUR_MS)],
      [anomalyEvent('resolved', 3, T0 + 3 * HOUR_MS)],
      [trendEvent(T0 + HOUR_MS, 50), trendEvent(T0, 812.75), trendEvent(T0, 3.5, 42)],
    ];
    for (const batch of batches) {
      await store(batch);
      await store(batch);
    }
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it('stores every event exactly once under FINAL, although each was delivered twice', async () => {
    // Another channel, so that the story above does not overlap (window_aggs keep one row per window).
    const events = oneOfEachKind().map((e) => ({ ...e, channel_id: '555' }) as TgEvent);
    await store(events);
    await store(events);
    for (const table of new Set(Object.values(TABLE_BY_KIND))) {
      const ids = [...new Set(events.filter((e) => tableFor(e.kind) === table).map((e) => e.id))];
      const [row] = await t.wh.query<{ total: string; distinct_ids: string }>(
        `SELECT count() AS total, uniqExact(id) AS distinct_ids FROM ${table} FINAL WHERE channel_id = '555' AND has({ids:Array(String)}, id)`,
        { ids },
      );
      expect(row, table).toEqual({ total: String(ids.length), distinct_ids: String(ids.length) });
    }
  });

  // The serving tables as a SQL client or a Grafana panel reads them: FINAL or -Merge, nothing else.
  it('hourly and daily series: one point per window, highest revision, figures not doubled', async () => {
    const series = (table: string, channel: string) =>
      t.wh.query<{ ws: number; revision: number; views: number; final: number; members: number }>(
        `SELECT toFloat64(toUnixTimestamp64Milli(window_start)) AS ws, toUInt32(revision) AS revision,
                toFloat64(views) AS views, toUInt8(final) AS final, toFloat64(members_last) AS members
         FROM ${table} FINAL WHERE channel_id = {channel:String} ORDER BY window_start`,
        { channel },
      );
    const hourly = await series('channel_hourly', CHANNEL);
    expect(hourly.map((p) => [p.ws, p.revision, p.views])).toEqual([
      [T0, 2, 900],
      [T0 + HOUR_MS, 1, 50],
    ]);
    expect(hourly[0]).toMatchObject({ final: 1, members: 1500 });
    const daily = await series('channel_daily', CHANNEL);
    expect(daily.map((p) => [p.ws, p.views])).toEqual([[T0 - 22 * HOUR_MS, 5000]]);
    expect(await series('channel_hourly', `${CHANNEL}' OR '1'='1`)).toEqual([]);
  });

  it('latest post counters: newest snapshot wins, duplicates and late snapshots change nothing', async () => {
    const posts = await t.wh.query(
      `SELECT post_id, toFloat64(argMaxMerge(views)) AS views, toFloat64(argMaxMerge(forwards)) AS forwards,
              toFloat64(toUnixTimestamp64Milli(max(as_of))) AS as_of, max(deleted_at) IS NOT NULL AS deleted,
              argMaxMerge(media_type) AS media_type
       FROM post_summary WHERE channel_id = {channel:String}
       GROUP BY post_id ORDER BY post_id`,
      { channel: CHANNEL },
    );
    expect(posts).toEqual([
      { post_id: 42, views: 700, forwards: 4, as_of: T0 + 120_000, deleted: 0, media_type: 'photo' },
      { post_id: 43, views: 9_999, forwards: 4, as_of: T0 + 130_000, deleted: 1, media_type: 'photo' },
    ]);
    const [raw] = await t.wh.query<{ n: string }>('SELECT count() AS n FROM post_summary');
    expect(Number(raw.n)).toBeGreaterThan(2); // duplicates are there, unmerged — and still not counted twice
  });

  it('latest members per channel', async () => {
    expect(
      await t.wh.query(
        `SELECT channel_id, toFloat64(argMaxMerge(members)) AS members,
                toFloat64(toUnixTimestamp64Milli(max(as_of))) AS as_of
         FROM channel_members_latest WHERE channel_id IN ({channels:Array(String)}) GROUP BY channel_id`,
        { channels: [CHANNEL, '777'] },
      ),
    ).toEqual([{ channel_id: CHANNEL, members: 1500, as_of: T0 + 5_000 }]);
  });

  it('anomalies: the latest state of each, out-of-order and duplicate events notwithstanding', async () => {
    const anomalies = (where: string) =>
      t.wh.query(
        `SELECT anomaly_id, state, toUInt32(revision) AS revision, severity,
                toFloat64(toUnixTimestamp64Milli(resolved_at)) AS resolved_at,
                toFloat64(toUnixTimestamp64Milli(updated_at)) AS updated_at
         FROM anomalies FINAL WHERE channel_id = {channel:String} AND ${where}`,
        { channel: CHANNEL },
      );
    expect(await anomalies('1')).toEqual([
      {
        anomaly_id: 'anom_views_1',
        state: 'resolved',
        revision: 3,
        severity: 'critical',
        resolved_at: T0 + 3 * HOUR_MS,
        updated_at: T0 + 3 * HOUR_MS,
      },
    ]);
    expect(await anomalies("state != 'resolved'")).toEqual([]);
  });

  it('latest trend point per series', async () => {
    const trends = await latestTrends(t.wh, { channel_id: CHANNEL });
    expect(trends.map((x) => [x.metric, x.window, x.post_id, x.window_start, x.value, x.score])).toEqual([
      ['views', '1h', null, T0 + HOUR_MS, 50, 0.015625],
      ['views', '1h', 42, T0, 3.5, 0.015625],
    ]);
  });

  it('a retried batch with the same dedup token adds no row anywhere, not even to the views it feeds', async () => {
    const batch = [windowAggEvent('1h', T0 + 5 * HOUR_MS, 1, 10)];
    const before = await count('SELECT count() AS n FROM channel_hourly');
    await store(batch, 'TG_DERIVED:500-510');
    await store(batch, 'TG_DERIVED:500-510');
    expect(await count('SELECT count() AS n FROM channel_hourly')).toBe(before + 1);
    expect(await count(`SELECT count() AS n FROM window_aggs WHERE window_start = '2024-02-01 03:00:00.000'`)).toBe(1);
  });
});
