import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ByteWriter, RowEncodeError, rowBinaryTable, type ColumnSpec } from './rowbinary.ts';
import { openTempWarehouse, type TempWarehouse } from './testing.ts';

const col = (name: string, type: string, defaultKind = ''): ColumnSpec => ({ name, type, defaultKind });

function encode(columns: ColumnSpec[], row: Record<string, unknown>): string {
  const w = new ByteWriter(8);
  rowBinaryTable('t', columns).write(w, row);
  return w.bytes().toString('hex');
}

describe('RowBinaryWithDefaults encoding', () => {
  it('prefixes a string with its UTF-8 length as LEB128, across the one-byte boundary', () => {
    const w = new ByteWriter(4);
    w.string('a'.repeat(127));
    w.string('é'.repeat(64)); // 128 bytes: a two-byte length
    w.string('x'.repeat(20_000));
    const b = w.bytes();
    expect(b[0]).toBe(127);
    expect(b.subarray(128, 130).toString('hex')).toBe('8001');
    expect(b.subarray(130, 258).toString('utf8')).toBe('é'.repeat(64));
    expect(b.subarray(258, 261).toString('hex')).toBe('a09c01'); // 20000 = 0x4e20
    expect(b.length).toBe(261 + 20_000);
  });

  it('writes a lone surrogate as U+FFFD and keeps NUL, quotes and emoji', () => {
    expect(encode([col('s', 'String')], { s: 'a\ud83d' })).toBe(`00${'04'}61efbfbd`);
    expect(encode([col('s', 'String')], { s: '\u0000"\\😀' })).toBe(
      `0007${Buffer.from('\u0000"\\😀').toString('hex')}`,
    );
  });

  it('takes the column default for a missing key or a null in a non-Nullable column, and writes NULL in a Nullable one', () => {
    const columns = [col('n', 'UInt32'), col('ns', 'Nullable(String)'), col('at', "DateTime64(3, 'UTC')", 'DEFAULT')];
    expect(encode(columns, { n: null, ns: null })).toBe('01' + '0001' + '01');
    expect(encode(columns, { n: 1, ns: 'x', at: 0 })).toBe('0001000000' + '00000178' + '000000000000000000');
  });

  it('writes 64-bit integers exactly from numbers, bigints and decimal strings', () => {
    const columns = [col('u', 'UInt64'), col('i', 'Int64')];
    expect(encode(columns, { u: 2 ** 53 - 1, i: -1 })).toBe('00ffffffffffff1f00' + '00ffffffffffffffff');
    expect(encode(columns, { u: '18446744073709551615', i: -(2n ** 63n) })).toBe(
      '00ffffffffffffffff' + '000000000000000080',
    );
  });

  it('refuses values that do not fit, naming the column', () => {
    const fails = (type: string, v: unknown) => () => encode([col('c', type)], { c: v });
    expect(fails('UInt8', 256)).toThrow(new RowEncodeError('column c (UInt8): 256 is not a UInt8'));
    expect(fails('UInt32', 1.5)).toThrow(/column c \(UInt32\): 1.5 is not a UInt32/);
    expect(fails('UInt64', -1)).toThrow(/column c \(UInt64\): -1 is not an exact UInt64/);
    expect(fails('UInt64', 2 ** 60)).toThrow(/is not an exact UInt64/);
    expect(fails('UInt64', '18446744073709551616')).toThrow(/out of range of UInt64/);
    expect(fails('String', 5)).toThrow(/column c \(String\): expected a string, got 5/);
    expect(fails("DateTime64(3, 'UTC')", 'yesterday')).toThrow(/column c/);
    expect(fails('Array(String)', 'x')).toThrow(/expected an array/);
    expect(fails('AggregateFunction(argMax, UInt64, UInt64)', 1)).toThrow(
      /type AggregateFunction\(argMax, UInt64, UInt64\) cannot be written by tgpulse/,
    );
  });

  it('refuses a key that is not a writable column instead of dropping it', () => {
    const columns = [col('a', 'UInt8'), col('m', 'UInt8', 'MATERIALIZED')];
    const table = rowBinaryTable('notes', columns);
    expect(table.columns).toEqual(['a']);
    expect(() => table.write(new ByteWriter(), { a: 1, m: 2, bogus: 3 })).toThrow(
      new RowEncodeError('"m", "bogus" are not columns of notes'),
    );
    expect(() => table.write(new ByteWriter(), { a: 1, b: undefined })).not.toThrow();
  });
});

