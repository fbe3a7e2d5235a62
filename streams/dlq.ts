/**
 * Dead letters: malformed or invalid input, late events beyond lateness and
 * operator failures are published to `tg.dlq.{stage}` with the reason, the
 * stage, and the original stream, subject and sequence. The pipeline goes on;
 * nothing is lost without a trace (the sink stores them in `dead_letters`).
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import { type DeadLetterReason, type DecodeFailure, eventId, dlqSubject } from './contract/index.ts';
import { retryNats } from './nats-errors.ts';
import type { PipelineMetrics } from '../observability/index.ts';

/** Largest piece of the original payload kept in a dead letter. */
export const DEAD_LETTER_PAYLOAD_LIMIT = 64 * 1024;

export interface DeadLetterRecord {
  /** Deterministic: the same failure of the same message always gets the same id. */
  id: string;
  stage: string;
  reason: DeadLetterReason;
  detail: string;
  stream: string;
  subject: string;
  seq: number;
  received_at: number;
  /** The offending payload as text, truncated to DEAD_LETTER_PAYLOAD_LIMIT. */
  payload: string;
  payload_bytes: number;
  event_id: string | null;
  channel_id: string | null;
}

export interface DeadLetterOrigin {
  stage: string;
  stream: string;
  subject: string;
  seq: number;
  receivedAt: number;
}

/** Builds the dead-letter record of one failure; `index` tells failures of one message apart. */
export function deadLetterRecord(
  origin: DeadLetterOrigin,
  failure: DecodeFailure,
  index: number,
  rawBytes?: number,
): DeadLetterRecord {
  const text = payloadText(failure.payload);
  const obj =
    typeof failure.payload === 'object' && failure.payload !== null ? (failure.payload as Record<string, unknown>) : {};
  const str = (v: unknown) => (typeof v === 'string' ? v.slice(0, 128) : null);
  return {
    id: eventId('dl', origin.stage, origin.stream, origin.seq, index, failure.reason),
    stage: origin.stage,
    reason: failure.reason,
    detail: failure.detail.slice(0, 1000),
    stream: origin.stream,
    subject: origin.subject.slice(0, 512),
    seq: origin.seq,
    received_at: origin.receivedAt,
    payload: text.length > DEAD_LETTER_PAYLOAD_LIMIT ? text.slice(0, DEAD_LETTER_PAYLOAD_LIMIT) : text,
    payload_bytes: rawBytes ?? Buffer.byteLength(text),
    event_id: str(obj.id),
    channel_id: str(obj.channel_id),
  };
}

/**
 * The payload as text. Serialising can fail on what a decoder let through
 * (a structure too deep for the stack): the dead letter then says so rather
 * than the stage failing on the message again and again.
 */
function payloadText(payload: unknown): string {
  if (typeof payload === 'string') return payload;
  if (payload == null) return '';
  try {
    return JSON.stringify(payload);
  } catch (err) {
    return `(payload not serialisable: ${String((err as Error)?.message ?? err)})`;
  }
}

export class DeadLetterPublisher {
  constructor(
    private readonly js: JetStreamClient,
    private readonly metrics?: PipelineMetrics,
    private readonly signal?: AbortSignal,
  ) {}

  /** Publishes and waits for the stream's ack: a dead letter is durable before its origin is acked. */
  async send(records: readonly DeadLetterRecord[]): Promise<void> {
    await Promise.all(
      records.map((r) =>
        retryNats(() => this.js.publish(dlqSubject(r.stage), JSON.stringify(r), { msgID: r.id, timeout: 5000 }), {
          signal: this.signal,
          onRetry: () => this.metrics?.publishRetries.inc({ stream: 'dlq' }),
        }).then(() => this.metrics?.deadLetters.inc({ stage: r.stage, reason: r.reason })),
      ),
    );
  }
}
