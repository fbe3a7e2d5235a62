/**
 * Hostile raw messages for the fault suite, generated with fast-check from a
 * seed: each class builds NATS payloads (bytes, since some are not even
 * UTF-8) around a valid `post_counters` event of a tracked channel, and says
 * how the pipeline must answer each: the dead-letter reason and what its
 * detail must name.
 */
import fc from 'fast-check';
import type { DeadLetterReason } from '../../streams/contract/codec.ts';
import { EARLIEST_EVENT_MS, LATEST_EVENT_MS, type PostCountersEvent } from '../../streams/contract/events.ts';
import { DAY_MS } from '../../common/index.ts';

/** One hostile message and the answer it must get. */
export interface HostileMessage {
  payload: Uint8Array;
  reason: DeadLetterReason;
  /** What the dead letter's detail must contain (a field path, a limit…). */
  detail: string;
  /** A valid event riding in the same batch, which must be stored as if alone. */
  good?: PostCountersEvent;
}

/** What a class needs to build its messages. */
export interface HostileContext {
  /** A fresh valid event of the message's channel: the template every class spoils. */
  template(): PostCountersEvent;
  /** A good event to ride in a hostile batch: stored and derived from as if it came alone. */
  companion(): PostCountersEvent;
  /** A valid event of the same channel already published: its id is the one to collide with. */
  published(): PostCountersEvent;
  /** Another tracked channel of the same partition, to claim on this channel's subject. */
  otherChannel: string;
  /** The time the messages are published (roughly): future events are judged against it. */
  now: number;
}

export interface HostileClass {
  name: string;
  /** Messages, drawn from the seed; `index` numbers them so ids stay unique. */
  build(ctx: HostileContext, rng: Draw, index: number): HostileMessage;
}

/** Draws one value of an arbitrary (seeded by the caller's sample). */
export type Draw = <T>(arb: fc.Arbitrary<T>) => T;

/** A deterministic draw: each call samples the next value from one seeded stream. */
export function seededDraw(seed: number): Draw {
  let n = 0;
  return <T>(arb: fc.Arbitrary<T>) => fc.sample(arb, { seed: seed + n++, numRuns: 1 })[0];
}

const bytes = (text: string) => Buffer.from(text, 'utf8');
/** An integer in [min, max] anywhere in the safe range (fc.integer stops at 32 bits). */
const between = (min: number, max: number) => fc.bigInt({ min: BigInt(min), max: BigInt(max) }).map(Number);
/** The JSON text of a one-event batch where the value at `path` is `raw` (raw JSON text, not re-encoded). */
function spliced(e: PostCountersEvent, path: string, raw: string): string {
  const marker = '"@@splice@@"';
  const copy = structuredClone(e) as unknown as Record<string, unknown>;
  const keys = path.split('.');
  let at = copy;
  for (const k of keys.slice(0, -1)) at = at[k] as Record<string, unknown>;
  at[keys[keys.length - 1]] = '@@splice@@';
  return JSON.stringify([copy]).replace(marker, () => raw);
}
/** A field path as TypeBox names it in an error: `data.views` → `/data/views`. */
const pointer = (path: string) => `/${path.split('.').join('/')}`;

/** Fields of a post_counters event and the JSON type each must have. */
const TYPED_FIELDS: Array<[path: string, type: 'string' | 'integer' | 'object' | 'one']> = [
  ['v', 'one'],
  ['id', 'string'],
  ['channel_id', 'string'],
  ['event_time', 'integer'],
  ['observed_at', 'integer'],
  ['source', 'string'],
  ['data', 'object'],
  ['data.post_id', 'integer'],
  ['data.post_date', 'integer'],
  ['data.views', 'integer'],
  ['data.forwards', 'integer'],
  ['data.replies', 'integer'],
  ['data.reactions_total', 'integer'],
  ['data.reactions', 'object'],
  ['data.reactions.👍', 'integer'],
];

const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.boolean(),
  fc.constant(null),
  fc.string({ maxLength: 12 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.integer(), { maxKeys: 2 }),
);

function wrongFor(type: 'string' | 'integer' | 'object' | 'one', v: unknown): boolean {
  if (type === 'string') return typeof v !== 'string';
  if (type === 'integer') return !(typeof v === 'number' && Number.isInteger(v));
  if (type === 'object') return typeof v !== 'object' || v === null || Array.isArray(v);
  return v !== 1;
}

