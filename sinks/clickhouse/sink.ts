/**
 * The ClickHouse sink: consumes a stream (TG_RAW, TG_DERIVED or TG_DLQ),
 * encodes each message's rows at once into the pending insert of its table
 * (RowBinary bytes; the decoded events are let go), sends the inserts when
 * they are big enough or old enough, each with a deduplication token, then
 * acks their messages. Writes are idempotent (ReplacingMergeTree
 * keys on event ids, argMax/Replacing serving tables), so a redelivery after a
 * crash cannot double anything.
 *
 * ClickHouse failures are retried with backoff for as long as the role runs
 * (the messages stay unacked meanwhile); a batch that ClickHouse rejects for
 * its content is split per message and the rejected messages dead-lettered.
 *
 * Rows of forgotten channels (`tgpulse channels forget`) are left out as
 * messages are added, and each write first checks its rows against the
 * register again: a channel forgotten meanwhile is taken out before the write.
 */
import type { JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import { type TgEvent, decodeBatch, batchId, parseSubject } from '../../streams/contract/index.ts';
import {
  type DurableSpec,
  DeadLetterPublisher,
  deadLetterRecord,
  type DeadLetterRecord,
  type ForgottenLookup,
  CooperativeSlice,
  runConsumer,
  startBatchSpan,
  startMessageSpan,
  type StreamsConfig,
} from '../../streams/index.ts';
import type { Span } from '@opentelemetry/api';
import { withRetry } from '../../common/index.ts';
import { isContentError, type Warehouse, RowEncodeError, type TableInsert } from '../../clickhouse/index.ts';
import type { Logger, PipelineMetrics } from '../../observability/index.ts';
import { DEAD_LETTERS_TABLE, deadLetterRow, tableFor, toRow, type TableRow } from './encoder.ts';

export type SinkSource = 'raw' | 'derived' | 'dlq';

export interface SinkConfig {
  /** An insert is sent once the sink holds this many rows (all its tables together). */
  insertRows: number;
  /** …or this many encoded bytes. */
  insertBytes: number;
  /** …or once its oldest row has waited this long, ms: the floor of freshness at low rates. */
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

/**
 * Big inserts: the engine's cost per row falls steeply with the rows per
 * insert (measured on the local server, raw_post_counters with its views,
 * warehouse CPU per row: 31 µs at 2k rows, 15 µs at 10k, 7.7 µs at 50k,
 * 3.6 µs at 150k), since every insert makes a part per table and view that
 * must later be merged.
 */
export const defaultSinkConfig: SinkConfig = {
  insertRows: 100_000,
  insertBytes: 32 * 1024 * 1024,
  maxWaitMs: 500,
  ackWaitMs: 30_000,
  maxDeliveries: 20,
};

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
  /** The register of forgotten channels, whose rows are not written (none when omitted). */
  forgotten?: ForgottenLookup;
}

export function sinkConsumer(
  streams: StreamsConfig,
  source: SinkSource,
  sink: SinkConfig = defaultSinkConfig,
): DurableSpec {
  const stream =
    source === 'raw' ? streams.names.raw : source === 'derived' ? streams.names.derived : streams.names.dlq;
  return {
    stream,
    name: `sink_${source}`,
    filterSubject: `tg.${source}.>`,
    ackWaitMs: sink.ackWaitMs,
    maxAckPending: 200_000,
  };
}

/** What one message becomes: rows per table, what is dead-lettered instead of stored, and what is dropped. */
interface MessageRows {
  rows: Array<{ table: string; row: TableRow; event: TgEvent | DeadLetterRecord }>;
  rejected: DeadLetterRecord[];
  /** Events (or the dead letter) of forgotten channels. */
  dropped: number;
}

/** Runs the sink for one stream until the signal aborts; what it holds is written and acked first. */
export async function runSink(opts: SinkOptions): Promise<void> {
  const stage = `sink_${opts.source}`;
  const log = opts.log.child({ role: 'sink', source: opts.source });
  const spec = sinkConsumer(opts.streams, opts.source, opts.sink);
  const dlq = new DeadLetterPublisher(opts.js, opts.metrics, opts.signal);
  const pending = new PendingInsert(opts, stage, log);
  const flush = () => writePending(pending, opts, dlq, stage, log);
  await runConsumer(
    {
      js: opts.js,
      jsm: opts.jsm,
      spec,
      stage,
      log,
      metrics: opts.metrics,
      signal: opts.signal,
      maxBatch: 1000,
      // The three sinks share a connection (see cli/roles.ts): 3 × (8 MiB buffered + 32 messages in flight).
      maxBatchBytes: 4 * 1024 * 1024,
      maxPull: 32,
      maxWaitMs: Math.min(100, opts.sink.maxWaitMs),
      // Wake often enough to send a waiting insert on time when input stops.
      idleMs: Math.max(10, Math.floor(opts.sink.maxWaitMs / 2)),
    },
    {
      async handle(batch) {
        // Decoding thousands of messages is seconds of work: let the loop breathe in between.
        const slice = new CooperativeSlice();
        for (const m of batch) {
          await pending.add(m);
          await slice.pause();
        }
        // An empty batch means nothing arrived for a while: no backlog, whatever the last message said.
        if (!batch.length) pending.caughtUp();
        if (pending.due()) await flush();
      },
      drain: flush,
    },
  );
  log.info('sink drained');
}

/** Longest wait between two attempts to write while the warehouse is down. */
const RETRY_CAP_MS = 5_000;

/** How much longer than `maxWaitMs` an insert may keep growing while a backlog remains. */
const BACKLOG_WAIT_FACTOR = 4;

/**
 * The insert a sink is building: rows of many messages, encoded per table as
 * they arrive, and the messages to ack once it is written.
 */
class PendingInsert {
  readonly inserts = new Map<string, TableInsert>();
  messages: JsMsg[] = [];
  /** One per message, continuing its trace until the insert holding it is written. */
  spans: Span[] = [];
  rejected: DeadLetterRecord[] = [];
  /** Each channel with rows here, and the sequence of its first message: what the register is asked about. */
  readonly channels = new Map<string, number>();
  /** The register's version when the rows were last checked against it (null: not yet). */
  checkedVersion: number | null = null;
  #since: number | null = null;
  /** Messages the consumer still had for us after the last one added. */
  #backlog = 0;

  constructor(
    private readonly opts: SinkOptions,
    private readonly stage: string,
    private readonly log: Logger,
  ) {}

  async add(m: JsMsg): Promise<void> {
    // The oldest check decides: rows added under an older register may hold a channel forgotten since.
    if (this.messages.length === 0) this.checkedVersion = this.opts.forgotten?.version ?? null;
    const { rows, rejected, dropped } = rowsOf(m, this.opts, this.stage);
    if (dropped) this.opts.metrics.forgottenDropped.inc({ stage: this.stage }, dropped);
    await this.#addRows(m, rows, rejected);
    this.rejected.push(...rejected);
    this.messages.push(m);
    this.spans.push(startMessageSpan(`sink ${m.info.stream}`, m, { 'tgpulse.sink': this.stage }));
    this.#since ??= Date.now();
    this.#backlog = m.info.pending;
  }

  /**
   * Encodes the rows of every message again, as the register says now; returns how many rows that
   * left out. Rows that could not be encoded were set aside when first added.
   */
  async rebuild(): Promise<number> {
    const before = this.rows;
    this.inserts.clear();
    this.channels.clear();
    for (const m of this.messages) await this.#addRows(m, rowsOf(m, this.opts, this.stage).rows, []);
    this.checkedVersion = this.opts.forgotten?.version ?? null;
    return before - this.rows;
  }

  /** Rows held, all tables together. */
  get rows(): number {
    let n = 0;
    for (const i of this.inserts.values()) n += i.rows;
    return n;
  }

  async #addRows(m: JsMsg, rows: MessageRows['rows'], rejected: DeadLetterRecord[]): Promise<void> {
    for (const r of rows) {
      let insert = this.inserts.get(r.table);
      if (!insert) {
        // Describes the table the first time: ClickHouse may be down right then, like for any write.
        insert = await untilWritten(
          () => this.opts.warehouse.startInsert(r.table),
          { table: r.table },
          this.opts,
          this.stage,
          this.log,
        );
        this.inserts.set(r.table, insert);
      }
      try {
        insert.add(r.row);
      } catch (err) {
        if (!(err instanceof RowEncodeError)) throw err;
        // Valid by the contract but not storable as it is: that event alone is set aside.
        rejected.push(
          deadLetterRecord(
            origin(m, this.stage),
            { reason: 'write_rejected', detail: `${r.table}: ${err.message}`, payload: r.event },
            rejected.length,
          ),
        );
        continue;
      }
      const channel = r.event.channel_id;
      if (channel !== null && !this.channels.has(channel)) this.channels.set(channel, m.seq);
    }
  }

  /**
   * Time to send: big enough, or its oldest row waited long enough. While
   * the stream holds more for us (a backlog) the insert keeps growing for up
   * to {@link BACKLOG_WAIT_FACTOR} waits: bigger inserts are how the sink
   * catches up; once caught up, the wait alone decides (freshness).
   */
  due(): boolean {
    if (this.#since === null) return false;
    let bytes = 0;
    for (const i of this.inserts.values()) bytes += i.bytes;
    if (this.rows >= this.opts.sink.insertRows || bytes >= this.opts.sink.insertBytes) return true;
    const waited = Date.now() - this.#since;
    return waited >= this.opts.sink.maxWaitMs * (this.#backlog > 0 ? BACKLOG_WAIT_FACTOR : 1);
  }

  caughtUp(): void {
    this.#backlog = 0;
  }

  clear(): void {
    this.inserts.clear();
    this.channels.clear();
    this.checkedVersion = null;
    this.messages = [];
    this.spans = [];
    this.rejected = [];
    this.#since = null;
  }
}

function origin(m: JsMsg, stage: string) {
  return { stage, stream: m.info.stream, subject: m.subject, seq: m.seq, receivedAt: Date.now() };
}

function rowsOf(m: JsMsg, opts: SinkOptions, stage: string): MessageRows {
  if (m.info.deliveryCount > opts.sink.maxDeliveries) {
    const rec = deadLetterRecord(
      origin(m, stage),
      {
        reason: 'redelivery_limit',
        detail: `delivered ${m.info.deliveryCount} times without being written`,
        payload: Buffer.from(m.data).toString('utf8'),
      },
      0,
      m.data.byteLength,
    );
    return { rows: [], rejected: [rec], dropped: 0 };
  }
  const forgotten = (channelId: string | null) =>
    channelId !== null && opts.forgotten?.isForgotten(channelId, opts.source, m.seq) === true;
  if (opts.source === 'dlq') {
    let rec: DeadLetterRecord;
    try {
      rec = JSON.parse(Buffer.from(m.data).toString('utf8')) as DeadLetterRecord;
    } catch (err) {
      // A dead letter we cannot read is still kept, as text, under its own reason.
      rec = deadLetterRecord(
        { ...origin(m, stage), stream: opts.streams.names.dlq },
        {
          reason: 'malformed_json',
          detail: String((err as Error).message),
          payload: Buffer.from(m.data).toString('utf8'),
        },
        0,
      );
    }
    if (forgotten(rec.channel_id)) return { rows: [], rejected: [], dropped: 1 };
    return { rows: [{ table: DEAD_LETTERS_TABLE, row: deadLetterRow(rec), event: rec }], rejected: [], dropped: 0 };
  }
  // Invalid raw input is dead-lettered by the processor (the decode stage); the sink only counts it.
  const decoded = decodeBatch(m.data, {
    maxMessageBytes: opts.streams.maxMessageBytes,
    layer: opts.source,
    subject: parseSubject(m.subject),
    partitions: opts.streams.partitions,
  });
  if (decoded.failures.length)
    opts.metrics.events.inc({ stage, kind: 'unknown', outcome: 'invalid' }, decoded.failures.length);
  const out: MessageRows = { rows: [], rejected: [], dropped: 0 };
  decoded.events.forEach((e: TgEvent, i) => {
    if (forgotten(e.channel_id)) {
      out.dropped++;
      return;
    }
    try {
      out.rows.push({ table: tableFor(e.kind), row: toRow(e), event: e });
    } catch (err) {
      // Valid by the contract but not storable (e.g. a date outside DateTime64's range).
      out.rejected.push(
        deadLetterRecord(
          origin(m, stage),
          { reason: 'write_rejected', detail: String((err as Error).message), payload: e },
          i,
        ),
      );
    }
  });
  return out;
}

/**
 * Deduplication token of one table's rows from a set of messages: derived
 * from the messages' stream sequences (cheap), so a retry of the same insert
 * writes nothing twice; an insert formed differently after a restart gets a
 * new token and its duplicates collapse in the ReplacingMergeTree instead.
 */
function dedupToken(table: string, messages: readonly JsMsg[]): string {
  return batchId(
    table,
    messages.map((m) => `${m.info.stream}:${m.seq}`),
  );
}

/** Writes every table of the pending insert (retrying while ClickHouse is down), dead-letters the rejects, acks. */
async function writePending(
  pending: PendingInsert,
  opts: SinkOptions,
  dlq: DeadLetterPublisher,
  stage: string,
  log: Logger,
): Promise<void> {
  if (!pending.messages.length) return;
  // The messages wait for the whole write, however long ClickHouse is away: keep them ours.
  const heartbeat = setInterval(
    () => {
      for (const m of pending.messages) m.working();
    },
    Math.max(500, Math.floor(opts.sink.ackWaitMs / 3)),
  );
  try {
    for (const table of [...pending.inserts.keys()]) {
      // The server driver already retries transient failures a few times; what
      // still fails here is either bad content or a ClickHouse that is down.
      const span = startBatchSpan(`insert ${table}`, pending.messages, {
        'db.system': 'clickhouse',
        'db.collection.name': table,
        'db.operation.name': 'INSERT',
        'tgpulse.rows': pending.inserts.get(table)?.rows ?? 0,
        'messaging.batch.message_count': pending.messages.length,
      });
      await untilWritten(
        async () => {
          // Checked, then written: each attempt takes out a channel forgotten since the rows were added.
          await leaveOutForgotten(pending, opts, stage);
          const insert = pending.inserts.get(table);
          if (!insert) return;
          try {
            await sendTable(insert, dedupToken(insert.table, pending.messages), opts);
          } catch (err) {
            if (!isContentError(err)) throw err;
            log.error(
              { err: String(err), table: insert.table },
              'ClickHouse rejected the insert; writing message by message',
            );
            await isolateRejected(insert.table, pending.messages, opts, dlq, stage);
          }
        },
        { table, rows: pending.inserts.get(table)?.rows },
        opts,
        stage,
        log,
      ).finally(() => span.end());
    }
    if (pending.rejected.length) await dlq.send(pending.rejected);
  } finally {
    clearInterval(heartbeat);
  }
  // Queryable from now on: how long each message took from JetStream to here is the data's freshness.
  const now = Date.now();
  for (const m of pending.messages) {
    m.ack();
    const publishedMs = m.info.timestampNanos / 1e6;
    opts.metrics.dataFreshness.observe({ stream: m.info.stream }, Math.max(0, now - publishedMs) / 1000);
  }
  for (const span of pending.spans) span.end();
  opts.metrics.batchSize.observe(
    { stage: `${stage}_insert` },
    [...pending.inserts.values()].reduce((n, i) => n + i.rows, 0),
  );
  pending.clear();
}

/**
 * Takes the rows of channels forgotten since they were added out of the
 * pending insert (rebuilding it from its messages), counted as dropped.
 * Costs nothing while the register has not changed.
 */
async function leaveOutForgotten(pending: PendingInsert, opts: SinkOptions, stage: string): Promise<void> {
  const register = opts.forgotten;
  if (!register || register.version === pending.checkedVersion) return;
  let stale = false;
  for (const [channel, seq] of pending.channels) stale ||= register.isForgotten(channel, opts.source, seq);
  pending.checkedVersion = register.version;
  if (!stale) return;
  const dropped = await pending.rebuild();
  if (dropped) opts.metrics.forgottenDropped.inc({ stage }, dropped);
}

/**
 * Retries a warehouse call for as long as the sink runs: what still fails
 * after the driver's own retries is a ClickHouse that is down (content errors
 * are handled by the caller), and the messages stay unacked meanwhile. The
 * wait between attempts is capped at {@link RETRY_CAP_MS}: each attempt is
 * one cheap request, and a longer cap only delays the catch-up once the
 * warehouse is back (a 30 s cap cost up to 30 s after a 60 s outage).
 */
function untilWritten<T>(
  call: () => Promise<T>,
  what: { table: string; rows?: number },
  opts: SinkOptions,
  stage: string,
  log: Logger,
): Promise<T> {
  return withRetry(call, {
    attempts: Infinity,
    baseMs: 500,
    maxMs: RETRY_CAP_MS,
    signal: opts.signal,
    onRetry: (err, attempt, waitMs) => {
      opts.metrics.errors.inc({ stage, error: 'insert' });
      log.error(
        { err: String(err), ...what, attempt, waitMs },
        'ClickHouse insert failed; retrying (nothing is acked meanwhile)',
      );
    },
  });
}

async function sendTable(insert: TableInsert, token: string, opts: SinkOptions): Promise<void> {
  const started = process.hrtime.bigint();
  await opts.warehouse.sendInsert(insert, { dedupToken: token });
  opts.metrics.flushSeconds.observe({ table: insert.table }, Number(process.hrtime.bigint() - started) / 1e9);
  opts.metrics.events.inc({ stage: 'sink', kind: insert.table, outcome: 'ok' }, insert.rows);
}

/** Writes a rejected insert again message by message and dead-letters the messages ClickHouse refuses. */
async function isolateRejected(
  table: string,
  messages: readonly JsMsg[],
  opts: SinkOptions,
  dlq: DeadLetterPublisher,
  stage: string,
): Promise<void> {
  for (const m of messages) {
    const insert = await opts.warehouse.startInsert(table);
    for (const r of rowsOf(m, opts, stage).rows) {
      if (r.table !== table) continue;
      try {
        insert.add(r.row);
      } catch (err) {
        // Already set aside when the message was first added.
        if (!(err instanceof RowEncodeError)) throw err;
      }
    }
    try {
      await sendTable(insert, dedupToken(table, [m]), opts);
    } catch (err) {
      if (!isContentError(err)) throw err;
      const rec = deadLetterRecord(
        origin(m, stage),
        {
          reason: 'write_rejected',
          detail: `${table}: ${String((err as Error).message).slice(0, 500)}`,
          payload: Buffer.from(m.data).toString('utf8'),
        },
        0,
        m.data.byteLength,
      );
      await dlq.send([rec]);
    }
  }
}
