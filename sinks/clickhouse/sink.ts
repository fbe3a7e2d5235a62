/**
 * The ClickHouse sink: consumes a stream (TG_RAW, TG_DERIVED or TG_DLQ),
 * batches by size and time, writes each table's rows in one insert with a
 * deduplication token, then acks. Writes are idempotent (ReplacingMergeTree
 * keys on event ids, argMax/Replacing serving tables), so a redelivery after a
 * crash cannot double anything.
 *
 * ClickHouse failures are retried with backoff for as long as the role runs
 * (the messages stay unacked meanwhile); a batch that ClickHouse rejects for
 * its content is split per message and the rejected messages dead-lettered.
 */
import type { JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import type { TgEvent } from '../../streams/contract.ts';
import { decodeBatch } from '../../streams/codec.ts';
import type { DurableSpec } from '../../streams/consumers.ts';
import { DeadLetterPublisher, deadLetterRecord, type DeadLetterRecord } from '../../streams/dlq.ts';
import { batchId } from '../../streams/ids.ts';
import { CooperativeSlice, runConsumer } from '../../streams/runner.ts';
import { parseSubject } from '../../streams/subjects.ts';
import { withRetry } from '../../streams/retry.ts';
import type { StreamsConfig } from '../../streams/config.ts';
import { isContentError } from '../../clickhouse/errors.ts';
import type { Warehouse } from '../../clickhouse/warehouse.ts';
import type { Logger } from '../../observability/log.ts';
import type { PipelineMetrics } from '../../observability/metrics.ts';
import { deadLetterRow, tableFor, toRow } from './encoder.ts';

export type SinkSource = 'raw' | 'derived' | 'dlq';

export interface SinkConfig {
  /** Messages per batch (each message holds a batch of events). */
  maxBatchMessages: number;
  /** Longest wait for a batch to fill once it has a message, ms. */
  maxWaitMs: number;
  /**
   * Redelivery delay of messages a dead sink held. Short, so a restarted sink
   * resumes quickly; a long write keeps its messages with `working()` heartbeats.
   */
  ackWaitMs: number;
  /**
   * A message delivered this many times (its sink died on it again and again)
   * is dead-lettered instead of being tried once more: poison protection.
   */
  maxDeliveries: number;
}

export const defaultSinkConfig: SinkConfig = { maxBatchMessages: 2000, maxWaitMs: 100, ackWaitMs: 30_000, maxDeliveries: 20 };

export interface SinkOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  warehouse: Warehouse;
  streams: StreamsConfig;
  sink: SinkConfig;
  source: SinkSource;
  log: Logger;
  metrics: PipelineMetrics;
  signal: AbortSignal;
}

export function sinkConsumer(streams: StreamsConfig, source: SinkSource, sink: SinkConfig = defaultSinkConfig): DurableSpec {
  const stream = source === 'raw' ? streams.names.raw : source === 'derived' ? streams.names.derived : streams.names.dlq;
  return { stream, name: `sink_${source}`, filterSubject: `tg.${source}.>`, ackWaitMs: sink.ackWaitMs, maxAckPending: 200_000 };
}

interface Prepared {
  msg: JsMsg;
  rows: Array<{ table: string; row: Record<string, unknown>; id: string }>;
  /** Events the encoder refused, dead-lettered before the message is acked. */
  rejected?: DeadLetterRecord[];
}

/** Runs the sink for one stream until the signal aborts; the batch in hand is written and acked first. */
export async function runSink(opts: SinkOptions): Promise<void> {
  const stage = `sink_${opts.source}`;
  const log = opts.log.child({ role: 'sink', source: opts.source });
  const spec = sinkConsumer(opts.streams, opts.source, opts.sink);
  const dlq = new DeadLetterPublisher(opts.js, opts.metrics, opts.signal);
  await runConsumer(
    { js: opts.js, jsm: opts.jsm, spec, stage, log, metrics: opts.metrics, signal: opts.signal, maxBatch: opts.sink.maxBatchMessages, maxWaitMs: opts.sink.maxWaitMs },
    {
      async handle(batch) {
        if (!batch.length) return;
        // Decoding thousands of messages is seconds of work: let the loop breathe in between.
        const slice = new CooperativeSlice();
        const prepared: Prepared[] = [];
        for (const m of batch) {
          prepared.push(prepare(m, opts, stage));
          await slice.pause();
        }
        await writeBatch(prepared, opts, dlq, stage, log);
        const rejected = prepared.flatMap((p) => p.rejected ?? []);
        if (rejected.length) await dlq.send(rejected);
        for (const p of prepared) p.msg.ack();
      },
    },
  );
  log.info('sink drained');
}

