/**
 * The consumer runner: the one consume → handle → ack loop every role runs
 * (processor partitions, sinks, the alert notifier). It owns the durable
 * consumer (created, or recreated at a sequence), the pulling with restart,
 * batch and lag metrics, "still working" heartbeats while a batch is handled,
 * idle ticks, and a clean stop. A role is only a handler: what to do with a
 * batch, and when its effects are durable enough to ack.
 *
 * ```ts
 * await runConsumer({ js, jsm, spec, stage: 'sink_raw', log, metrics, signal, maxBatch: 2000, maxWaitMs: 100 }, {
 *   async handle(batch) { await write(batch); for (const m of batch) m.ack(); },
 * });
 * ```
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import { ensureDurable, resetDurable, watchConsumerLag, type DurableSpec } from './consumers.ts';
import { BatchPuller } from './puller.ts';
import { reportRetry, retryNats } from './nats-errors.ts';
import type { Logger, PipelineMetrics } from '../observability/index.ts';

export interface ConsumerHandler {
  /**
   * Handles one batch; empty when nothing arrived within the idle interval
   * (time for idle work such as a checkpoint). Acks are the handler's, once
   * the batch's effects are durable. Throwing ends the run with that error.
   */
  handle(batch: JsMsg[]): Promise<void>;
  /** Called once after the last batch, also on a stop: finish and ack what is in hand. */
  drain?(): Promise<void>;
}

export interface ConsumerRunOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  spec: DurableSpec;
  /** Label of metrics and logs, e.g. `sink_raw` or `process`. */
  stage: string;
  log: Logger;
  metrics: PipelineMetrics;
  signal: AbortSignal;
  maxBatch: number;
  /**
   * Payload bytes of a batch, and half of what may wait in the client
   * (default 8 MiB). With `maxPull` it bounds what a consumer holds: together,
   * the consumers of one connection must stay well below the server's
   * slow-consumer limit (64 MiB by default), or it drops the connection.
   */
  maxBatchBytes?: number;
  /** Messages requested per pull (default 64). */
  maxPull?: number;
  /** Longest wait for a batch to fill once it has a message. */
  maxWaitMs: number;
  /** An empty batch is handed over when nothing arrived for this long (default 1 s). */
  idleMs?: number;
  /**
   * Delivery restarts just after this stream sequence in stream order: the
   * consumer is recreated there (a checkpoint, not the ack floor, says what is
   * done). Without it the durable consumer resumes at its ack floor.
   */
  startAfterSeq?: number;
  /** Label of the consumer-lag gauge (default the consumer's name). */
  lagLabel?: string;
}

/** Runs until the signal aborts or the handler throws; the batch in hand is finished first. */
export async function runConsumer(opts: ConsumerRunOptions, handler: ConsumerHandler): Promise<void> {
  const { spec, stage, log, metrics, signal } = opts;
  const onRetry = reportRetry(metrics, log, { stage, error: 'nats_retry' }, 'NATS request failed; retrying', {
    consumer: spec.name,
  });
  await retryNats(
    () =>
      opts.startAfterSeq === undefined
        ? ensureDurable(opts.jsm, spec)
        : resetDurable(opts.jsm, spec, opts.startAfterSeq),
    { signal, onRetry },
  );
  const consumer = await retryNats(() => opts.js.consumers.get(spec.stream, spec.name), { signal, onRetry });
  const puller = new BatchPuller(consumer, {
    maxBatch: opts.maxBatch,
    maxBatchBytes: opts.maxBatchBytes,
    maxPull: opts.maxPull,
    maxWaitMs: opts.maxWaitMs,
    signal,
    onRestart: (n) => {
      metrics.errors.inc({ stage, error: 'delivery_restarted' });
      log.warn({ restarts: n, consumer: spec.name }, 'consumer delivery ended unexpectedly; restarted');
    },
  });
  await puller.start();
  const stopLagWatch = watchConsumerLag(opts.jsm, spec, metrics, log, 5000, opts.lagLabel);
  // Below the ack wait, so a slow handler (ClickHouse down, Telegram throttling) keeps its messages.
  const heartbeatMs = Math.max(500, Math.floor(spec.ackWaitMs / 3));
  try {
    while (!signal.aborted) {
      const batch = await puller.next(opts.idleMs ?? 1000);
      if (signal.aborted && !batch.length) break;
      if (!batch.length && puller.stopped) throw new Error(`consumer ${spec.stream}/${spec.name} stopped delivering`);
      if (batch.length) metrics.batchSize.observe({ stage }, batch.length);
      const heartbeat = batch.length
        ? setInterval(() => {
            for (const m of batch) m.working();
          }, heartbeatMs)
        : null;
      try {
        await handler.handle(batch);
      } finally {
        if (heartbeat) clearInterval(heartbeat);
      }
    }
    await handler.drain?.();
  } finally {
    stopLagWatch();
    await puller.close();
  }
}

/**
 * Lets timers and I/O run (lease renewals, pull heartbeats, acks) once
 * `sliceMs` of work has passed since the last pause. Handlers call it between
 * messages of a big batch: awaiting work that completes at once does not, and
 * a loop held for seconds makes NATS clients think the server went quiet and
 * restart their pulls.
 */
export class CooperativeSlice {
  #since = performance.now();
  constructor(private readonly sliceMs = 20) {}

  async pause(): Promise<void> {
    if (performance.now() - this.#since < this.sliceMs) return;
    await yieldToLoop();
    this.#since = performance.now();
  }
}
