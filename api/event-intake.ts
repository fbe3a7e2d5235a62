/**
 * Custom bot events as `POST /v1/events` takes them, and the contract events
 * they become. Pure: the route does the I/O (salt, publishing) around it.
 *
 * Each item is checked on its own, so one bad event does not cost the batch
 * its good ones: the answer names, per item, the field and what is wrong.
 * A good item becomes a `bot_event` whose id is a function of the fact (bot,
 * user, event, time, properties), so a batch sent again carries the same ids
 * and is absorbed by the stream's duplicate window and the warehouse's
 * deduplication. The user id is replaced by its salted hash before the event
 * exists at all: the raw id never reaches NATS or the warehouse.
 */
import { CloneType, type Static, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { DAY_MS, MINUTE_MS } from '../common/index.ts';
import {
  BotEventData,
  EARLIEST_EVENT_MS,
  type EventOf,
  eventId,
  LATEST_EVENT_MS,
  SCHEMA_VERSION,
  validateEvent,
} from '../streams/contract/index.ts';

/** Most events in one request. */
export const MAX_BATCH_EVENTS = 100;
/** Most bytes of one event's properties as JSON. */
export const MAX_PROPERTIES_BYTES = 4096;
/** Oldest event accepted, before the receiving clock: a bot may send late, not history. */
export const MAX_EVENT_AGE_MS = 30 * DAY_MS;
/** Furthest an event may be ahead of the receiving clock (clock skew). */
export const MAX_EVENT_LEAD_MS = 5 * MINUTE_MS;

const TelegramId = (what: string) =>
  Type.Union(
    [Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }), Type.String({ pattern: '^[1-9][0-9]{0,19}$' })],
    { description: `${what}: a positive integer, or its decimal string` },
  );

/** One event as a bot sends it. */
export const BotEventInput = Type.Object(
  {
    bot_id: TelegramId("the bot's Telegram id (grammY: ctx.me.id)"),
    user_id: Type.Union([TelegramId('the Telegram user id (stored only as a salted hash)'), Type.Null()], {
      description: 'the Telegram user id (stored only as a salted hash), or null for an event of no user',
    }),
    event: Type.String({ ...BotEventData.properties.event_type, description: 'the event name, e.g. start or buy' }),
    properties: Type.Optional(
      CloneType(BotEventData.properties.properties, {
        description: `a flat object of up to 32 keys (each up to 64 characters): strings (up to 1024), numbers, booleans or null; at most ${MAX_PROPERTIES_BYTES} bytes as JSON`,
      }),
    ),
    event_time: Type.Integer({
      minimum: EARLIEST_EVENT_MS,
      maximum: LATEST_EVENT_MS,
      description: `when it happened (epoch ms): within the last ${MAX_EVENT_AGE_MS / DAY_MS} days`,
    }),
  },
  { additionalProperties: false },
);
export type BotEventInput = Static<typeof BotEventInput>;

/** What is wrong with one field of one item. */
export interface ItemError {
  field: string;
  reason: string;
}

/** One item of a batch: the event it became, or why it was refused. */
export type IntakeResult =
  | { index: number; ok: true; event: EventOf<'bot_event'> }
  | { index: number; ok: false; errors: ItemError[] };

/** What the intake needs besides the item. */
export interface IntakeContext {
  /** The receiving clock (epoch ms): event_time bounds, observed_at. */
  now: number;
  /** The stored form of a user id (control's `hashBotUserId` under the deployment's salt). */
  hashUser(botId: string, userId: string): string;
  /** Whether the caller may send events of this bot (its key's allow-list). */
  mayTrack(botId: string): boolean;
}

/** Errors reported per item, at most: the first few tell what to fix. */
const MAX_ERRORS = 5;
const check = TypeCompiler.Compile(BotEventInput);

/** The field an error path names: `/properties/a` → `properties.a`, the item itself → `(event)`. */
function fieldOf(path: string): string {
  return path === '' ? '(event)' : path.slice(1).replaceAll('/', '.');
}

function schemaErrors(item: unknown): ItemError[] {
  const errors: ItemError[] = [];
  for (const e of check.Errors(item)) {
    const description = (e.schema as { description?: unknown }).description;
    const hint = typeof description === 'string' && !e.path.startsWith('/properties/') ? ` (${description})` : '';
    errors.push({ field: fieldOf(e.path), reason: `${e.message}${hint}` });
    if (errors.length === MAX_ERRORS) break;
  }
  return errors;
}

/** Bounds the schema cannot say: the size of the properties, the time against the clock, the key's bots. */
function boundErrors(item: BotEventInput, botId: string, ctx: IntakeContext): ItemError[] {
  const errors: ItemError[] = [];
  if (!ctx.mayTrack(botId))
    errors.push({ field: 'bot_id', reason: `this API key may not send events of bot ${botId}` });
  const bytes = Buffer.byteLength(JSON.stringify(item.properties ?? {}));
  if (bytes > MAX_PROPERTIES_BYTES)
    errors.push({ field: 'properties', reason: `${bytes} bytes as JSON; at most ${MAX_PROPERTIES_BYTES}` });
  if (item.event_time < ctx.now - MAX_EVENT_AGE_MS)
    errors.push({ field: 'event_time', reason: `older than ${MAX_EVENT_AGE_MS / DAY_MS} days` });
  if (item.event_time > ctx.now + MAX_EVENT_LEAD_MS)
    errors.push({ field: 'event_time', reason: 'in the future (check the sending clock)' });
  return errors;
}

/** The properties in a key order of their own, so the id does not depend on how a client ordered them. */
function canonicalProperties(p: Record<string, unknown>): string {
  return JSON.stringify(
    Object.keys(p)
      .sort()
      .map((k) => [k, p[k]]),
  );
}

/**
 * One item of a batch, checked and turned into a contract event.
 *
 * @example
 * intakeItem({ bot_id: 42, user_id: 7, event: 'start', event_time: now }, 0, ctx) // { ok: true, event: { kind: 'bot_event', … } }
 */
export function intakeItem(item: unknown, index: number, ctx: IntakeContext): IntakeResult {
  if (!check.Check(item)) return { index, ok: false, errors: schemaErrors(item) };
  const botId = String(item.bot_id);
  const bounds = boundErrors(item, botId, ctx);
  if (bounds.length > 0) return { index, ok: false, errors: bounds };
  const user = item.user_id === null ? null : ctx.hashUser(botId, String(item.user_id));
  const properties = item.properties ?? {};
  const event: EventOf<'bot_event'> = {
    v: SCHEMA_VERSION,
    kind: 'bot_event',
    id: eventId('be', botId, user ?? '', item.event, item.event_time, canonicalProperties(properties)),
    // The contract partitions by channel: a bot's events live under its id (see BotEventData).
    channel_id: botId,
    event_time: item.event_time,
    observed_at: ctx.now,
    source: 'botapi',
    data: { bot_id: botId, event_type: item.event, user_id: user, properties },
  };
  // The contract is the last word: nothing it would dead-letter goes out.
  const valid = validateEvent(event);
  if (!valid.ok) return { index, ok: false, errors: [{ field: '(event)', reason: valid.detail }] };
  return { index, ok: true, event };
}
