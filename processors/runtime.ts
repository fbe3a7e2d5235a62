/**
 * The partition runtime: while this process holds a partition's lease, feeds
 * that partition of TG_RAW through the pure operators, publishes their
 * outputs to TG_DERIVED, dead-letters what cannot be processed, and
 * checkpoints the operator state to NATS KV together with the last stream
 * sequence it covers. Messages are acked only once a checkpoint covers them.
 *
 * Checkpoints are incremental (only the channels that changed) and fenced:
 * the owner claims the checkpoint under its lease epoch, and a write refused
 * because a newer owner claimed it stops this owner at once.
 *
 * Start (first run, restart, or takeover): the state is restored from the
 * checkpoint and a consumer of this owner's epoch delivers from the next
 * sequence in stream order, so outputs are recomputed with the same ids (and
 * deduplicated downstream).
 *
 * Forgotten channels (`tgpulse channels forget`, streams/forgotten.ts): their
 * events only move the partition's clock (`advanceClock`), so the other
 * channels' outputs stay those of a run without the forget, and their state
 * is removed once the register names them, followed by a full checkpoint so
 * that no checkpoint segment keeps it.
 */
import type { JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import {
  type RawEvent,
  type TgEvent,
  decodeBatch,
  type DecodeFailure,
  parseSubject,
  partitionFilter,
  partitionToken,
} from '../streams/contract/index.ts';
import {
  CheckpointStore,
  deleteConsumer,
  removeOtherConsumers,
  type DurableSpec,
  DeadLetterPublisher,
  deadLetterRecord,
  type DeadLetterRecord,
  type ForgottenLookup,
  reportRetry,
  retryNats,
  EventPublisher,
  CooperativeSlice,
  runConsumer,
  inMessageSpan,
  type StreamsConfig,
} from '../streams/index.ts';
import type { Logger, PipelineMetrics } from '../observability/index.ts';
import { DAY_MS, HOUR_MS } from '../common/index.ts';
import {
  advanceClock,
  type ProcessorConfig,
  createPartitionState,
  forgetChannel,
  partitionWatermark,
  processEvent,
  restoreState,
  serializeState,
  type PartitionState,
  applyDelta,
  serializeDelta,
  StateChanges,
} from './operators/index.ts';

export const PROCESS_STAGE = 'process';

/** The lease under which a process runs a partition. */
export interface PartitionLease {
  /** Unique and increasing per acquisition: the fencing token. */
  epoch: number;
  /** False once the lease may have expired: the owner must stop before anyone else may start. */
  valid(): boolean;
}

/** The partition's lease ran out while it was being processed (e.g. the process was paused). */
export class LeaseExpiredError extends Error {
  constructor(
    readonly partition: number,
    readonly epoch: number,
  ) {
    super(
      `partition ${partitionToken(partition)}: lease of epoch ${epoch} may have expired; stopping before another owner starts`,
    );
    this.name = 'LeaseExpiredError';
  }
}

/** Messages were delivered to this consumer but never handed to the runtime: order is no longer guaranteed. */
export class DeliveryGapError extends Error {
  constructor(partition: number, after: number, got: number) {
    super(
      `partition ${partitionToken(partition)}: delivery ${got} followed ${after}; the messages between were lost on the way, restarting from the checkpoint`,
    );
    this.name = 'DeliveryGapError';
  }
}

export interface PartitionRuntimeOptions {
  /** Consumes the partition. */
  js: JetStreamClient;
  jsm: JetStreamManager;
  /** Publishes outputs and dead letters (best on a connection of its own; see cli/roles.ts). */
  outputs: JetStreamClient;
  /** The checkpoint bucket. */
  kv: KV;
  streams: StreamsConfig;
  processor: ProcessorConfig;
  partition: number;
  lease: PartitionLease;
  log: Logger;
  metrics: PipelineMetrics;
  signal: AbortSignal;
  /** The register of forgotten channels, whose events are dropped (none when omitted). */
  forgotten?: ForgottenLookup;
  /** Checkpoint at least this often while messages flow (default 1 s). */
  checkpointIntervalMs?: number;
  /** Or after this many uncheckpointed messages (default 5,000). */
  checkpointMaxMessages?: number;
  /** Write the whole state instead of a delta after this many deltas (default 32). */
  maxDeltas?: number;
  maxBatch?: number;
}

/** The consumer of one partition for the owner of one lease epoch. */
export function processorConsumer(streams: StreamsConfig, partition: number, epoch: number): DurableSpec {
  return {
    stream: streams.names.raw,
    name: `${processorConsumerPrefix(partition)}_e${epoch}`,
    filterSubject: partitionFilter('raw', partition),
    // Far above the checkpoint interval, so a healthy runtime never sees a redelivery.
    ackWaitMs: 120_000,
    maxAckPending: 100_000,
  };
}

export function processorConsumerPrefix(partition: number): string {
  return `processor_${partitionToken(partition)}`;
}

/** Runs one partition until the signal aborts; then drains, checkpoints and returns. */
export async function runPartition(opts: PartitionRuntimeOptions): Promise<void> {
  const p = partitionToken(opts.partition);
  const log = opts.log.child({ role: 'process', partition: p, epoch: opts.lease.epoch });
  const retry = {
    signal: opts.signal,
    onRetry: reportRetry(
      opts.metrics,
      log,
      { stage: PROCESS_STAGE, error: 'nats_retry' },
      'NATS request failed; retrying',
    ),
  };
  const store = new CheckpointStore(opts.kv, `processor.${p}`);
  const cp = await retryNats(() => store.claim(opts.lease.epoch), retry);
  const state: PartitionState = cp?.base ? cp.deltas.reduce(applyDelta, restoreState(cp.base)) : createPartitionState();
  let lastSeq = cp?.head.seq ?? 0;
  log.info(
    { seq: lastSeq, bytes: cp?.head.base?.bytes ?? 0, deltas: cp?.deltas.length ?? 0 },
    cp ? 'restored checkpoint' : 'starting without checkpoint',
  );

  const spec = processorConsumer(opts.streams, opts.partition, opts.lease.epoch);
  const removed = await retryNats(
    () => removeOtherConsumers(opts.jsm, spec.stream, processorConsumerPrefix(opts.partition), spec.name),
    retry,
  );
  if (removed.length) log.info({ removed }, 'removed the consumers of earlier owners');

  const publisher = new EventPublisher(opts.outputs, {
    partitions: opts.streams.partitions,
    maxBatchBytes: opts.streams.maxBatchBytes,
    maxInflight: opts.streams.maxInflight,
    stream: opts.streams.names.derived,
    metrics: opts.metrics,
    log,
    signal: opts.signal,
  });
  const dlq = new DeadLetterPublisher(opts.outputs, opts.metrics, opts.signal);
  const interval = opts.checkpointIntervalMs ?? 1000;
  const maxUncovered = opts.checkpointMaxMessages ?? 5000;
  const maxDeltas = opts.maxDeltas ?? 32;
  const changes = new StateChanges();
  let pending: JsMsg[] = [];
  let lastDelivery = 0;
  let lastCheckpointAt = Date.now();
  // A first base, so every later checkpoint can be a delta on it.
  let needBase = !cp?.base;
  // The register version whose forgotten channels are out of the state.
  let forgottenVersion: number | null = null;
  const dropForgotten = () => {
    const register = opts.forgotten;
    if (!register || register.version === forgottenVersion) return;
    forgottenVersion = register.version;
    // Everything the state holds came from sequences up to lastSeq: what the register drops there goes.
    const gone = Object.keys({ ...state.channels, ...state.windows.channels }).filter(
      (id) => register.isForgotten(id, 'raw', lastSeq) && forgetChannel(state, id),
    );
    if (!gone.length) return;
    // A delta would leave the channel in the base segment: write the whole state.
    needBase = true;
    log.info({ channels: gone.length }, 'removed forgotten channels from the partition state');
  };
  dropForgotten();

  const checkpoint = async () => {
    if (!pending.length && store.head?.seq === lastSeq && !needBase) {
      // Nothing the checkpoint lacks: an idle partition is as covered as a fresh checkpoint, and its age
      // must not grow into a "checkpoint too old" alert.
      lastCheckpointAt = Date.now();
      return;
    }
    // Outputs first: a checkpoint may only cover inputs whose outputs are durable.
    await publisher.flush();
    if (!opts.lease.valid()) throw new LeaseExpiredError(opts.partition, opts.lease.epoch);
    const head = store.head;
    const delta =
      needBase || changes.all || (head?.deltas.length ?? 0) >= maxDeltas ? null : serializeDelta(state, changes);
    // Compact once replaying the deltas would cost more than reading the state.
    const full = delta === null || store.deltaBytes + delta.length > (head?.base?.bytes ?? 0);
    const text = full ? serializeState(state) : delta;
    await retryNats(() => (full ? store.saveBase(lastSeq, text) : store.saveDelta(lastSeq, text)), retry);
    changes.clear();
    needBase = false;
    for (const m of pending) m.ack();
    pending = [];
    lastCheckpointAt = Date.now();
    opts.metrics.checkpointBytes.set({ partition: p }, Buffer.byteLength(text));
    opts.metrics.checkpointWrites.inc({ partition: p, kind: full ? 'base' : 'delta' });
  };

  const ageTimer = setInterval(
    () => opts.metrics.checkpointAge.set({ partition: p }, (Date.now() - lastCheckpointAt) / 1000),
    1000,
  );
  try {
    await runConsumer(
      {
        js: opts.js,
        jsm: opts.jsm,
        spec,
        stage: PROCESS_STAGE,
        log,
        metrics: opts.metrics,
        signal: opts.signal,
        maxBatch: opts.maxBatch ?? 500,
        // A process may own every partition: 8 of these share its connection, so each holds little.
        maxBatchBytes: 1024 * 1024,
        maxPull: 16,
        maxWaitMs: 20,
        // Wake at least every second when idle, so the tail of a burst is checkpointed promptly.
        idleMs: Math.min(interval, 1000),
        startAfterSeq: lastSeq,
        lagLabel: processorConsumerPrefix(opts.partition),
      },
      {
        async handle(batch) {
          // Also when idle: a channel forgotten while nothing flows leaves the state and the next checkpoint.
          dropForgotten();
          const slice = new CooperativeSlice();
          for (const m of batch) {
            // Stream order is what makes outputs reproducible, and `seq <= lastSeq` below trusts it. A
            // jump in the consumer's delivery sequence means messages were delivered but never reached
            // us (a pull restarted under load drops what the client had buffered): their redelivery
            // would come after later messages. Start over from the checkpoint instead.
            const delivery = m.info.deliverySequence;
            if (lastDelivery !== 0 && delivery !== lastDelivery + 1)
              throw new DeliveryGapError(opts.partition, lastDelivery, delivery);
            lastDelivery = delivery;
            await slice.pause();
            // A paused or overloaded owner whose lease may have run out must not go on.
            if (!opts.lease.valid()) throw new LeaseExpiredError(opts.partition, opts.lease.epoch);
            dropForgotten();
            if (m.seq <= lastSeq) {
              // Already covered by the state (a redelivery): ack with the next checkpoint.
              pending.push(m);
              continue;
            }
            // The derived publish joins the trace the raw message carries.
            await inMessageSpan(`process ${spec.stream}`, m, { 'tgpulse.partition': p }, async () => {
              const { derived, dead } = handleMessage(state, changes, m, opts);
              if (derived.length) await publisher.publish(derived);
              if (dead.length) await dlq.send(dead);
            });
            lastSeq = m.seq;
            pending.push(m);
          }
          const wm = partitionWatermark(state, opts.processor);
          if (wm !== null) opts.metrics.watermark.set({ partition: p }, wm);
          // Idle (empty batch) also checkpoints, so the tail of a burst is acked promptly.
          if (batch.length === 0 || pending.length >= maxUncovered || Date.now() - lastCheckpointAt >= interval)
            await checkpoint();
        },
        drain: checkpoint,
      },
    );
  } finally {
    clearInterval(ageTimer);
    // This process no longer owns the partition: withdraw its series, so a dashboard's max over
    // processes does not keep showing the figures it last saw (the new owner exports its own).
    for (const gauge of [opts.metrics.checkpointAge, opts.metrics.checkpointBytes, opts.metrics.watermark])
      gauge.remove({ partition: p });
    // The consumer goes with its owner: every owner makes its own. A stale owner that created it
    // after a newer owner had started (paused in between) would otherwise leave it behind, holding
    // messages nobody will ever pull.
    await deleteConsumer(opts.jsm, spec.stream, spec.name).catch((err: unknown) =>
      log.warn(
        { err: String(err), consumer: spec.name },
        'could not delete this owner’s consumer; the next owner removes it',
      ),
    );
  }
  log.info({ seq: lastSeq }, 'partition drained and checkpointed');
}

/**
 * How far an event may lie ahead of what the partition knows of time: the
 * later of its latest event time and the moment the stream stored the
 * message. Beyond it the event would drag the watermark along, close every
 * open window at once and make all the true events after it late, so it is
 * dead-lettered instead. Both references are fixed by the stream and the
 * state, so a replay judges every event the same way. A simulator running
 * faster than real time stays within it: its events follow each other.
 */
const FUTURE_TOLERANCE_MS = DAY_MS;

/** Why an event is too far in the future to be applied, or null. */
function futureEvent(state: PartitionState, event: TgEvent, publishedAt: number): string | null {
  const known = Math.max(state.windows.maxEventTime ?? publishedAt, publishedAt);
  const time = Math.max(event.event_time, event.observed_at);
  if (time <= known + FUTURE_TOLERANCE_MS) return null;
  return `event time ${new Date(time).toISOString()} is ${Math.round((time - known) / HOUR_MS)} h ahead of the partition's latest event and of the message's publication (${new Date(known).toISOString()}); at most ${FUTURE_TOLERANCE_MS / HOUR_MS} h allowed`;
}

/** Decodes one message and runs its events through the operators. */
function handleMessage(
  state: PartitionState,
  changes: StateChanges,
  m: JsMsg,
  opts: PartitionRuntimeOptions,
): { derived: TgEvent[]; dead: DeadLetterRecord[] } {
  const origin = {
    stage: PROCESS_STAGE,
    stream: opts.streams.names.raw,
    subject: m.subject,
    seq: m.seq,
    receivedAt: Date.now(),
  };
  const decoded = decodeBatch(m.data, {
    maxMessageBytes: opts.streams.maxMessageBytes,
    subject: parseSubject(m.subject),
    partitions: opts.streams.partitions,
    layer: 'raw',
  });
  const failures: DecodeFailure[] = [...decoded.failures];
  const derived: TgEvent[] = [];
  // Counted per message, not per event: a labelled counter costs a label lookup per call.
  const outcomes = new Map<string, number>();
  const count = (kind: string, outcome: string) =>
    outcomes.set(`${kind}\u0000${outcome}`, (outcomes.get(`${kind}\u0000${outcome}`) ?? 0) + 1);
  const publishedAt = m.info.timestampNanos / 1e6;
  const forgotten = (channelId: unknown) =>
    typeof channelId === 'string' && opts.forgotten?.isForgotten(channelId, 'raw', m.seq) === true;
  let dropped = 0;
  for (const event of decoded.events) {
    const ahead = futureEvent(state, event, publishedAt);
    if (forgotten(event.channel_id)) {
      // Its time still counts, as it did before the forget (a future event never did).
      if (!ahead) {
        const out = advanceClock(state, event as RawEvent, opts.processor);
        changes.note(out.changed);
        for (const d of out.derived) derived.push(d);
      }
      dropped++;
      continue;
    }
    if (ahead) {
      failures.push({ reason: 'future_event', detail: ahead, payload: event });
      count(event.kind, 'future');
      continue;
    }
    try {
      const out = processEvent(state, event as RawEvent, opts.processor);
      changes.note(out.changed);
      for (const d of out.derived) derived.push(d);
      for (const late of out.late) {
        failures.push({
          reason: 'late_event',
          detail: `event time ${late.event_time} is behind the watermark beyond the allowed lateness`,
          payload: late,
        });
        count(late.kind, 'late');
      }
      for (const skipped of out.skipped) count(event.kind, skipped.reason);
      for (const e of out.errors ?? []) failures.push({ reason: 'operator_error', detail: e.detail, payload: e.event });
      count(event.kind, 'ok');
    } catch (err) {
      // The operator may have changed the channel before failing: checkpoint all of it.
      changes.note('all');
      opts.log.error(
        { err, event_id: event.id, subject: m.subject, seq: m.seq },
        'operator failed on event; dead-lettering it',
      );
      failures.push({ reason: 'operator_error', detail: String((err as Error)?.message ?? err), payload: event });
    }
  }
  // A dead letter of a forgotten channel would name it in TG_DLQ and in the warehouse. The others keep
  // their index in the message, hence their ids.
  const dead: DeadLetterRecord[] = [];
  failures.forEach((f, i) => {
    if (forgotten((f.payload as { channel_id?: unknown } | null)?.channel_id)) dropped++;
    else dead.push(deadLetterRecord(origin, f, i, m.data.byteLength));
  });
  if (dropped) opts.metrics.forgottenDropped.inc({ stage: PROCESS_STAGE }, dropped);
  for (const d of dead) if (d.reason !== 'late_event') count('unknown', 'dead_letter');
  for (const [key, n] of outcomes) {
    const [kind, outcome] = key.split('\u0000');
    opts.metrics.events.inc({ stage: PROCESS_STAGE, kind, outcome }, n);
  }
  return { derived, dead };
}