describe('RowBinaryWithDefaults into the warehouse', () => {
  let t: TempWarehouse;
  beforeAll(async () => {
    t = await openTempWarehouse({ migrated: false });
    await t.wh.exec(`CREATE TABLE all_types (
      k UInt32, s String, lc LowCardinality(String), u8 UInt8, u16 UInt16, u32 UInt32, u64 UInt64,
      i8 Int8, i16 Int16, i32 Int32, i64 Int64, f32 Float32, f64 Float64, b Bool,
      t DateTime64(3, 'UTC'), t6 DateTime64(6, 'UTC'), dt DateTime('UTC'), d Date,
      ns Nullable(String), nt Nullable(DateTime64(3, 'UTC')), arr Array(String), arru Array(UInt32),
      m Map(String, UInt64), mi Map(String, Int64), def UInt32 DEFAULT 42, mat UInt32 MATERIALIZED u32 + 1
    ) ENGINE = MergeTree ORDER BY k`);
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it('stores every supported type exactly as the engine reads it back', async () => {
    const long = `${'😀'.repeat(5000)}\n"'\\\u0000`;
    const at = Date.UTC(2299, 11, 31, 23, 59, 59, 999);
    await t.wh.insertRows('all_types', [
      {
        k: 1,
        s: long,
        lc: 'simulator',
        u8: 255,
        u16: 65535,
        u32: 4294967295,
        u64: '18446744073709551615',
        i8: -128,
        i16: -32768,
        i32: -2147483648,
        i64: -9007199254740993n,
        f32: 0.5,
        f64: 0.1 + 0.2,
        b: true,
        t: at,
        t6: '2024-02-29 12:00:00.123',
        dt: Date.UTC(2024, 1, 29, 12),
        d: Date.UTC(2024, 1, 29),
        ns: 'x',
        nt: Date.UTC(1900, 0, 1),
        arr: ['a', '', 'c\ud800'],
        arru: [0, 4294967295],
        m: JSON.parse('{"__proto__": 1, "👍": 9007199254740991}'),
        mi: new Map([['x', -5]]),
      },
      {
        k: 2,
        s: '',
        lc: '',
        u8: 0,
        u16: 0,
        u32: 0,
        u64: 0,
        i8: 0,
        i16: 0,
        i32: 0,
        i64: 0,
        f32: 0,
        f64: -0,
        b: false,
        t: 0,
        t6: 0,
        dt: 0,
        d: 0,
        ns: null,
        arr: [],
        arru: [],
        m: {},
        mi: {},
      },
    ]);
    const rows = await t.wh.query('SELECT *, mat FROM all_types ORDER BY k');
    expect(rows).toEqual([
      {
        k: 1,
        s: long,
        lc: 'simulator',
        u8: 255,
        u16: 65535,
        u32: 4294967295,
        u64: '18446744073709551615',
        i8: -128,
        i16: -32768,
        i32: -2147483648,
        i64: '-9007199254740993',
        f32: 0.5,
        f64: 0.30000000000000004,
        b: true,
        t: '2299-12-31 23:59:59.999',
        t6: '2024-02-29 12:00:00.123000',
        dt: '2024-02-29 12:00:00',
        d: '2024-02-29',
        ns: 'x',
        nt: '1900-01-01 00:00:00.000',
        arr: ['a', '', 'c\ufffd'],
        arru: [0, 4294967295],
        m: JSON.parse('{"__proto__": "1", "👍": "9007199254740991"}'),
        mi: { x: '-5' },
        def: 42,
        mat: 0,
      },
      {
        k: 2,
        s: '',
        lc: '',
        u8: 0,
        u16: 0,
        u32: 0,
        u64: '0',
        i8: 0,
        i16: 0,
        i32: 0,
        i64: '0',
        f32: 0,
        f64: -0,
        b: false,
        t: '1970-01-01 00:00:00.000',
        t6: '1970-01-01 00:00:00.000000',
        dt: '1970-01-01 00:00:00',
        d: '1970-01-01',
        ns: null,
        nt: null,
        arr: [],
        arru: [],
        m: {},
        mi: {},
        def: 42,
        mat: 1,
      },
    ]);
  });

  it('refuses a row that does not fit without writing any row of the insert', async () => {
    await expect(t.wh.insertRows('all_types', [{ k: 3 }, { k: 4, u8: 300 }])).rejects.toThrow(
      /into all_types: column u8 \(UInt8\): 300 is not a UInt8/,
    );
    expect(await t.wh.query('SELECT count() AS n FROM all_types WHERE k IN (3, 4)')).toEqual([{ n: '0' }]);
  });
});
