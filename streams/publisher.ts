/**
 * The batching publisher every producer uses (collectors, simulator, replay,
 * processors). A batch is events of one kind for one channel; its
 * `Nats-Msg-Id` is derived from its event ids, so JetStream drops a
 * republished batch within the duplicate window and downstream idempotent
 * writes absorb it after that.
 *
 * In-flight publish acks are bounded: `publish` waits for room, `flush`
 * waits for every ack and throws the first failure (after retries).
 */
import { headers, type MsgHdrs } from '@nats-io/transport-node';
import { startPublishSpan } from './tracing.ts';
import type { JetStreamClient } from '@nats-io/jetstream';
import { type TgEvent, batchId, partitionOf, batchSubject, eventSubject } from './contract/index.ts';
import { withRetry } from '../common/index.ts';
import { isTransientNatsError } from './nats-errors.ts';
import { failSpan, type PipelineMetrics, type Logger } from '../observability/index.ts';
import type { StreamsConfig } from './config.ts';

export interface PublisherOptions {
  partitions: number;
  maxBatchBytes: number;
  maxInflight: number;
  /** Label for metrics and logs (e.g. stream name). */
  stream: string;
  metrics?: PipelineMetrics;
  log?: Logger;
  signal?: AbortSignal;
  /**
   * Publish attempts before a batch fails. By default a transient failure
   * (timeout, NATS down) is retried until the signal aborts, and anything
   * else fails at once: under load a timeout must slow a role, not kill it.
   */
  attempts?: number;
}

/**
 * Groups events into batches of one kind for one partition, keeping
 * first-seen order. A batch of a single channel gets that channel's subject,
 * a batch of several the partition's `_` subject.
 */
