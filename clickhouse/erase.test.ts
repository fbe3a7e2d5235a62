/**
 * Erasing a channel from the warehouse: after it, no column of any table
 * holds the id, while the other channels keep their rows (a post forwarded
 * from the forgotten channel loses only the mention); a write that lands
 * during the grace is erased in a second round; running it again finds
 * nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TgEvent } from '../streams/contract/index.ts';
import { deadLetter, oneOfEachKind } from '../sinks/clickhouse/encoder.fixtures.ts';
import { deadLetterRow, tableFor, toRow } from '../sinks/clickhouse/encoder.ts';
import { warehouseMentions } from '../test/support/scan.ts';
import { eraseChannelFromWarehouse } from './erase.ts';
import { namesChannel, planErasure, type WarehouseColumn } from './erase-plan.ts';
import { SINGLE_NODE } from './template.ts';
import { openTempWarehouse, type TempWarehouse } from './testing.ts';
import type { Warehouse } from './warehouse.ts';

const X = '1001234567';
const Y = '1007654321';

/** The fixture events of every kind as events of `channel`. */
function eventsOf(channel: string): TgEvent[] {
  return oneOfEachKind().map((e) => ({ ...e, id: `${e.id}_${channel}`, channel_id: channel }) as TgEvent);
}

async function insert(wh: Warehouse, events: readonly TgEvent[]): Promise<void> {
  const byTable = new Map<string, Record<string, unknown>[]>();
  for (const e of events) byTable.set(tableFor(e.kind), [...(byTable.get(tableFor(e.kind)) ?? []), toRow(e)]);
  for (const [table, rows] of byTable) await wh.insertRows(table, rows);
}

/** Rows of `channel` per table holding channel rows. */
async function rowsOf(wh: Warehouse, channel: string): Promise<Record<string, number>> {
  const tables = await wh.query<{ table: string }>(
    `SELECT DISTINCT c.table AS table FROM system.columns AS c INNER JOIN system.tables AS t
       ON t.database = c.database AND t.name = c.table
     WHERE c.database = currentDatabase() AND c.name = 'channel_id' AND t.engine LIKE '%MergeTree' ORDER BY table`,
  );
  const out: Record<string, number> = {};
  for (const { table } of tables) {
    const [row] = await wh.query<{ n: string }>(`SELECT count() AS n FROM ${table} WHERE channel_id = {c:String}`, {
      c: channel,
    });
    if (Number(row.n)) out[table] = Number(row.n);
  }
  return out;
}