/** Every field, in turn, given a value of another JSON type; every other message rides with a good event. */
const wrongTypes: HostileClass = {
  name: 'wrong types',
  build(ctx, draw, i) {
    const [path, type] = TYPED_FIELDS[i % TYPED_FIELDS.length];
    const value = draw(anyJson.filter((v) => wrongFor(type, v)));
    const text = spliced(ctx.template(), path, JSON.stringify(value));
    if (i % 2) return { payload: bytes(text), reason: 'schema_violation', detail: pointer(path) };
    const good = ctx.companion();
    return {
      payload: bytes(`[${JSON.stringify(good)},${text.slice(1)}`),
      reason: 'schema_violation',
      detail: pointer(path),
      good,
    };
  },
};

const INTEGER_FIELDS = [
  'data.views',
  'data.post_id',
  'data.forwards',
  'data.replies',
  'event_time',
  'data.reactions.👍',
];
/** Integers past 2^53 written out in digits, NaN and Infinity as text, and as bare (non-JSON) tokens. */
const bigNumbers: HostileClass = {
  name: 'numbers beyond 2^53, NaN/Infinity as text',
  build(ctx, draw, i) {
    const path = INTEGER_FIELDS[i % INTEGER_FIELDS.length];
    const token = draw(
      fc.oneof(
        fc.bigInt({ min: 2n ** 53n + 1n, max: 10n ** 40n }).map(String),
        fc.bigInt({ min: -(10n ** 40n), max: -(2n ** 53n) - 1n }).map(String),
        fc.constantFrom('"NaN"', '"Infinity"', '"-Infinity"', '"9007199254740993"', '1e400', '-1e400'),
        fc.constantFrom('NaN', 'Infinity', '-Infinity', '0x1F', '+1'),
      ),
    );
    const text = spliced(ctx.template(), path, token);
    const bare = /^(NaN|-?Infinity|0x1F|\+1)$/.test(token);
    return bare
      ? { payload: bytes(text), reason: 'malformed_json', detail: 'JSON' }
      : { payload: bytes(text), reason: 'schema_violation', detail: pointer(path) };
  },
};

/** Arrays or objects nested from just past the limit to 100,000 levels, where the data or a map should be. */
const deepNesting: HostileClass = {
  name: 'deep nesting',
  build(ctx, draw) {
    const depth = draw(fc.oneof(fc.integer({ min: 17, max: 1000 }), fc.integer({ min: 1000, max: 100_000 })));
    const arrays = draw(fc.boolean());
    const nest = arrays ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    const path = draw(fc.constantFrom('data', 'data.reactions', 'data.views', 'source'));
    return { payload: bytes(spliced(ctx.template(), path, nest)), reason: 'too_deep', detail: 'nested deeper' };
  },
};

/** Byte sequences no UTF-8 decoder may accept, inside a string of an otherwise valid event. */
const INVALID_UTF8: number[][] = [
  [0xff],
  [0xfe, 0xff],
  [0x80],
  [0xc0, 0xaf],
  [0xc3, 0x28],
  [0xe2, 0x82],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
];
const invalidUtf8: HostileClass = {
  name: 'invalid UTF-8',
  build(ctx, draw) {
    const seq = draw(fc.constantFrom(...INVALID_UTF8));
    const e = ctx.template();
    const text = bytes(JSON.stringify([{ ...e, id: `${e.id}#` }]));
    const at = text.indexOf('#');
    return {
      payload: Buffer.concat([text.subarray(0, at), Buffer.from(seq), text.subarray(at + 1)]),
      reason: 'invalid_utf8',
      detail: 'not valid UTF-8',
    };
  },
};

/** Just under NATS's max_payload (1 MiB): the largest message that can be published at all. */
export const HUGE_STRING_CHARS = 1_000_000;
/** Strings of a million characters where the contract allows a few hundred. */
const hugeStrings: HostileClass = {
  name: '1 MB strings',
  build(ctx, draw) {
    const path = draw(fc.constantFrom('id', 'channel_id', 'source', 'data.reactions.👍'));
    const ch = draw(fc.constantFrom('x', 'A', '9', ' '));
    const text = spliced(ctx.template(), path, JSON.stringify(ch.repeat(HUGE_STRING_CHARS)));
    return { payload: bytes(text), reason: 'schema_violation', detail: pointer(path) };
  },
};

