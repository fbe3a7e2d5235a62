/**
 * The partition runtime: feeds one partition of TG_RAW through the pure
 * operators, publishes their outputs to TG_DERIVED, dead-letters what cannot
 * be processed, and checkpoints the operator state to NATS KV together with
 * the last stream sequence it covers. Messages are acked only once a
 * checkpoint covers them.
 *
 * Restart: the state is restored from the checkpoint and the durable consumer
 * is reset to deliver from the next sequence in stream order, so outputs are
 * recomputed with the same ids (and deduplicated downstream).
 */
import type { JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { RawEvent, TgEvent } from '../streams/contract.ts';
import { decodeBatch, type DecodeFailure } from '../streams/codec.ts';
import { CheckpointStore, type CheckpointHead } from '../streams/checkpoint.ts';
import { watchConsumerLag, resetDurable, type DurableSpec } from '../streams/consumers.ts';
import { DeadLetterPublisher, deadLetterRecord, type DeadLetterRecord } from '../streams/dlq.ts';
import { EventPublisher } from '../streams/publisher.ts';
import { BatchPuller } from '../streams/puller.ts';
import { parseSubject, partitionFilter, partitionToken } from '../streams/subjects.ts';
import type { StreamsConfig } from '../streams/config.ts';
import type { Logger } from '../observability/log.ts';
import type { PipelineMetrics } from '../observability/metrics.ts';
import type { ProcessorConfig } from './config.ts';
import { createPartitionState, partitionWatermark, processEvent, restoreState, serializeState, type PartitionState } from './operators/partition.ts';

export const PROCESS_STAGE = 'process';

export interface PartitionRuntimeOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  kv: KV;
  streams: StreamsConfig;
  processor: ProcessorConfig;
  partition: number;
  log: Logger;
  metrics: PipelineMetrics;
  signal: AbortSignal;
  /** Checkpoint at least this often while messages flow (default 1 s). */
  checkpointIntervalMs?: number;
  /** Or after this many uncheckpointed messages (default 5,000). */
  checkpointMaxMessages?: number;
  maxBatch?: number;
}

export function processorConsumer(streams: StreamsConfig, partition: number): DurableSpec {
  return {
    stream: streams.names.raw,
    name: `processor_${partitionToken(partition)}`,
    filterSubject: partitionFilter('raw', partition),
    // Far above the checkpoint interval, so a healthy runtime never sees a redelivery.
    ackWaitMs: 120_000,
    maxAckPending: 100_000,
  };
}