describe('erasing a channel from the warehouse', () => {
  let temp: TempWarehouse;
  let wh: Warehouse;
  let before: Record<string, number>;

  beforeAll(async () => {
    temp = await openTempWarehouse();
    wh = temp.wh;
    const forwarded = eventsOf(Y).map((e) =>
      e.kind === 'post'
        ? {
            ...e,
            data: {
              ...e.data,
              forward_from: { channel_id: X, post_id: 5 },
              mentions: ['@alice', `https://t.me/c/${X}`],
              links: [`https://t.me/c/${X}/5`, 'https://t.me/c/10012345678/1', 'https://example.org/'],
            },
          }
        : e,
    ) as TgEvent[];
    await insert(wh, [...eventsOf(X), ...forwarded]);
    await wh.insertRows('dead_letters', [
      deadLetterRow(deadLetter({ id: 'dl_x', channel_id: X, subject: `tg.raw.p03.post.${X}` })),
      // A batch that failed whole names its channels only in its payload.
      deadLetterRow(deadLetter({ id: 'dl_batch', channel_id: null, payload: `[{"channel_id":"${X}","kind":"post"` })),
      deadLetterRow(deadLetter({ id: 'dl_y', channel_id: Y, subject: `tg.raw.p03.post.${Y}`, payload: '10012345670' })),
    ]);
    before = await rowsOf(wh, Y);
  });
  afterAll(async () => {
    await temp?.dispose();
  });

  it('finds the id in raw, derived and serving tables before', async () => {
    const tables = new Set((await warehouseMentions(wh, X)).map((m) => m.table));
    for (const t of ['raw_posts', 'post_deltas', 'window_aggs', 'channel_hourly', 'post_summary', 'post_meta'])
      expect(tables).toContain(t);
  });

  it('leaves no trace of it in any column of any table, and keeps the other channel', async () => {
    const result = await eraseChannelFromWarehouse(wh, X, { graceMs: 0 });
    expect(result.rounds).toBe(1);
    expect(result.remaining).toEqual([]);
    expect(await warehouseMentions(wh, X)).toEqual([]);
    const byTable = Object.fromEntries(result.tables.map((t) => [t.table, t]));
    expect(byTable.raw_posts).toEqual({ table: 'raw_posts', deleted: 1, edited: 1 });
    expect(byTable.post_meta).toEqual({ table: 'post_meta', deleted: 1, edited: 1 });
    expect(byTable.dead_letters).toEqual({ table: 'dead_letters', deleted: 2, edited: 0 });
    expect(byTable.channel_hourly.deleted).toBeGreaterThan(0);
    expect(byTable.post_summary.deleted).toBeGreaterThan(0);

    expect(await rowsOf(wh, Y)).toEqual(before);
    const [post] = await wh.query<Record<string, unknown>>(
      'SELECT forward_from_channel_id, forward_from_post_id, mentions, links FROM raw_posts WHERE channel_id = {c:String}',
      { c: Y },
    );
    expect(post).toEqual({
      forward_from_channel_id: null,
      forward_from_post_id: 5,
      mentions: ['@alice'],
      links: ['https://t.me/c/10012345678/1', 'https://example.org/'],
    });
    const letters = await wh.query<{ id: string }>('SELECT id FROM dead_letters ORDER BY id');
    expect(letters.map((l) => l.id)).toEqual(['dl_y']);
  });

  it('finds nothing the second time', async () => {
    expect(await eraseChannelFromWarehouse(wh, X, { graceMs: 0 })).toEqual({ tables: [], rounds: 1, remaining: [] });
  });

  it('erases again what a sink wrote during the grace, and says what it could not', async () => {
    let writes = 0;
    const lateWrite = async () => {
      if (writes++ === 0)
        await insert(
          wh,
          eventsOf(X).filter((e) => e.kind === 'channel_members'),
        );
    };
    const result = await eraseChannelFromWarehouse(wh, X, { graceMs: 0, wait: lateWrite });
    expect(result.rounds).toBe(2);
    const members = ['channel_members_latest', 'channel_sources', 'raw_channel_members'];
    expect(result.tables.map((t) => t.table)).toEqual(members);
    expect(result.remaining).toEqual([]);
    expect(await warehouseMentions(wh, X)).toEqual([]);

    const always = () =>
      insert(
        wh,
        eventsOf(X).filter((e) => e.kind === 'channel_members'),
      );
    const stubborn = await eraseChannelFromWarehouse(wh, X, { graceMs: 0, maxRounds: 2, wait: always });
    expect(stubborn.rounds).toBe(2);
    expect(stubborn.remaining.map((t) => t.table)).toEqual(members);
    await eraseChannelFromWarehouse(wh, X, { graceMs: 0 });
  });
});

describe('the erasure plan', () => {
  const col = (table: string, name: string, type: string, engine = 'ReplacingMergeTree'): WarehouseColumn => ({
    table,
    name,
    type,
    engine,
  });
  const columns = [
    col('raw_posts_local', 'channel_id', 'String', 'ReplicatedReplacingMergeTree'),
    col('raw_posts_local', 'forward_from_channel_id', 'Nullable(String)', 'ReplicatedReplacingMergeTree'),
    col('raw_posts', 'channel_id', 'String', 'Distributed'),
    col('post_meta_mv', 'channel_id', 'String', 'MaterializedView'),
    col('schema_migrations', 'name', 'String'),
  ];

  it('addresses the local tables of a cluster, ON CLUSTER, and skips views, Distributed and channel-free tables', () => {
    const plans = planErasure(columns, X, { kind: 'cluster', cluster: 'tg', database: 'tgpulse' });
    expect(plans.map((p) => p.table)).toEqual(['raw_posts_local']);
    expect(plans[0].delete).toMatch(/^ALTER TABLE raw_posts_local ON CLUSTER 'tg' DELETE WHERE /);
    expect(plans[0].update).toContain('forward_from_channel_id = if(');
    expect(plans[0].count).toContain("FROM cluster('tg', 'tgpulse', 'raw_posts_local')");
  });

  it('refuses anything but a bare decimal id, which it writes as a literal', () => {
    for (const bad of ["1' OR 1=1 --", '-1001234567', '01', '', '1.5'])
      expect(() => planErasure(columns, bad, SINGLE_NODE)).toThrow(/bare decimal channel id/);
  });

  it('matches the id as a number of its own, also in its Bot API form', () => {
    const re = new RegExp(namesChannel(X));
    for (const text of [X, `t.me/c/${X}/5`, `"channel_id":"${X}"`, `-100${X}`]) expect(re.test(text)).toBe(true);
    for (const text of [`${X}0`, `9${X}`, `-1001${X}`]) expect(re.test(text)).toBe(false);
  });
});
