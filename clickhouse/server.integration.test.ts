/**
 * The server driver against a real ClickHouse server (the suite's local
 * server): parameter binding, 64-bit integers, dedup tokens, errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WarehouseError } from './errors.ts';
import { openTempWarehouse, type TempWarehouse } from './testing.ts';

describe('server warehouse over the ClickHouse HTTP protocol', () => {
  let t: TempWarehouse;
  beforeAll(async () => {
    t = await openTempWarehouse({ migrated: false });
    await t.wh.exec(
      `CREATE TABLE notes (id String, body String, n UInt64, at DateTime64(3, 'UTC'))
       ENGINE = ReplacingMergeTree ORDER BY id SETTINGS non_replicated_deduplication_window = 100`,
    );
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it('binds parameters server-side: an injection-looking value is just data', async () => {
    const sneaky = "x'); DROP TABLE notes; --";
    await t.wh.exec('INSERT INTO notes (id, body, n, at) VALUES ({id:String}, {body:String}, 1, now64(3))', {
      id: 'inj',
      body: sneaky,
    });
    expect(await t.wh.query('SELECT body FROM notes WHERE id = {id:String}', { id: 'inj' })).toEqual([
      { body: sneaky },
    ]);
    expect(await t.wh.query('SELECT count() AS n FROM notes WHERE body = {b:String}', { b: "' OR 1=1 --" })).toEqual([
      { n: '0' },
    ]);
    expect(await t.wh.query("SELECT count() AS n FROM system.tables WHERE name = 'notes'")).toEqual([{ n: '1' }]);
  });

  it('returns 64-bit integers as strings and narrower numbers as numbers', async () => {
    const [row] = await t.wh.query(
      'SELECT toUInt64(18446744073709551615) AS u64, toInt64(-9007199254740993) AS i64, toUInt32(7) AS u32, 0.1 + 0.2 AS f, {big:UInt64} AS p',
      { big: '9007199254740993' },
    );
    expect(row).toEqual({
      u64: '18446744073709551615',
      i64: '-9007199254740993',
      u32: 7,
      f: 0.30000000000000004,
      p: '9007199254740993',
    });
  });

  it('treats a Date parameter as a DateTime64 instant', async () => {
    const [row] = await t.wh.query("SELECT toUnixTimestamp64Milli({at:DateTime64(3, 'UTC')}) AS ms", {
      at: new Date(Date.UTC(2024, 1, 29, 12, 0, 0, 5)),
    });
    expect(row).toEqual({ ms: String(Date.UTC(2024, 1, 29, 12, 0, 0, 5)) });
  });

  it('drops a retried batch carrying the same dedup token, keeps a new token', async () => {
    const rows = [
      { id: 'a', body: 'first', n: 1, at: '2024-01-31 23:59:59.999' },
      { id: 'b', body: 'second', n: 2, at: '2024-02-01 00:00:00.000' },
    ];
    await t.wh.insertRows('notes', rows, { dedupToken: 'TG_RAW:1-2' });
    await t.wh.insertRows('notes', rows, { dedupToken: 'TG_RAW:1-2' });
    expect(await t.wh.query("SELECT count() AS n FROM notes WHERE id IN ('a', 'b')")).toEqual([{ n: '2' }]);

    await t.wh.insertRows('notes', rows, { dedupToken: 'TG_RAW:3-4' });
    expect(await t.wh.query("SELECT count() AS n FROM notes WHERE id IN ('a', 'b')")).toEqual([{ n: '4' }]);
    expect(await t.wh.query("SELECT count() AS n FROM notes FINAL WHERE id IN ('a', 'b')")).toEqual([{ n: '2' }]);
  });

  it('rejects a row key that is not a column instead of dropping it', async () => {
    const err = await t.wh
      .insertRows('notes', [{ id: 'c', body: '', n: 0, at: '2024-01-01 00:00:00.000', bogus: 1 }])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WarehouseError);
    expect((err as WarehouseError).message).toMatch(/insert failed \(server\) into notes: .*bogus/s);
  });

  it('wraps engine errors with the operation, the statement and the ClickHouse code', async () => {
    const syntax = (await t.wh.query('SELEC 1').catch((e: unknown) => e)) as WarehouseError;
    expect(syntax).toBeInstanceOf(WarehouseError);
    expect(syntax).toMatchObject({ driver: 'server', operation: 'query', target: 'SELEC 1', clickhouseCode: 62 });
    expect(syntax.cause).toBeInstanceOf(Error);

    const unknown = (await t.wh.insertRows('no_such_table', [{ x: 1 }]).catch((e: unknown) => e)) as WarehouseError;
    expect(unknown).toMatchObject({ operation: 'insert', target: 'no_such_table', clickhouseCode: 60 });
    expect(unknown.message).toMatch(/^ClickHouse insert failed \(server\) into no_such_table: /);

    await expect(t.wh.insertRows('notes; DROP TABLE notes', [{ id: 'x' }])).rejects.toThrow(
      /table name must be an identifier/,
    );
  });
});
