import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TgEvent } from '../../streams/contract/events.ts';
import { openTempWarehouse, type TempWarehouse } from '../../clickhouse/testing.ts';
import {
  DEAD_LETTERS_TABLE,
  deadLetterFromRow,
  deadLetterRow,
  encodeBatch,
  eventFromRow,
  tableFor,
} from './encoder.ts';
import { HOSTILE_STRINGS, deadLetter, hostileEvents, oneOfEachKind } from './encoder.fixtures.ts';

/** Insert events the way the sink does: grouped by table, one insert per table. */
async function store(t: TempWarehouse, events: readonly TgEvent[]): Promise<void> {
  const { rows, failures } = encodeBatch(events);
  expect(failures).toEqual([]);
  for (const [table, tableRows] of rows) await t.wh.insertRows(table, tableRows);
}

async function readBack(t: TempWarehouse, e: TgEvent): Promise<TgEvent[]> {
  const rows = await t.wh.query(`SELECT * FROM ${tableFor(e.kind)} FINAL WHERE id = {id:String}`, { id: e.id });
  return rows.map((row) => eventFromRow(e.kind, row));
}

describe('encoder ⇄ ClickHouse round trip (chDB)', () => {
  let t: TempWarehouse;
  beforeAll(async () => {
    t = await openTempWarehouse();
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it('stores every kind and reads back exactly the same event', async () => {
    const events = oneOfEachKind();
    await store(t, events);
    for (const e of events) expect(await readBack(t, e), `${e.kind} ${e.id}`).toEqual([e]);
  });

  it('round-trips hostile strings exactly (quotes, backslashes, newlines, NUL, emoji, long)', async () => {
    const events = hostileEvents();
    await store(t, events);
    for (const e of events) expect(await readBack(t, e), e.id).toEqual([e]);
  });

  it('round-trips a dead letter, including a very long hostile detail', async () => {
    const long = HOSTILE_STRINGS.join('|');
    const records = [
      deadLetter(),
      deadLetter({ id: 'dl_long', detail: long, payload: HOSTILE_STRINGS[2], event_id: 'p_1\n"x"', payload_bytes: 3 }),
    ];
    await t.wh.insertRows(DEAD_LETTERS_TABLE, records.map(deadLetterRow));
    const rows = await t.wh.query(`SELECT * FROM ${DEAD_LETTERS_TABLE} FINAL ORDER BY id`);
    expect(rows.map(deadLetterFromRow)).toEqual(records);
  });

  it('binds a query parameter that looks like an injection as plain data', async () => {
    const sneaky = "p_1' OR '1'='1";
    expect(await t.wh.query('SELECT id FROM raw_posts WHERE id = {id:String}', { id: sneaky })).toEqual([]);
    await store(t, [{ ...oneOfEachKind()[0], id: sneaky } as TgEvent]);
    expect(await t.wh.query('SELECT id FROM raw_posts WHERE id = {id:String}', { id: sneaky })).toEqual([
      { id: sneaky },
    ]);
  });
});
