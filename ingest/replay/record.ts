/**
 * Recording TG_RAW to a capture file: what the collectors published, one raw
 * event per line (see `jsonl.ts`), in stream order, so a real capture can be
 * replayed through the pipeline later (`replay.ts`).
 *
 * The recorder reads through an ordered consumer: ephemeral, unacknowledged,
 * in memory on the server and deleted when the recording stops, so it leaves
 * nothing behind and never competes with the pipeline's durable consumers.
 */
import { once } from 'node:events';
import { open, type FileHandle } from 'node:fs/promises';
import {
  DeliverPolicy,
  type ConsumerMessages,
  type JetStreamClient,
  type OrderedConsumerOptions,
} from '@nats-io/jetstream';
import { type RawEvent, decodeBatch, parseSubject } from '../../streams/contract/index.ts';
import type { StreamsConfig } from '../../streams/index.ts';
import type { Logger, PipelineMetrics } from '../../observability/index.ts';
import { encodeLine } from './jsonl.ts';

/** Stage label of the recorder in logs and metrics. */
export const RECORD_STAGE = 'record';

/**
 * Where in TG_RAW a recording starts: only what is published from now on,
 * everything the stream still holds, or what was stored from a time on (ms).
 */
export type RecordStart = 'new' | 'all' | number;

export interface RecordOptions {
  js: JetStreamClient;
  /** Stream name, partition count and message limit of the deployment. */
  streams: Pick<StreamsConfig, 'names' | 'partitions' | 'maxMessageBytes'>;
  /** Capture file to write. */
  file: string;
  /** Default `'new'`. */
  from?: RecordStart;
  /** Add to an existing capture instead of refusing to touch it (default false). */
  append?: boolean;
  /** Stop once no message arrived for this long (default: run until the signal aborts). */
  idleMs?: number;
  /** Stops the recording; the file is then completed, flushed and synced. */
  signal: AbortSignal;
  log: Logger;
  metrics?: PipelineMetrics;
}

/** Why a recording ends: the signal aborted, or nothing arrived for `idleMs`. */
export type RecordStop = 'signal' | 'idle';

/** What a recording wrote. */
export interface RecordStats {
  /** NATS messages read (each a batch of events). */
  messages: number;
  /** Events written, one line each. */
  events: number;
  /** Events that failed the contract and were not written (the pipeline dead-letters them). */
  invalid: number;
  /** Bytes written to the file. */
  bytes: number;
  /** Stream sequences of the first and last message read (null when none was). */
  firstSeq: number | null;
  lastSeq: number | null;
  /** Why the recording ended. */
  stoppedBy: RecordStop;
}

/** Subjects of every raw event, whatever partition or kind. */
const RAW_SUBJECTS = 'tg.raw.>';
/** Messages the consumer may buffer ahead of the writer (batches are up to a few hundred KiB). */
const MAX_BUFFERED_MESSAGES = 100;
/** The server forgets a recorder that vanished without deleting its consumer after this long. */
const INACTIVE_THRESHOLD_MS = 60_000;
const WRITE_BUFFER_BYTES = 1024 * 1024;

function consumerOptions(from: RecordStart): Partial<OrderedConsumerOptions> {
  const base = {
    name_prefix: `tgpulse_record_${process.pid}_${Date.now().toString(36)}`,
    filter_subjects: RAW_SUBJECTS,
    inactive_threshold: INACTIVE_THRESHOLD_MS,
  };
  if (from === 'new') return { ...base, deliver_policy: DeliverPolicy.New };
  if (from === 'all') return { ...base, deliver_policy: DeliverPolicy.All };
  return { ...base, deliver_policy: DeliverPolicy.StartTime, opt_start_time: new Date(from).toISOString() };
}

async function openCapture(file: string, append: boolean): Promise<FileHandle> {
  return open(file, append ? 'a' : 'wx').catch((err: NodeJS.ErrnoException) => {
    const why =
      err.code === 'EEXIST'
        ? 'it already exists; choose another file, remove it, or append to it'
        : err.code === 'ENOENT'
          ? 'its folder does not exist'
          : err.message;
    throw new Error(`cannot write capture ${file}: ${why}`, { cause: err });
  });
}

/**
 * Records raw events from TG_RAW into `file` until the signal aborts (or the
 * stream has been idle for `idleMs`). Each NATS message is decoded and
 * checked like the processors do; valid events are appended as whole lines,
 * invalid ones counted and logged. On stop the file is flushed and synced, so
 * its last line is complete.
 *
 * ```ts
 * const stats = await record({ js, streams: config.streams, file: 'capture.jsonl', from: 'all', idleMs: 2000, signal, log });
 * ```
 */