export function groupBySubject(events: readonly TgEvent[], partitions: number): Map<string, TgEvent[]> {
  const groups = new Map<string, TgEvent[]>();
  for (const e of events) {
    const key = `${e.kind}.${partitionOf(e.channel_id, partitions)}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(e);
  }
  const bySubject = new Map<string, TgEvent[]>();
  for (const g of groups.values()) {
    const first = g[0];
    const single = g.every((e) => e.channel_id === first.channel_id);
    const subject = single
      ? eventSubject(first.kind, first.channel_id, partitions)
      : batchSubject(first.kind, partitionOf(first.channel_id, partitions));
    bySubject.set(subject, g);
  }
  return bySubject;
}

/** Splits a batch into JSON payloads no larger than `maxBytes` (one oversized event stays alone). */
export function chunkPayloads(
  events: readonly TgEvent[],
  maxBytes: number,
): Array<{ events: TgEvent[]; payload: Uint8Array }> {
  // The common case, one chunk, costs one stringify and one encode of the whole batch.
  const whole = Buffer.from(JSON.stringify(events));
  if (whole.byteLength <= maxBytes || events.length === 1) return [{ events: [...events], payload: whole }];
  const out: Array<{ events: TgEvent[]; payload: Uint8Array }> = [];
  let cur: TgEvent[] = [];
  let parts: string[] = [];
  let size = 2;
  const push = () => {
    if (cur.length) out.push({ events: cur, payload: Buffer.from(`[${parts.join(',')}]`) });
    cur = [];
    parts = [];
    size = 2;
  };
  for (const e of events) {
    const json = JSON.stringify(e);
    const bytes = Buffer.byteLength(json) + 1;
    if (cur.length && size + bytes > maxBytes) push();
    cur.push(e);
    parts.push(json);
    size += bytes;
  }
  push();
  return out;
}

/**
 * The publisher of raw events every producer role uses (collectors,
 * simulator, replay): TG_RAW with the deployment's partitions and limits.
 *
 * ```ts
 * const publisher = rawEventPublisher(nats.js, config.streams, { metrics, log, signal });
 * ```
 */
export function rawEventPublisher(
  js: JetStreamClient,
  streams: StreamsConfig,
  extra: Pick<PublisherOptions, 'metrics' | 'log' | 'signal'> = {},
): EventPublisher {
  return new EventPublisher(js, {
    partitions: streams.partitions,
    maxBatchBytes: streams.maxBatchBytes,
    maxInflight: streams.maxInflight,
    stream: streams.names.raw,
    ...extra,
  });
}

export class EventPublisher {
  #inflight = new Set<Promise<void>>();
  #firstError: unknown = null;
  #waiters: Array<() => void> = [];
  published = 0;
  duplicates = 0;

  constructor(
    private readonly js: JetStreamClient,
    private readonly opts: PublisherOptions,
  ) {}

  /**
   * Publishes events (any mix of kinds and channels): grouped by subject,
   * chunked by size, one message per chunk. Resolves once every message is
   * in flight (not yet acked); call `flush()` to wait for the acks.
   */
  async publish(events: readonly TgEvent[]): Promise<void> {
    for (const [subject, group] of groupBySubject(events, this.opts.partitions)) {
      for (const chunk of chunkPayloads(group, this.opts.maxBatchBytes)) {
        await this.publishRaw(
          subject,
          chunk.payload,
          batchId(
            subject,
            chunk.events.map((e) => e.id),
          ),
          chunk.events.length,
          chunk.events[0].kind,
        );
      }
    }
  }

  /** Publishes one prepared payload with bounded in-flight acks (also used for hostile-input tests). */
  async publishRaw(subject: string, payload: Uint8Array, msgId: string, count = 1, kind = 'unknown'): Promise<void> {
    this.#throwIfFailed();
    while (this.#inflight.size >= this.opts.maxInflight) await new Promise<void>((r) => this.#waiters.push(r));
    const p = this.#send(subject, payload, msgId, count, kind).then(
      () => undefined,
      (err) => {
        this.#firstError ??= err;
      },
    );
    this.#inflight.add(p);
    void p.finally(() => {
      this.#inflight.delete(p);
      this.#waiters.shift()?.();
    });
  }

  async #send(subject: string, payload: Uint8Array, msgId: string, count: number, kind: string): Promise<void> {
    const h = headers();
    h.set('Tg-Kind', kind);
    h.set('Tg-Count', String(count));
    const span = startPublishSpan(this.opts.stream, subject, count, h);
    try {
      await this.#publishAcked(subject, payload, msgId, h);
    } catch (err) {
      failSpan(span, err);
      throw err;
    } finally {
      span.end();
    }
  }

  async #publishAcked(subject: string, payload: Uint8Array, msgId: string, h: MsgHdrs): Promise<void> {
    const ack = await withRetry(() => this.js.publish(subject, payload, { msgID: msgId, headers: h, timeout: 5000 }), {
      attempts: this.opts.attempts ?? Infinity,
      baseMs: 100,
      maxMs: 5000,
      signal: this.opts.signal,
      isFatal: (err) => !isTransientNatsError(err),
      onRetry: (err, attempt, waitMs) => {
        this.opts.metrics?.publishRetries.inc({ stream: this.opts.stream });
        this.opts.log?.warn({ err: String(err), subject, attempt, waitMs }, 'publish failed, retrying');
      },
    }).catch((err) => {
      this.opts.metrics?.published.inc({ stream: this.opts.stream, outcome: 'failed' });
      throw new Error(`publish to ${subject} failed after retries: ${(err as Error).message}`, { cause: err });
    });
    this.published++;
    if (ack.duplicate) this.duplicates++;
    this.opts.metrics?.published.inc({ stream: this.opts.stream, outcome: ack.duplicate ? 'duplicate' : 'ok' });
  }

  /** Waits until every publish so far is acked by the stream; throws the first failure. */
  async flush(): Promise<void> {
    while (this.#inflight.size) await Promise.all([...this.#inflight]);
    this.#throwIfFailed();
  }

  #throwIfFailed(): void {
    if (this.#firstError) {
      const err = this.#firstError;
      this.#firstError = null;
      throw err;
    }
  }
}
