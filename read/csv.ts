/**
 * CSV export of any series answer: one row per point, columns in a fixed
 * order, times as ISO 8601 UTC so spreadsheets read them as dates.
 *
 * Cells that a spreadsheet would run as a formula (a string starting with
 * `=`, `+`, `-`, `@`, tab or CR, e.g. a hostile hashtag or mention) are
 * prefixed with `'` (OWASP's advice for CSV injection); numbers are left alone.
 */
import { table } from 'arquero';

export type CsvValue = string | number | boolean | null;
export type CsvRow = Record<string, CsvValue>;

/** Column formats: `time` columns hold epoch ms and are printed as ISO 8601. */
export interface CsvColumn {
  name: string;
  time?: boolean;
}

const FORMULA_START = /^[=+\-@\t\r]/;

function cell(value: CsvValue, time: boolean): CsvValue {
  if (value === null) return null;
  if (time && typeof value === 'number') return new Date(value).toISOString();
  if (typeof value === 'string' && FORMULA_START.test(value)) return `'${value}`;
  return value;
}

/** Rows as CSV text with a header line, in the given column order. */
export function toCsv(rows: readonly CsvRow[], columns: readonly CsvColumn[]): string {
  const data: Record<string, CsvValue[]> = {};
  for (const c of columns) data[c.name] = rows.map((r) => cell(r[c.name] ?? null, c.time === true));
  // A table built from columns keeps the order and the header even without rows.
  return table(data).toCSV();
}
