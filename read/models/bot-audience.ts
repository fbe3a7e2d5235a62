/**
 * A bot's audience from its custom events: daily, weekly and monthly active
 * users, and weekly retention cohorts. A user is the salted hash the API
 * stored; events without a user count for neither.
 *
 * Both read `raw_bot_events FINAL` and fold it to distinct (user, day) or
 * (user, week) pairs first, so a duplicate event cannot count a user twice.
 */
import { Type, type Static } from '@sinclair/typebox';
import { RowReader, toChTime, type Warehouse } from '../../clickhouse/index.ts';
import { DAY_MS } from '../../common/index.ts';
import { periodParams } from './freshness.ts';
import { alignPeriod, type Period } from './period.ts';
import { Count } from './shape.ts';

/** Days of the monthly window: MAU counts the users of the 30 days ending with the day. */
const MONTH_DAYS = 30;
const WEEK_MS = 7 * DAY_MS;

/** One day's active users. */
export const BotActiveUsersPoint = Type.Object({
  t: Type.Number({ description: 'day start (epoch ms, UTC)' }),
  dau: Type.Number({ description: 'users with an event that day' }),
  wau: Type.Number({ description: 'users with an event in the 7 days ending that day' }),
  mau: Type.Number({ description: 'users with an event in the 30 days ending that day' }),
});
export type BotActiveUsersPoint = Static<typeof BotActiveUsersPoint>;

/**
 * DAU, WAU and MAU of each day of the period (widened to whole UTC days),
 * oldest first; days with no user in the 30 days up to them are absent.
 * Each (user, day) pair is spread over the 30 days it counts toward.
 */
export async function botActiveUsers(
  wh: Warehouse,
  q: { bot_id: string; period: Period },
): Promise<BotActiveUsersPoint[]> {
  const period = alignPeriod(q.period, 'day');
  const rows = await wh.query(
    `SELECT toDateTime64(day + k, 3, 'UTC') AS t,
            uniqExactIf(user, k = 0) AS dau, uniqExactIf(user, k < 7) AS wau, uniqExact(user) AS mau
     FROM (
       SELECT DISTINCT assumeNotNull(user_id) AS user, toDate(event_time) AS day
       FROM raw_bot_events FINAL
       WHERE channel_id = {bot_id:String} AND bot_id = {bot_id:String} AND user_id IS NOT NULL
         AND event_time >= {lookback:DateTime64(3, 'UTC')} AND event_time < {to:DateTime64(3, 'UTC')}
     )
     ARRAY JOIN range(${MONTH_DAYS}) AS k
     WHERE t >= {from:DateTime64(3, 'UTC')} AND t < {to:DateTime64(3, 'UTC')}
     GROUP BY t ORDER BY t`,
    { bot_id: q.bot_id, ...periodParams(period), lookback: toChTime(period.from - (MONTH_DAYS - 1) * DAY_MS) },
  );
  return rows.map((row) => {
    const r = new RowReader(row, 'raw_bot_events');
    return { t: r.time('t'), dau: r.int('dau'), wau: r.int('wau'), mau: r.int('mau') };
  });
}

/** The users whose first event fell in one week, and how many came back in each later week. */
export const BotRetentionCohort = Type.Object({
  cohort: Type.Number({ description: 'the cohort week: Monday 00:00 UTC (epoch ms)' }),
  users: Count,
  retained: Type.Array(Count, {
    description:
      'users of the cohort active in week k after it (k = 0 is the cohort week itself); weeks up to now only',
  }),
  rates: Type.Array(Type.Number(), { description: 'retained[k] / users' }),
});
export type BotRetentionCohort = Static<typeof BotRetentionCohort>;

/**
 * Weekly cohorts whose first event (ever) falls in the period (widened to
 * whole ISO weeks), oldest first, each with up to `weeks` weeks of retention
 * and no week after `now`.
 */
export async function botRetention(
  wh: Warehouse,
  q: { bot_id: string; period: Period; weeks: number; now: number },
): Promise<BotRetentionCohort[]> {
  const period = alignPeriod(q.period, 'week');
  const rows = await wh.query(
    `SELECT toDateTime64(f.cohort, 3, 'UTC') AS cohort_start, intDiv(dateDiff('day', f.cohort, a.week), 7) AS k, count() AS users
     FROM (
       SELECT DISTINCT assumeNotNull(user_id) AS user, toMonday(event_time) AS week
       FROM raw_bot_events FINAL
       WHERE channel_id = {bot_id:String} AND bot_id = {bot_id:String} AND user_id IS NOT NULL
         AND event_time >= {from:DateTime64(3, 'UTC')} AND event_time < {until:DateTime64(3, 'UTC')}
     ) AS a
     INNER JOIN (
       SELECT assumeNotNull(user_id) AS user, toMonday(min(event_time)) AS cohort
       FROM raw_bot_events FINAL
       WHERE channel_id = {bot_id:String} AND bot_id = {bot_id:String} AND user_id IS NOT NULL
       GROUP BY user
     ) AS f ON a.user = f.user
     WHERE f.cohort >= toDate({from:DateTime64(3, 'UTC')}) AND f.cohort < toDate({to:DateTime64(3, 'UTC')})
       AND k < {weeks:UInt32}
     GROUP BY cohort_start, k ORDER BY cohort_start, k`,
    { bot_id: q.bot_id, ...periodParams(period), until: toChTime(period.to + q.weeks * WEEK_MS), weeks: q.weeks },
  );
  const cohorts = new Map<number, BotRetentionCohort>();
  for (const row of rows) {
    const r = new RowReader(row, 'raw_bot_events');
    const t = r.time('cohort_start');
    let c = cohorts.get(t);
    if (!c) {
      const elapsed = Math.max(1, Math.min(q.weeks, Math.floor((q.now - t) / WEEK_MS) + 1));
      c = { cohort: t, users: 0, retained: new Array<number>(elapsed).fill(0), rates: [] };
      cohorts.set(t, c);
    }
    const k = r.int('k');
    if (k < c.retained.length) c.retained[k] = r.int('users');
  }
  for (const c of cohorts.values()) {
    c.users = c.retained[0];
    c.rates = c.retained.map((n) => (c.users > 0 ? n / c.users : 0));
  }
  return [...cohorts.values()];
}
