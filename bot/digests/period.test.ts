/**
 * Digest periods are cut in the subscriber's time zone: local midnight to
 * midnight for a day, Monday to Monday for a week, due at 09:00 local time,
 * and stretched or shrunk by daylight-saving changes.
 */
import { describe, expect, it } from 'vitest';
import { latestDigest, nextDigestAt, periodLabel, zonedTime } from './period.ts';

const utc = (y: number, m: number, d: number, h = 0, min = 0) => Date.UTC(y, m - 1, d, h, min);
const dayNumber = (y: number, m: number, d: number) => utc(y, m, d) / 86_400_000;

describe('latestDigest', () => {
  it('sums up the local day before, due at 09:00 local time', () => {
    // 10:00 in Berlin (UTC+1) on Tuesday 8 December 2026.
    expect(latestDigest('daily', 'Europe/Berlin', utc(2026, 12, 8, 9))).toEqual({
      from: utc(2026, 12, 6, 23),
      to: utc(2026, 12, 7, 23),
      sendAt: utc(2026, 12, 8, 8),
    });
    // One minute before 09:00 local, the digest due is the previous day's.
    expect(latestDigest('daily', 'Europe/Berlin', utc(2026, 12, 8, 7, 59)).sendAt).toBe(utc(2026, 12, 7, 8));
  });

  it('is the same instant for every zone at its own 09:00 only', () => {
    expect(latestDigest('daily', 'UTC', utc(2026, 12, 8, 9)).sendAt).toBe(utc(2026, 12, 8, 9));
    expect(latestDigest('daily', 'Asia/Kolkata', utc(2026, 12, 8, 3, 30))).toEqual({
      from: utc(2026, 12, 6, 18, 30),
      to: utc(2026, 12, 7, 18, 30),
      sendAt: utc(2026, 12, 8, 3, 30),
    });
  });

  it('a week runs Monday to Monday and is due on Monday at 09:00', () => {
    // Monday 7 December 2026, 09:00 in Tokyo (UTC+9) is 00:00 UTC.
    expect(latestDigest('weekly', 'Asia/Tokyo', utc(2026, 12, 7))).toEqual({
      from: utc(2026, 11, 29, 15),
      to: utc(2026, 12, 6, 15),
      sendAt: utc(2026, 12, 7),
    });
    // A minute earlier, and every day of that week, the week before is the latest.
    expect(latestDigest('weekly', 'Asia/Tokyo', utc(2026, 12, 6, 23, 59)).sendAt).toBe(utc(2026, 11, 30));
    expect(latestDigest('weekly', 'Asia/Tokyo', utc(2026, 12, 13, 12)).sendAt).toBe(utc(2026, 12, 7));
  });

  it('follows daylight-saving changes: 23- and 25-hour days, a 167-hour week', () => {
    const spring = latestDigest('daily', 'Europe/Berlin', utc(2026, 3, 30, 12));
    expect(spring).toEqual({ from: utc(2026, 3, 28, 23), to: utc(2026, 3, 29, 22), sendAt: utc(2026, 3, 30, 7) });
    const autumn = latestDigest('daily', 'Europe/Berlin', utc(2026, 10, 26, 12));
    expect(autumn.to - autumn.from).toBe(25 * 3_600_000);
    // New York moves to EDT on Sunday 8 March 2026.
    const week = latestDigest('weekly', 'America/New_York', utc(2026, 3, 10));
    expect(week).toEqual({ from: utc(2026, 3, 2, 5), to: utc(2026, 3, 9, 4), sendAt: utc(2026, 3, 9, 13) });
  });

  it('a midnight skipped by the clocks starts the day when the clock resumes', () => {
    // Santiago jumps from 00:00 to 01:00 on Sunday 6 September 2026 (UTC-4 → UTC-3).
    expect(zonedTime('America/Santiago', dayNumber(2026, 9, 6), 0)).toBe(utc(2026, 9, 6, 4));
    // It falls back from 00:00 to 23:00 on 5 April 2026: that midnight is shown once, at UTC-4.
    expect(zonedTime('America/Santiago', dayNumber(2026, 4, 5), 0)).toBe(utc(2026, 4, 5, 4));
    // An hour shown twice (01:00 in Berlin on 25 October 2026 is not one; 02:00 is) is its first time.
    expect(zonedTime('Europe/Berlin', dayNumber(2026, 10, 25), 2)).toBe(utc(2026, 10, 25, 0));
  });
});

describe('nextDigestAt and periodLabel', () => {
  it('the next send after now, across a daylight-saving change', () => {
    expect(nextDigestAt('daily', 'Europe/Berlin', utc(2026, 3, 28, 9))).toBe(utc(2026, 3, 29, 7));
    expect(nextDigestAt('weekly', 'Europe/Berlin', utc(2026, 12, 7, 8))).toBe(utc(2026, 12, 14, 8));
    expect(nextDigestAt('weekly', 'Europe/Berlin', utc(2026, 12, 7, 7, 59))).toBe(utc(2026, 12, 7, 8));
  });

  it('names the local day or week', () => {
    const tz = 'America/New_York';
    expect(periodLabel(latestDigest('weekly', tz, utc(2026, 3, 10)), tz)).toBe('Mon 2 Mar – Sun 8 Mar 2026');
    expect(periodLabel(latestDigest('daily', tz, utc(2026, 3, 10)), tz)).toBe('Sun 8 Mar 2026');
  });
});