/** `__proto__`, `constructor` and `prototype` as keys of the envelope, the data and a map. */
const protoKeys: HostileClass = {
  name: '__proto__/constructor keys',
  build(ctx, draw) {
    const key = draw(fc.constantFrom('__proto__', 'constructor', 'prototype'));
    const evil = draw(
      fc.constantFrom(
        '{"polluted":"yes"}',
        '{"prototype":{"polluted":"yes"}}',
        '{"__proto__":{"polluted":"yes"}}',
        '{"toString":"x","valueOf":1}',
      ),
    );
    const where = draw(fc.constantFrom('envelope', 'data', 'reactions', 'unbatched'));
    const e = ctx.template();
    const json = JSON.stringify(e);
    const inject = (obj: string) => `{"${key}":${evil},${obj.slice(1)}`;
    if (where === 'envelope') return proto(`[${inject(json)}]`, `/${key}`);
    if (where === 'unbatched') return proto(inject(json), `/${key}`);
    const data = JSON.stringify(e.data);
    if (where === 'data') return proto(`[${json.replace(data, () => inject(data))}]`, `/data/${key}`);
    return proto(spliced(e, 'data.reactions', `{"${key}":${evil}}`), `/data/reactions/${key}`);
  },
};
const proto = (text: string, path: string): HostileMessage => ({
  payload: bytes(text),
  reason: 'schema_violation',
  detail: path,
});

/** Events carrying the id of a good event already published: each is wrong in a way the pipeline can see. */
const idCollisions: HostileClass = {
  name: 'ids colliding with good events',
  build(ctx, draw, i) {
    const victim = ctx.published();
    const views = draw(fc.integer({ min: 0, max: 1e9 }));
    switch (i % 4) {
      case 0:
        // Another channel's fact on this channel's subject.
        return collision(
          { ...victim, channel_id: ctx.otherChannel, data: { ...victim.data, views } },
          'subject_mismatch',
          'on subject of channel',
        );
      case 1:
        // Another kind of fact on this kind's subject.
        return collision(
          { ...victim, kind: 'channel_members', data: { members: views } },
          'subject_mismatch',
          'on subject of kind post_counters',
        );
      case 2:
        return collision({ ...victim, data: { ...victim.data, views: -1 - views } }, 'schema_violation', '/data/views');
      default:
        return collision({ ...victim, source: 'telegram' }, 'schema_violation', '/source');
    }
  },
};
const collision = (event: unknown, reason: DeadLetterReason, detail: string): HostileMessage => ({
  payload: bytes(JSON.stringify([event])),
  reason,
  detail,
});

/** Before Telegram existed, after what the warehouse can store, or days ahead of everything the partition saw. */
const timeTravel: HostileClass = {
  name: 'event times far in the past or future',
  build(ctx, draw, i) {
    const e = ctx.template();
    const field = draw(fc.constantFrom('event_time', 'observed_at') as fc.Arbitrary<'event_time' | 'observed_at'>);
    switch (i % 3) {
      case 0: {
        const t = draw(between(-8.64e15, EARLIEST_EVENT_MS - 1));
        return collision({ ...e, [field]: t }, 'schema_violation', `/${field}`);
      }
      case 1: {
        const t = draw(between(LATEST_EVENT_MS + 1, Number.MAX_SAFE_INTEGER));
        return collision({ ...e, [field]: t }, 'schema_violation', `/${field}`);
      }
      default: {
        // Valid by the contract, but it would drag the partition's watermark decades ahead.
        const t = draw(between(ctx.now + 30 * DAY_MS, LATEST_EVENT_MS));
        return collision({ ...e, event_time: t, observed_at: t }, 'future_event', 'ahead of the partition');
      }
    }
  },
};

/** The classes and how many messages of each make the 10,000. */
export const HOSTILE_CLASSES: Array<[HostileClass, number]> = [
  [wrongTypes, 2460],
  [bigNumbers, 1500],
  [deepNesting, 500],
  [invalidUtf8, 1500],
  [hugeStrings, 40],
  [protoKeys, 1500],
  [idCollisions, 1500],
  [timeTravel, 1000],
];