function prepare(m: JsMsg, opts: SinkOptions, stage: string): Prepared {
  if (m.info.deliveryCount > opts.sink.maxDeliveries) {
    const rec = deadLetterRecord(
      { stage, stream: m.info.stream, subject: m.subject, seq: m.seq, receivedAt: Date.now() },
      { reason: 'redelivery_limit', detail: `delivered ${m.info.deliveryCount} times without being written`, payload: Buffer.from(m.data).toString('utf8') },
      0,
      m.data.byteLength,
    );
    return { msg: m, rows: [], rejected: [rec] };
  }
  if (opts.source === 'dlq') {
    try {
      const rec = JSON.parse(Buffer.from(m.data).toString('utf8')) as DeadLetterRecord;
      return { msg: m, rows: [{ table: 'dead_letters', row: deadLetterRow(rec), id: rec.id }] };
    } catch (err) {
      // A dead letter we cannot read is still kept, as text, under its own reason.
      const rec = deadLetterRecord(
        { stage, stream: opts.streams.names.dlq, subject: m.subject, seq: m.seq, receivedAt: Date.now() },
        { reason: 'malformed_json', detail: String((err as Error).message), payload: Buffer.from(m.data).toString('utf8') },
        0,
      );
      return { msg: m, rows: [{ table: 'dead_letters', row: deadLetterRow(rec), id: rec.id }] };
    }
  }
  // Invalid raw input is dead-lettered by the processor (the decode stage); the sink only counts it.
  const decoded = decodeBatch(m.data, { maxMessageBytes: opts.streams.maxMessageBytes, layer: opts.source, subject: parseSubject(m.subject), partitions: opts.streams.partitions });
  if (decoded.failures.length) opts.metrics.events.inc({ stage, kind: 'unknown', outcome: 'invalid' }, decoded.failures.length);
  const rows: Prepared['rows'] = [];
  const rejected: DeadLetterRecord[] = [];
  decoded.events.forEach((e: TgEvent, i) => {
    try {
      rows.push({ table: tableFor(e.kind), row: toRow(e), id: e.id });
    } catch (err) {
      // Valid by the contract but not storable (e.g. a date outside DateTime64's range).
      rejected.push(
        deadLetterRecord(
          { stage, stream: m.info.stream, subject: m.subject, seq: m.seq, receivedAt: Date.now() },
          { reason: 'write_rejected', detail: String((err as Error).message), payload: e },
          i,
        ),
      );
    }
  });
  return { msg: m, rows, rejected };
}

function groupByTable(prepared: readonly Prepared[]): Map<string, Prepared['rows']> {
  const byTable = new Map<string, Prepared['rows']>();
  for (const p of prepared) {
    for (const r of p.rows) {
      let g = byTable.get(r.table);
      if (!g) byTable.set(r.table, (g = []));
      g.push(r);
    }
  }
  return byTable;
}

/**
 * Deduplication token of one table's rows from a set of messages: derived
 * from the messages' stream sequences (cheap), so a retry of the same batch
 * writes nothing twice; a batch formed differently after a restart gets a new
 * token and its duplicates collapse in the ReplacingMergeTree instead.
 */
function dedupToken(table: string, messages: readonly Prepared[]): string {
  return batchId(table, messages.map((p) => `${p.msg.info.stream}:${p.msg.seq}`));
}

async function insertTable(table: string, rows: Prepared['rows'], token: string, opts: SinkOptions): Promise<void> {
  const started = process.hrtime.bigint();
  await opts.warehouse.insertRows(
    table,
    rows.map((r) => r.row),
    { dedupToken: token },
  );
  opts.metrics.flushSeconds.observe({ table }, Number(process.hrtime.bigint() - started) / 1e9);
  opts.metrics.events.inc({ stage: 'sink', kind: table, outcome: 'ok' }, rows.length);
}

async function writeBatch(prepared: Prepared[], opts: SinkOptions, dlq: DeadLetterPublisher, stage: string, log: Logger): Promise<void> {
  for (const [table, rows] of groupByTable(prepared)) {
    // The server driver already retries transient failures a few times; what
    // still fails here is either bad content or a ClickHouse that is down.
    await withRetry(
      async () => {
        try {
          await insertTable(table, rows, dedupToken(table, prepared), opts);
        } catch (err) {
          if (!isContentError(err)) throw err;
          log.error({ err: String(err), table }, 'ClickHouse rejected the batch; writing message by message');
          await isolateRejected(table, prepared, opts, dlq, stage);
        }
      },
      {
        attempts: Infinity,
        baseMs: 500,
        maxMs: 30_000,
        signal: opts.signal,
        onRetry: (err, attempt, waitMs) => {
          opts.metrics.errors.inc({ stage, error: 'insert' });
          log.error({ err: String(err), table, rows: rows.length, attempt, waitMs }, 'ClickHouse insert failed; retrying (nothing is acked meanwhile)');
        },
      },
    );
  }
}

/** Writes a rejected batch message by message and dead-letters the messages ClickHouse refuses. */
async function isolateRejected(table: string, prepared: Prepared[], opts: SinkOptions, dlq: DeadLetterPublisher, stage: string): Promise<void> {
  for (const p of prepared) {
    const rows = p.rows.filter((r) => r.table === table);
    if (!rows.length) continue;
    try {
      await insertTable(table, rows, dedupToken(table, [p]), opts);
    } catch (err) {
      if (!isContentError(err)) throw err;
      const rec = deadLetterRecord(
        { stage, stream: p.msg.info.stream, subject: p.msg.subject, seq: p.msg.seq, receivedAt: Date.now() },
        { reason: 'write_rejected', detail: `${table}: ${String((err as Error).message).slice(0, 500)}`, payload: Buffer.from(p.msg.data).toString('utf8') },
        0,
        p.msg.data.byteLength,
      );
      await dlq.send([rec]);
    }
  }
}
