/**
 * Typed access to one JSONEachRow result row. Read models and the event
 * decoder use it so that a column with an unexpected type fails loudly, naming
 * the table and column, instead of leaking a string where a number was promised.
 */
import { fromChTime, toBool, toFloat, toSafeInt, toSafeIntOrNull, toStr, toStrOrNull } from './values.ts';
import type { Static, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import {
  AnomalyDirection,
  AnomalyReason,
  AnomalyState,
  Severity,
  type Anomaly,
  type WindowAgg,
} from '../streams/contract/index.ts';

/** A column value did not have the type the reader expected. */
export class RowShapeError extends Error {
  override readonly name = 'RowShapeError';
}

/**
 * Read columns of a row returned by {@link Warehouse.query}.
 *
 * ```ts
 * const r = new RowReader(row, 'channel_hourly');
 * const point = { window_start: r.time('window_start'), views: r.int('views') };
 * ```
 */
export class RowReader {
  constructor(
    readonly row: Readonly<Record<string, unknown>>,
    /** Where the row came from, for error messages. */
    readonly source: string,
  ) {}

  str(column: string): string {
    return this.#read(column, toStr);
  }
  strOrNull(column: string): string | null {
    return this.#read(column, toStrOrNull);
  }
  /** Any integer column, 64-bit ones included (quoted strings); must fit a JS number exactly. */
  int(column: string): number {
    return this.#read(column, toSafeInt);
  }
  intOrNull(column: string): number | null {
    return this.#read(column, toSafeIntOrNull);
  }
  float(column: string): number {
    return this.#read(column, toFloat);
  }
  bool(column: string): boolean {
    return this.#read(column, toBool);
  }
  /** A DateTime64 column as epoch milliseconds. */
  time(column: string): number {
    return this.#read(column, fromChTime);
  }
  timeOrNull(column: string): number | null {
    return this.#read(column, (v) => (v === null ? null : fromChTime(v)));
  }
  strArray(column: string): string[] {
    return this.#read(column, (v) => arrayOf(v).map(toStr));
  }
  intArray(column: string): number[] {
    return this.#read(column, (v) => arrayOf(v).map(toSafeInt));
  }
  /** A Map(String, UInt64|Int64) column as a plain object of numbers. */
  intMap(column: string): Record<string, number> {
    return this.#read(column, (v) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new TypeError('expected a map object');
      const out: Record<string, number> = {};
      // defineProperty, not assignment: a key like "__proto__" must stay a plain key.
      for (const [k, n] of Object.entries(v)) {
        Object.defineProperty(out, k, { value: toSafeInt(n), enumerable: true, writable: true, configurable: true });
      }
      return out;
    });
  }

  #read<T>(column: string, parse: (value: unknown) => T): T {
    if (!Object.hasOwn(this.row, column))
      throw new RowShapeError(`${this.source}: column ${column} is missing from the row`);
    try {
      return parse(this.row[column]);
    } catch (err) {
      throw new RowShapeError(`${this.source}.${column}: ${err instanceof Error ? err.message : String(err)}`, {
        cause: err,
      });
    }
  }
}

function arrayOf(value: unknown): unknown[] {
  if (!Array.isArray(value)) throw new TypeError('expected an array');
  return value;
}

/** The WindowAgg figures of a `window_aggs`, `channel_hourly` or `channel_daily` row (one reading for the sink's round trip and the read models). */
export function readWindowAgg(r: RowReader, window?: string): WindowAgg {
  return {
    // Serving tables hold one window each and have no `window` column.
    window: window ?? r.str('window'),
    window_start: r.time('window_start'),
    window_end: r.time('window_end'),
    revision: r.int('revision'),
    final: r.bool('final'),
    views: r.int('views'),
    forwards: r.int('forwards'),
    replies: r.int('replies'),
    reactions: r.int('reactions'),
    views_baseline: r.int('views_baseline'),
    posts: r.int('posts'),
    members_last: r.intOrNull('members_last'),
    members_min: r.intOrNull('members_min'),
    members_max: r.intOrNull('members_max'),
    subscribers_gained: r.int('subscribers_gained'),
    subscribers_lost: r.int('subscribers_lost'),
    events: r.int('events'),
  };
}

/** A string column whose values the contract restricts (state, direction, severity). */
export function literal<S extends TSchema>(schema: S, value: string, column: string): Static<S> {
  if (!Value.Check(schema, value))
    throw new RowShapeError(`${column}: ${JSON.stringify(value)} is not a value the contract allows`);
  return value;
}

/** The Anomaly figures of an `anomaly_events` or `anomalies` row. */
export function readAnomaly(r: RowReader, table: string): Anomaly {
  return {
    anomaly_id: r.str('anomaly_id'),
    state: literal(AnomalyState, r.str('state'), `${table}.state`),
    revision: r.int('revision'),
    metric: r.str('metric'),
    window: r.str('window'),
    window_start: r.time('window_start'),
    post_id: r.intOrNull('post_id'),
    direction: literal(AnomalyDirection, r.str('direction'), `${table}.direction`),
    severity: literal(Severity, r.str('severity'), `${table}.severity`),
    // '' on rows written before the column (the reader's caller falls back with anomalyReasonOf).
    reason: r.str('reason') === '' ? undefined : literal(AnomalyReason, r.str('reason'), `${table}.reason`),
    value: r.float('value'),
    expected: r.float('expected'),
    band_low: r.float('band_low'),
    band_high: r.float('band_high'),
    z: r.float('z'),
    opened_at: r.time('opened_at'),
  };
}
