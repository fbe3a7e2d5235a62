/**
 * Durable pull consumer definitions. Every arrow of the data flow is one of
 * these, so any role can die and resume where its acks (or checkpoint) left off.
 */
import {
  AckPolicy,
  DeliverPolicy,
  ReplayPolicy,
  type ConsumerConfig,
  type ConsumerInfo,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { isNotFound } from './topology.ts';
import type { PipelineMetrics, Logger } from '../observability/index.ts';

const NS = 1_000_000;

export interface DurableSpec {
  stream: string;
  name: string;
  filterSubject: string;
  /** How long a delivered, unacked message waits before redelivery. */
  ackWaitMs: number;
  maxAckPending: number;
}

function config(spec: DurableSpec): Partial<ConsumerConfig> {
  return {
    durable_name: spec.name,
    filter_subject: spec.filterSubject,
    ack_policy: AckPolicy.Explicit,
    ack_wait: spec.ackWaitMs * NS,
    max_ack_pending: spec.maxAckPending,
    max_deliver: -1,
    replay_policy: ReplayPolicy.Instant,
  };
}

/** Creates the durable consumer if missing (delivering from the start of the stream). */
export async function ensureDurable(jsm: JetStreamManager, spec: DurableSpec): Promise<void> {
  try {
    await jsm.consumers.info(spec.stream, spec.name);
    await jsm.consumers.update(spec.stream, spec.name, {
      ack_wait: spec.ackWaitMs * NS,
      max_ack_pending: spec.maxAckPending,
    });
  } catch (err) {
    if (!isNotFound(err))
      throw new Error(`cannot inspect consumer ${spec.stream}/${spec.name}: ${(err as Error).message}`, { cause: err });
    await jsm.consumers.add(spec.stream, { ...config(spec), deliver_policy: DeliverPolicy.All });
  }
}

/**
 * Recreates the durable consumer so delivery restarts exactly after `lastSeq`
 * in stream order. Processors do this at start: their checkpoint, not the
 * consumer's ack floor, says what is covered, and a replay in stream order is
 * what makes their outputs identical to those of a run without the restart.
 */
export async function resetDurable(jsm: JetStreamManager, spec: DurableSpec, lastSeq: number): Promise<void> {
  try {
    await jsm.consumers.delete(spec.stream, spec.name);
  } catch (err) {
    if (!isNotFound(err))
      throw new Error(`cannot reset consumer ${spec.stream}/${spec.name}: ${(err as Error).message}`, { cause: err });
  }
  await jsm.consumers.add(spec.stream, {
    ...config(spec),
    ...(lastSeq > 0
      ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: lastSeq + 1 }
      : { deliver_policy: DeliverPolicy.All }),
  });
}

/**
 * The consumers of a stream as they stand. The server's list may hold an
 * empty entry for a consumer deleted while it was being listed (seen while
 * new partition owners remove their predecessors' consumers): skipped.
 */
export async function listConsumers(jsm: JetStreamManager, stream: string): Promise<ConsumerInfo[]> {
  const out: ConsumerInfo[] = [];
  for await (const info of jsm.consumers.list(stream)) if (info) out.push(info);
  return out;
}

/**
 * Deletes the consumers named `{prefix}…` other than `keep`: those of earlier
 * owners of a partition. A stale owner's pull then ends instead of sharing
 * the new owner's messages.
 */
export async function removeOtherConsumers(
  jsm: JetStreamManager,
  stream: string,
  prefix: string,
  keep: string,
): Promise<string[]> {
  const removed: string[] = [];
  for (const info of await listConsumers(jsm, stream)) {
    const name = info.name;
    if (name === keep || (name !== prefix && !name.startsWith(`${prefix}_`))) continue;
    if (await deleteConsumer(jsm, stream, name)) removed.push(name);
  }
  return removed;
}

/** Deletes a consumer; false when it was gone already. */
export async function deleteConsumer(jsm: JetStreamManager, stream: string, name: string): Promise<boolean> {
  try {
    await jsm.consumers.delete(stream, name);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/** Messages of the filter not yet delivered plus delivered but unacked. */
export async function consumerLag(jsm: JetStreamManager, stream: string, name: string): Promise<number> {
  const info = await jsm.consumers.info(stream, name);
  return info.num_pending + info.num_ack_pending;
}

/**
 * Reports the consumer's lag to the metrics every few seconds until the
 * returned stop is called, which also withdraws the series: a process that
 * no longer consumes (a partition handed over) must not go on exporting the
 * last lag it saw, which the new owner exports too.
 */
export function watchConsumerLag(
  jsm: JetStreamManager,
  spec: DurableSpec,
  metrics: PipelineMetrics,
  log: Logger,
  everyMs = 5000,
  label = spec.name,
): () => void {
  let watching = true;
  const timer = setInterval(() => {
    consumerLag(jsm, spec.stream, spec.name).then(
      (lag) => watching && metrics.consumerLag.set({ consumer: label }, lag),
      (err) => log.debug({ err: String(err) }, 'consumer lag unavailable'),
    );
  }, everyMs);
  return () => {
    watching = false;
    clearInterval(timer);
    metrics.consumerLag.remove({ consumer: label });
  };
}