/** Runs one partition until the signal aborts; then drains, checkpoints and returns. */
export async function runPartition(opts: PartitionRuntimeOptions): Promise<void> {
  const p = partitionToken(opts.partition);
  const log = opts.log.child({ role: 'process', partition: p });
  const store = new CheckpointStore(opts.kv, `processor.${p}`);
  const spec = processorConsumer(opts.streams, opts.partition);

  const cp = await store.load();
  const state: PartitionState = cp ? restoreState(cp.text) : createPartitionState();
  let head: CheckpointHead | null = cp?.head ?? null;
  let lastSeq = head?.seq ?? 0;
  log.info({ seq: lastSeq, bytes: head?.bytes ?? 0 }, cp ? 'restored checkpoint' : 'starting without checkpoint');

  await resetDurable(opts.jsm, spec, lastSeq);
  const consumer = await opts.js.consumers.get(spec.stream, spec.name);
  const puller = new BatchPuller(consumer, {
    maxBatch: opts.maxBatch ?? 500,
    maxWaitMs: 20,
    signal: opts.signal,
    onRestart: (n) => {
      opts.metrics.errors.inc({ stage: PROCESS_STAGE, error: 'delivery_restarted' });
      log.warn({ restarts: n }, 'consumer delivery ended unexpectedly; restarted');
    },
  });
  await puller.start();

  const publisher = new EventPublisher(opts.js, {
    partitions: opts.streams.partitions,
    maxBatchBytes: opts.streams.maxBatchBytes,
    maxInflight: opts.streams.maxInflight,
    stream: opts.streams.names.derived,
    metrics: opts.metrics,
    log,
  });
  const dlq = new DeadLetterPublisher(opts.js, opts.metrics);
  const interval = opts.checkpointIntervalMs ?? 1000;
  const maxUncovered = opts.checkpointMaxMessages ?? 5000;
  let pending: JsMsg[] = [];
  let lastCheckpointAt = Date.now();

  const checkpoint = async () => {
    if (!pending.length && head?.seq === lastSeq) return;
    // Outputs first: a checkpoint may only cover inputs whose outputs are durable.
    await publisher.flush();
    head = await store.save(lastSeq, serializeState(state), head);
    for (const m of pending) m.ack();
    pending = [];
    lastCheckpointAt = Date.now();
    opts.metrics.checkpointBytes.set({ partition: p }, head.bytes);
  };

  const ageTimer = setInterval(() => opts.metrics.checkpointAge.set({ partition: p }, (Date.now() - lastCheckpointAt) / 1000), 1000);
  const lagTimer = watchConsumerLag(opts.jsm, spec, opts.metrics, log);

  try {
    while (!opts.signal.aborted) {
      // Wake at least every second when idle, so the tail of a burst is checkpointed promptly.
      const batch = await puller.next(Math.min(interval, 1000));
      if (opts.signal.aborted) break;
      if (!batch.length && puller.stopped) throw new Error(`consumer ${spec.name} stopped delivering`);
      opts.metrics.batchSize.observe({ stage: PROCESS_STAGE }, batch.length);
      for (const m of batch) {
        if (m.seq <= lastSeq) {
          // Already covered by the state (a redelivery): ack with the next checkpoint.
          pending.push(m);
          continue;
        }
        const { derived, dead } = handleMessage(state, m, opts);
        if (derived.length) await publisher.publish(derived);
        if (dead.length) await dlq.send(dead);
        lastSeq = m.seq;
        pending.push(m);
      }
      const wm = partitionWatermark(state, opts.processor);
      if (wm !== null) opts.metrics.watermark.set({ partition: p }, wm);
      // Idle (empty batch) also checkpoints, so the tail of a burst is acked promptly.
      if (batch.length === 0 || pending.length >= maxUncovered || Date.now() - lastCheckpointAt >= interval) await checkpoint();
    }
  } finally {
    clearInterval(ageTimer);
    clearInterval(lagTimer);
    puller.stop();
  }
  await checkpoint();
  log.info({ seq: lastSeq }, 'partition drained and checkpointed');
}

/** Decodes one message and runs its events through the operators. */
function handleMessage(state: PartitionState, m: JsMsg, opts: PartitionRuntimeOptions): { derived: TgEvent[]; dead: DeadLetterRecord[] } {
  const origin = { stage: PROCESS_STAGE, stream: opts.streams.names.raw, subject: m.subject, seq: m.seq, receivedAt: Date.now() };
  const decoded = decodeBatch(m.data, { maxMessageBytes: opts.streams.maxMessageBytes, subject: parseSubject(m.subject), partitions: opts.streams.partitions, layer: 'raw' });
  const failures: DecodeFailure[] = [...decoded.failures];
  const derived: TgEvent[] = [];
  for (const event of decoded.events) {
    try {
      const out = processEvent(state, event as RawEvent, opts.processor);
      derived.push(...out.derived);
      for (const late of out.late) {
        failures.push({ reason: 'late_event', detail: `event time ${late.event_time} is behind the watermark beyond the allowed lateness`, payload: late });
        opts.metrics.events.inc({ stage: PROCESS_STAGE, kind: late.kind, outcome: 'late' });
      }
      for (const skipped of out.skipped) opts.metrics.events.inc({ stage: PROCESS_STAGE, kind: event.kind, outcome: skipped.reason });
      for (const e of out.errors ?? []) failures.push({ reason: 'operator_error', detail: e.detail, payload: e.event });
      opts.metrics.events.inc({ stage: PROCESS_STAGE, kind: event.kind, outcome: 'ok' });
    } catch (err) {
      opts.log.error({ err, event_id: event.id, subject: m.subject, seq: m.seq }, 'operator failed on event; dead-lettering it');
      failures.push({ reason: 'operator_error', detail: String((err as Error)?.message ?? err), payload: event });
    }
  }
  for (const f of failures) if (f.reason !== 'late_event') opts.metrics.events.inc({ stage: PROCESS_STAGE, kind: 'unknown', outcome: 'dead_letter' });
  const dead = failures.map((f, i) => deadLetterRecord(origin, f, i, m.data.byteLength));
  return { derived, dead };
}
