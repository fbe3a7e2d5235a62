import { DAY_MS } from '../common/index.ts';
/**
 * Value conventions shared by the warehouse driver, the encoder and the read
 * models, so that a value means the same thing on the way in and out.
 *
 * - Times in query parameters and results are `'YYYY-MM-DD HH:MM:SS.mmm'` UTC
 *   strings: the form ClickHouse itself prints for `DateTime64(3, 'UTC')`.
 *   (Bare integers are avoided in text: ClickHouse versions disagree on
 *   whether one is seconds or ticks of the column's scale.) Inserted rows are
 *   binary, where a DateTime64 is exactly its ticks (rowbinary.ts).
 * - 64-bit integers come back from both drivers as decimal strings
 *   (`output_format_json_quote_64bit_integers=1`); {@link toSafeInt} turns
 *   them into numbers where the domain guarantees they fit.
 */

/** Earliest instant a `DateTime64(3)` column stores faithfully (1900-01-01). */
export const MIN_CH_TIME_MS = Date.UTC(1900, 0, 1);
/** Latest instant a `DateTime64(3)` column stores faithfully (2299-12-31 23:59:59.999). */
export const MAX_CH_TIME_MS = Date.UTC(2300, 0, 1) - 1;

const CH_TIME_RE = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/;

/**
 * Format epoch milliseconds for a `DateTime64(3, 'UTC')` column.
 *
 * ```ts
 * toChTime(1700000000123) // '2023-11-14 22:13:20.123'
 * ```
 * @throws RangeError outside [1900, 2299], where ClickHouse would clamp silently.
 */
export function toChTime(ms: number): string {
  if (!Number.isInteger(ms) || ms < MIN_CH_TIME_MS || ms > MAX_CH_TIME_MS) {
    throw new RangeError(`time ${ms} is not an integer epoch-ms within 1900..2299 (DateTime64 range)`);
  }
  // Hot path of every insert: the date part is cached per day, the time of day is arithmetic.
  const day = Math.floor(ms / DAY_MS);
  if (day !== cachedDay) {
    cachedDay = day;
    cachedDate = `${new Date(day * DAY_MS).toISOString().slice(0, 10)} `;
  }
  let rest = ms - day * DAY_MS;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const sec = Math.floor(rest / 1000);
  const milli = rest - sec * 1000;
  return `${cachedDate}${h < 10 ? '0' : ''}${h}:${m < 10 ? '0' : ''}${m}:${sec < 10 ? '0' : ''}${sec}.${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}`;
}

let cachedDay = Number.NaN;
let cachedDate = '';

/**
 * Parse a `DateTime64` value printed by ClickHouse (UTC column) back to epoch ms.
 * Extra sub-millisecond digits are truncated.
 */
export function fromChTime(value: unknown): number {
  if (typeof value !== 'string') throw new TypeError(`expected a DateTime64 string, got ${describe(value)}`);
  const m = CH_TIME_RE.exec(value);
  if (!m) throw new TypeError(`expected 'YYYY-MM-DD HH:MM:SS[.fff]', got ${JSON.stringify(value)}`);
  const frac = (m[7] ?? '').padEnd(3, '0').slice(0, 3);
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], +frac);
}

/**
 * Accept a ClickHouse integer as either a JSON number or a quoted decimal
 * string (64-bit types) and return it as a JS number, refusing values that a
 * number cannot hold exactly rather than rounding them.
 */
export function toSafeInt(value: unknown): number {
  const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) {
    throw new TypeError(`expected a safe integer, got ${describe(value)}`);
  }
  return n;
}

/** Like {@link toSafeInt} but passes `null` through (Nullable columns). */
export function toSafeIntOrNull(value: unknown): number | null {
  return value === null ? null : toSafeInt(value);
}

/** A Float64 column value; ClickHouse prints floats as JSON numbers. */
export function toFloat(value: unknown): number {
  if (typeof value !== 'number') throw new TypeError(`expected a number, got ${describe(value)}`);
  return value;
}

/** A String column value. */
export function toStr(value: unknown): string {
  if (typeof value !== 'string') throw new TypeError(`expected a string, got ${describe(value)}`);
  return value;
}

/** A Nullable(String) column value. */
export function toStrOrNull(value: unknown): string | null {
  return value === null ? null : toStr(value);
}

/** A Bool column value (printed as JSON true/false). */
export function toBool(value: unknown): boolean {
  if (typeof value !== 'boolean') throw new TypeError(`expected a boolean, got ${describe(value)}`);
  return value;
}

/**
 * Make query parameters mean the same to both drivers: a `Date` becomes a
 * `DateTime64` string (chDB and @clickhouse/client format Dates differently).
 * Pass times as `{t:DateTime64(3, 'UTC')}` with a Date or a {@link toChTime} string.
 */
export function normalizeParams(params: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) out[k] = v instanceof Date ? toChTime(v.getTime()) : v;
  return out;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return `${typeof value} ${String(value)}`;
}