export async function record(opts: RecordOptions): Promise<RecordStats> {
  const from = opts.from ?? 'new';
  const log = opts.log.child({ role: RECORD_STAGE, file: opts.file });
  const stats: Omit<RecordStats, 'stoppedBy'> = {
    messages: 0,
    events: 0,
    invalid: 0,
    bytes: 0,
    firstSeq: null,
    lastSeq: null,
  };
  let stoppedBy: RecordStop | null = null;
  const file = await openCapture(opts.file, opts.append ?? false);
  const out = file.createWriteStream({ highWaterMark: WRITE_BUFFER_BYTES, autoClose: false });
  let writeError: unknown = null;
  out.on('error', (err) => (writeError ??= err));

  let messages: ConsumerMessages | null = null;
  let idleTimer: NodeJS.Timeout | null = null;
  const stop = (why: RecordStop) => {
    if (messages === null) return;
    stoppedBy ??= why;
    messages.stop();
  };
  const onAbort = () => stop('signal');
  const armIdle = () => {
    if (opts.idleMs === undefined) return;
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = setTimeout(() => stop('idle'), opts.idleMs);
  };

  const consumer = await opts.js.consumers
    .get(opts.streams.names.raw, consumerOptions(from))
    .catch(async (err: unknown) => {
      await file.close();
      throw new Error(`cannot read stream ${opts.streams.names.raw} to record it: ${(err as Error).message}`, {
        cause: err,
      });
    });
  try {
    messages = await consumer.consume({ max_messages: MAX_BUFFERED_MESSAGES });
    opts.signal.addEventListener('abort', onAbort, { once: true });
    if (opts.signal.aborted) stop('signal');
    log.info(
      { from: typeof from === 'number' ? new Date(from).toISOString() : from, idleMs: opts.idleMs },
      'recording TG_RAW',
    );
    armIdle();
    for await (const m of messages) {
      if (idleTimer) clearTimeout(idleTimer);
      stats.messages++;
      stats.firstSeq ??= m.seq;
      stats.lastSeq = m.seq;
      const decoded = decodeBatch(m.data, {
        maxMessageBytes: opts.streams.maxMessageBytes,
        subject: parseSubject(m.subject),
        partitions: opts.streams.partitions,
        layer: 'raw',
      });
      for (const f of decoded.failures) {
        stats.invalid++;
        opts.metrics?.events.inc({ stage: RECORD_STAGE, kind: 'unknown', outcome: 'invalid' });
        log.warn(
          { seq: m.seq, subject: m.subject, reason: f.reason, detail: f.detail },
          'event not recorded: it fails the contract (the pipeline dead-letters it)',
        );
      }
      if (decoded.events.length) {
        const events = decoded.events as RawEvent[];
        const text = events.map(encodeLine).join('');
        stats.events += events.length;
        stats.bytes += Buffer.byteLength(text);
        for (const e of events) opts.metrics?.events.inc({ stage: RECORD_STAGE, kind: e.kind, outcome: 'ok' });
        // Backpressure: a slow disk pauses the consumer instead of growing the buffer.
        if (!out.write(text)) await once(out, 'drain');
      }
      if (writeError) throw writeError;
      armIdle();
    }
    if (stoppedBy === null) {
      const cause = await messages.closed();
      throw new Error(
        `the consumer ended delivery unasked${cause ? ` (${cause.message})` : ''}; the file holds everything up to stream sequence ${stats.lastSeq ?? 'none'}`,
        { cause },
      );
    }
  } catch (err) {
    throw new Error(`recording to ${opts.file} failed after ${stats.events} events: ${(err as Error).message}`, {
      cause: err,
    });
  } finally {
    if (idleTimer) clearTimeout(idleTimer);
    opts.signal.removeEventListener('abort', onAbort);
    messages?.stop();
    await consumer.delete().catch((err: unknown) => log.debug({ err: String(err) }, 'recorder consumer already gone'));
    await closeCapture(file, out, () => writeError);
  }
  const done: RecordStats = { ...stats, stoppedBy: stoppedBy ?? 'signal' };
  log.info({ ...done }, 'recording stopped');
  return done;
}

/** Ends the buffered stream, then syncs and closes the file: every written line is on disk. */
async function closeCapture(
  file: FileHandle,
  out: ReturnType<FileHandle['createWriteStream']>,
  failed: () => unknown,
): Promise<void> {
  try {
    if (!failed()) {
      out.end();
      await once(out, 'finish');
      await file.sync();
    }
  } finally {
    out.destroy();
    await file.close().catch(() => undefined);
  }
}
