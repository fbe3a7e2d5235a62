/**
 * What a bot's custom events say (`POST /v1/events` writes them to
 * `raw_bot_events`): events per bucket, the top events, and one user's
 * timeline. Users are the salted hashes the API stored, never Telegram ids.
 *
 * A repeated batch writes the same event ids again, and the table folds them
 * only when it merges: every query here reads it `FINAL`, so a duplicate row
 * never counts twice. A bot's events live under `channel_id = bot_id` (one
 * partition per bot), which is also the table's primary key prefix.
 */
import { Type, type Static } from '@sinclair/typebox';
import { RowReader, type Warehouse } from '../../clickhouse/index.ts';
import { periodParams } from './freshness.ts';
import { bucketSql, type Granularity, type Period } from './period.ts';
import { Count, Time } from './shape.ts';

/** The rows of one bot in a period, without duplicates: the FROM of every query here. */
export const BOT_EVENTS_SQL = `
  raw_bot_events FINAL
  WHERE channel_id = {bot_id:String} AND bot_id = {bot_id:String}
    AND event_time >= {from:DateTime64(3, 'UTC')} AND event_time < {to:DateTime64(3, 'UTC')}`;

/** A property value as the contract allows it. */
const PropertyValue = Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]);

/** One bucket of a bot's events. */
export const BotEventPoint = Type.Object({
  t: Type.Number({ description: 'bucket start (epoch ms, UTC)' }),
  events: Count,
  users: Type.Number({ description: 'distinct users with an event in the bucket' }),
});
export type BotEventPoint = Static<typeof BotEventPoint>;

/** Events per bucket with `from <= t < to`, oldest first; buckets without events are absent. */
export async function botEventCounts(
  wh: Warehouse,
  q: { bot_id: string; period: Period; granularity: Granularity; event?: string },
): Promise<BotEventPoint[]> {
  const rows = await wh.query(
    `SELECT ${bucketSql('event_time', q.granularity)} AS t, count() AS events, uniqExact(user_id) AS users
     FROM ${BOT_EVENTS_SQL} ${q.event === undefined ? '' : 'AND event_type = {event:String}'}
     GROUP BY t ORDER BY t`,
    { bot_id: q.bot_id, ...periodParams(q.period), ...(q.event === undefined ? {} : { event: q.event }) },
  );
  return rows.map((row) => {
    const r = new RowReader(row, 'raw_bot_events');
    return { t: r.time('t'), events: r.int('events'), users: r.int('users') };
  });
}

/** One event name and how often it happened. */
export const BotTopEvent = Type.Object({
  event: Type.String(),
  events: Count,
  users: Type.Number({ description: 'distinct users who sent it' }),
});
export type BotTopEvent = Static<typeof BotTopEvent>;

/** The most frequent events of the period, most frequent first (ties by name). */
export async function topBotEvents(
  wh: Warehouse,
  q: { bot_id: string; period: Period; limit: number },
): Promise<BotTopEvent[]> {
  const rows = await wh.query(
    `SELECT event_type, count() AS events, uniqExact(user_id) AS users
     FROM ${BOT_EVENTS_SQL}
     GROUP BY event_type ORDER BY events DESC, event_type LIMIT {limit:UInt32}`,
    { bot_id: q.bot_id, ...periodParams(q.period), limit: q.limit },
  );
  return rows.map((row) => {
    const r = new RowReader(row, 'raw_bot_events');
    return { event: r.str('event_type'), events: r.int('events'), users: r.int('users') };
  });
}

/** One event of a user. */
export const BotUserEvent = Type.Object({
  id: Type.String({ description: 'the event id: the same event sent twice has one id' }),
  t: Time,
  event: Type.String(),
  properties: Type.Record(Type.String(), PropertyValue),
});
export type BotUserEvent = Static<typeof BotUserEvent>;

/** One user's events in the period, newest first, at most `limit`. `user` is the stored (hashed) user id. */
export async function botUserTimeline(
  wh: Warehouse,
  q: { bot_id: string; user: string; period: Period; limit: number },
): Promise<BotUserEvent[]> {
  const rows = await wh.query(
    `SELECT id, event_time, event_type, properties
     FROM ${BOT_EVENTS_SQL} AND user_id = {user:String}
     ORDER BY event_time DESC, id LIMIT {limit:UInt32}`,
    { bot_id: q.bot_id, user: q.user, ...periodParams(q.period), limit: q.limit },
  );
  return rows.map((row) => {
    const r = new RowReader(row, 'raw_bot_events');
    return {
      id: r.str('id'),
      t: r.time('event_time'),
      event: r.str('event_type'),
      // Written by the sink as JSON.stringify of a contract-valid flat object.
      properties: JSON.parse(r.str('properties')) as BotUserEvent['properties'],
    };
  });
}
