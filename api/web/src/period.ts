/**
 * The period a channel page shows: the last `days` days up to the end of the
 * current hour. Every request of a page uses the same period, and the same
 * page opened again within the hour asks the same URLs, which the API caches.
 */

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export type PagePeriod = {
  /** Epoch ms, inclusive. */
  from: number;
  /** Epoch ms, exclusive: the end of the hour holding `now`. */
  to: number;
};

export function lastDays(days: number, now: number): PagePeriod {
  const to = Math.floor(now / HOUR_MS) * HOUR_MS + HOUR_MS;
  return { from: to - days * DAY_MS, to };
}
