/**
 * When a digest is due and what period it sums up, cut in the subscriber's
 * time zone: a daily digest goes out at 09:00 local time about the day
 * before (local midnight to midnight), a weekly one on Mondays at 09:00
 * about the week before (Monday to Monday). Days are 23 or 25 hours long
 * across a daylight-saving change, and the periods follow. Pure: the clock
 * and the zone are arguments.
 */
import type { DigestCadence } from '../../control/index.ts';

/** Local hour digests are sent at. */
export const DIGEST_HOUR = 9;

/** One digest: the period it sums up `[from, to)`, and when it is due. Epoch ms. */
export interface DigestPeriod {
  from: number;
  to: number;
  sendAt: number;
}

/** A local calendar date, as a UTC day number (days since 1970-01-01), so days can be added. */
type LocalDay = number;

const DAY_MS = 86_400_000;
const formats = new Map<string, Intl.DateTimeFormat>();

/** The wall clock of `tz` at instant `t`, read as if it were UTC (epoch ms). */
function wallClock(tz: string, t: number): number {
  let f = formats.get(tz);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formats.set(tz, f);
  }
  const parts = Object.fromEntries(f.formatToParts(new Date(t)).map((p) => [p.type, Number(p.value)]));
  return Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
}

/**
 * The instant at which `tz` shows `hour`:00 on `day`. An hour skipped by a
 * daylight-saving change gives the instant just after the gap, an hour that
 * happens twice its first occurrence.
 */
export function zonedTime(tz: string, day: LocalDay, hour: number): number {
  const wall = day * DAY_MS + hour * 3_600_000;
  // The zone's offsets a day before and after: at most one change lies between, so the answer is one of two.
  const guesses = [wall - DAY_MS, wall + DAY_MS].map((t) => wall - (wallClock(tz, t) - t));
  const shown = guesses.filter((t) => wallClock(tz, t) === wall);
  // Shown twice: the first time; never shown (a gap): the later guess, just after the gap.
  return shown.length > 0 ? Math.min(...shown) : Math.max(...guesses);
}

/** The local day of instant `t` in `tz`. */
function localDay(tz: string, t: number): LocalDay {
  return Math.floor(wallClock(tz, t) / DAY_MS);
}

/**
 * The latest digest of `cadence` due at or before `now` in `tz`.
 *
 * @example
 * // 2026-12-08 10:00 in Berlin: the daily digest of Monday the 7th, due at 09:00 on the 8th.
 * latestDigest('daily', 'Europe/Berlin', Date.UTC(2026, 11, 8, 9))
 * // { from: Date.UTC(2026, 11, 6, 23), to: Date.UTC(2026, 11, 7, 23), sendAt: Date.UTC(2026, 11, 8, 8) }
 */
export function latestDigest(cadence: DigestCadence, tz: string, now: number): DigestPeriod {
  const today = localDay(tz, now);
  // The send day: today, or the last Monday (1970-01-01 was a Thursday: day 4 is a Monday).
  const sinceSendDay = cadence === 'daily' ? 0 : (((today - 4) % 7) + 7) % 7;
  let sendDay = today - sinceSendDay;
  if (zonedTime(tz, sendDay, DIGEST_HOUR) > now) sendDay -= cadence === 'daily' ? 1 : 7;
  const length = cadence === 'daily' ? 1 : 7;
  return {
    from: zonedTime(tz, sendDay - length, 0),
    to: zonedTime(tz, sendDay, 0),
    sendAt: zonedTime(tz, sendDay, DIGEST_HOUR),
  };
}

/** The period as people read it in `tz`: "Mon 7 Dec 2026", or "Mon 30 Nov – Sun 6 Dec 2026" for a week. */
export function periodLabel(p: DigestPeriod, tz: string): string {
  const day = (t: number, year: boolean) =>
    new Intl.DateTimeFormat('en-GB', {
      timeZone: tz,
      weekday: 'short',
      day: 'numeric',
      month: 'short',
      ...(year ? { year: 'numeric' } : {}),
    })
      .format(new Date(t))
      .replace(',', '');
  const last = p.to - 1;
  return localDay(tz, p.from) === localDay(tz, last) ? day(p.from, true) : `${day(p.from, false)} – ${day(last, true)}`;
}

/** When the next digest of `cadence` after `now` goes out in `tz` (the one after {@link latestDigest}). */
export function nextDigestAt(cadence: DigestCadence, tz: string, now: number): number {
  const latest = latestDigest(cadence, tz, now);
  // Sends are whole days apart, give or take a daylight-saving hour: 3 h past the next is before the one after.
  const probe = latest.sendAt + (cadence === 'daily' ? 1 : 7) * DAY_MS + 3 * 3_600_000;
  return latestDigest(cadence, tz, probe).sendAt;
}
