/**
 * Reading `from`/`to` query parameters into a period the read models accept:
 * ISO 8601 dates or date-times (a date alone means midnight UTC) or epoch
 * milliseconds; `to` defaults to now and `from` to a default span before it;
 * reversed, empty, out-of-range and too long ranges are refused with a
 * message naming the parameter.
 */
import { alignPeriod, bucketMs, type Granularity, type Period } from '../read/index.ts';
import { DAY_MS } from '../common/index.ts';
import { invalidParameter } from './errors.ts';

/** Telegram channels exist since 2015; nothing before 2013 can be real. */
const EARLIEST = Date.UTC(2013, 0, 1);
const LATEST = Date.UTC(2100, 0, 1);
/** Series longer than this many points are refused: ask for a coarser granularity. */
export const MAX_POINTS = 5000;

const ISO_RE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?)?$/;

/** Parse one time parameter; throws a 400 naming it when it is not a time we accept. */
export function parseTime(name: string, value: string): number {
  let t: number;
  if (/^\d{1,15}$/.test(value)) t = Number(value);
  else if (ISO_RE.test(value)) {
    // A date-time without an offset is UTC, not the server's local time.
    const withZone = value.length > 10 && !/(Z|[+-]\d{2}:\d{2})$/.test(value) ? `${value}Z` : value;
    t = Date.parse(withZone);
  } else {
    throw invalidParameter(
      name,
      'expected an ISO 8601 date (2026-03-01), date-time (2026-03-01T12:00:00Z) or epoch milliseconds',
    );
  }
  if (!Number.isFinite(t) || !realCalendarDate(value))
    throw invalidParameter(name, `${JSON.stringify(value.slice(0, 40))} is not a valid date`);
  if (t < EARLIEST || t > LATEST) throw invalidParameter(name, 'must be between 2013-01-01 and 2100-01-01');
  return t;
}

/** Date.parse rolls 2026-02-30 over to March 2; a caller who typed it made a mistake. */
function realCalendarDate(value: string): boolean {
  if (!ISO_RE.test(value)) return true;
  const [y, m, d] = value.slice(0, 10).split('-').map(Number);
  const day = new Date(Date.UTC(y, m - 1, d));
  return day.getUTCFullYear() === y && day.getUTCMonth() === m - 1 && day.getUTCDate() === d;
}

export interface PeriodOptions {
  now: number;
  /** Span when `from` is absent. */
  defaultDays: number;
  maxRangeDays: number;
  /** Widen to whole buckets of this grain, and bound the number of points. */
  granularity?: Granularity;
}

/** The period a request asks for. */
export function resolvePeriod(q: { from?: string; to?: string }, opts: PeriodOptions): Period {
  const to = q.to === undefined ? opts.now : parseTime('to', q.to);
  const from = q.from === undefined ? to - opts.defaultDays * DAY_MS : parseTime('from', q.from);
  if (from >= to) throw invalidParameter('from', 'must be before to');
  if (to - from > opts.maxRangeDays * DAY_MS) {
    throw invalidParameter('to', `the range from..to may span at most ${opts.maxRangeDays} days`);
  }
  if (opts.granularity === undefined) return { from, to };
  const period = alignPeriod({ from, to }, opts.granularity);
  const points = (period.to - period.from) / bucketMs(opts.granularity);
  if (points > MAX_POINTS) {
    throw invalidParameter(
      'granularity',
      `${points} ${opts.granularity}s is more than ${MAX_POINTS} points: use a coarser granularity or a shorter range`,
    );
  }
  return period;
}
