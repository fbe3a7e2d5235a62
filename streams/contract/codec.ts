/**
 * Wire codec: a NATS message carries a JSON array of events of one kind for
 * one channel (hence one partition). Decoding never throws: every event is
 * either valid and returned, or returned as a failure with the reason that
 * sends it to the dead-letter stream.
 */
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { TSchema } from '@sinclair/typebox';
import { EVENT_SCHEMAS, isDerivedKind, isEventKind, isRawKind, type EventKind, type TgEvent } from './events.ts';
import { SEVERAL_CHANNELS, type Layer, type ParsedSubject } from './subjects.ts';
import { partitionOf } from './ids.ts';

export type DeadLetterReason =
  /**
   * Over the decoder's `maxMessageBytes`. A message over the NATS server's
   * max_payload (1 MiB by default) never gets this far: the client refuses it
   * at publish and the producer gets the error, so nothing of it is in the
   * stream to dead-letter. The publisher splits batches well below it, so only
   * a single event over 1 MiB can meet it.
   */
  | 'oversized'
  | 'malformed_json'
  /** The bytes are not UTF-8: decoding would silently replace them, so the message is refused whole. */
  | 'invalid_utf8'
  /** Nested deeper than any event is (see MAX_NESTING): refused before anything walks it recursively. */
  | 'too_deep'
  | 'not_a_batch'
  | 'unknown_kind'
  | 'schema_violation'
  | 'subject_mismatch'
  | 'late_event'
  /** Far ahead of both the partition's event time and the time the message was published. */
  | 'future_event'
  | 'operator_error'
  | 'write_rejected'
  | 'redelivery_limit'
  /** A collector read something from its source (e.g. a Telegram statistics graph) it cannot turn into events. */
  | 'malformed_source';

export interface DecodeFailure {
  reason: DeadLetterReason;
  detail: string;
  /** The offending element (or the whole payload text when it could not be split). */
  payload: unknown;
}

export interface DecodedBatch {
  events: TgEvent[];
  failures: DecodeFailure[];
}

const checks = new Map<EventKind, TypeCheck<TSchema>>();
function checkFor(kind: EventKind): TypeCheck<TSchema> {
  let c = checks.get(kind);
  if (!c) {
    c = TypeCompiler.Compile(EVENT_SCHEMAS[kind]);
    checks.set(kind, c);
  }
  return c;
}

/** Validates one decoded value against the contract; returns a reason text or null when valid. */
export function validateEvent(
  value: unknown,
): { ok: true; event: TgEvent } | { ok: false; reason: DeadLetterReason; detail: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: 'schema_violation', detail: 'event is not a JSON object' };
  }
  const kind = (value as { kind?: unknown }).kind;
  if (typeof kind !== 'string' || !isEventKind(kind)) {
    return { ok: false, reason: 'unknown_kind', detail: `unknown event kind ${JSON.stringify(kind)?.slice(0, 80)}` };
  }
  const check = checkFor(kind);
  if (check.Check(value)) return { ok: true, event: value as TgEvent };
  const first = check.Errors(value).First();
  const detail = first ? `${first.path || '/'}: ${first.message}` : 'does not match the contract';
  return { ok: false, reason: 'schema_violation', detail: `${kind} ${detail}` };
}

export function encodeBatch(events: readonly TgEvent[]): Uint8Array {
  return Buffer.from(JSON.stringify(events));
}

export interface DecodeOptions {
  maxMessageBytes: number;
  /** When given, events must match the subject they arrived on. */
  subject?: ParsedSubject | null;
  /** Partition count, to check events of a several-channel batch belong to its partition. */
  partitions?: number;
  layer?: Layer;
}

/** Strict: a byte sequence that is not UTF-8 throws instead of becoming U+FFFD inside a valid-looking event. */
const strictDecoder = new TextDecoder('utf-8', { fatal: true });
/** Lossy: only to show a refused message in its dead letter. */
const lossyDecoder = new TextDecoder('utf-8', { fatal: false });

/**
 * Deepest nesting of arrays and objects an event may have: a batch holds
 * events whose maps sit four levels down. Anything deeper is refused before
 * its dead letter is written, since serialising it again would recurse once
 * per level (and overflow the stack on a hostile 100,000-level payload).
 */
const MAX_NESTING = 16;

/** Whether `value` nests deeper than `limit` levels; iterative, so any depth is safe to ask about. */
function nestsDeeperThan(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > limit) return true;
    for (const child of Object.values(v))
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
  }
  return false;
}

export function decodeBatch(data: Uint8Array, opts: DecodeOptions): DecodedBatch {
  if (data.byteLength > opts.maxMessageBytes) {
    return {
      events: [],
      failures: [
        {
          reason: 'oversized',
          detail: `message of ${data.byteLength} bytes exceeds the limit of ${opts.maxMessageBytes}`,
          payload: null,
        },
      ],
    };
  }
  let text: string;
  try {
    text = strictDecoder.decode(data);
  } catch {
    return {
      events: [],
      failures: [{ reason: 'invalid_utf8', detail: 'message is not valid UTF-8', payload: lossyDecoder.decode(data) }],
    };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return {
      events: [],
      failures: [{ reason: 'malformed_json', detail: (err as Error).message.slice(0, 200), payload: text }],
    };
  }
  const items = Array.isArray(parsed) ? parsed : [parsed];
  if (!Array.isArray(parsed) && (typeof parsed !== 'object' || parsed === null)) {
    return {
      events: [],
      failures: [
        { reason: 'not_a_batch', detail: 'payload is neither an event nor an array of events', payload: text },
      ],
    };
  }
  const out: DecodedBatch = { events: [], failures: [] };
  for (const item of items) {
    const r = validateEvent(item);
    if (!r.ok) {
      // Valid events are shallow by their schema: only a refused one can be deep.
      if (nestsDeeperThan(item, MAX_NESTING))
        out.failures.push({
          reason: 'too_deep',
          detail: `event nested deeper than ${MAX_NESTING} levels`,
          payload: text,
        });
      else out.failures.push({ reason: r.reason, detail: r.detail, payload: item });
      continue;
    }
    const mismatch = subjectMismatch(r.event, opts);
    if (mismatch) out.failures.push({ reason: 'subject_mismatch', detail: mismatch, payload: item });
    else out.events.push(r.event);
  }
  return out;
}

function subjectMismatch(e: TgEvent, opts: DecodeOptions): string | null {
  if (opts.layer === 'raw' && !isRawKind(e.kind)) return `derived kind ${e.kind} on the raw stream`;
  if (opts.layer === 'derived' && !isDerivedKind(e.kind)) return `raw kind ${e.kind} on the derived stream`;
  const s = opts.subject;
  if (!s) return null;
  if (s.kind !== e.kind) return `event kind ${e.kind} on subject of kind ${s.kind}`;
  if (s.channelId === SEVERAL_CHANNELS) {
    if (opts.partitions && partitionOf(e.channel_id, opts.partitions) !== s.partition)
      return `event of channel ${e.channel_id} on a batch of partition ${s.partition}`;
  } else if (s.channelId !== e.channel_id)
    return `event of channel ${e.channel_id} on subject of channel ${s.channelId}`;
  return null;
}
