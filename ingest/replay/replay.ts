/**
 * Replaying a capture file (written by `record.ts`) into TG_RAW, so a real
 * capture re-runs through the pipeline.
 *
 * Events keep their ids and only their `source` becomes `replay`: the same
 * fact replayed twice deduplicates like any redelivery (Nats-Msg-Id within
 * the duplicate window, idempotent writes after it). Events are paced by
 * event time against the wall clock at a chosen speed, like the simulator.
 *
 * Order matters to the processors only within a partition (each owns whole
 * partitions and its outputs follow stream order), and the publisher groups a
 * publish by (kind, partition). A publish batch is therefore cut before an
 * event that grouping would move ahead of events read before it, so every
 * partition sees the capture's events in the capture's order.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { type RawEvent, type RawKind, partitionOf } from '../../streams/contract/index.ts';
import type { EventPublisher } from '../../streams/index.ts';
import type { Logger, PipelineMetrics } from '../../observability/index.ts';
import { EventTimePacer, type Sleep } from '../index.ts';
import { readEvents } from './jsonl.ts';

/** Stage label of the replay in logs and metrics. */
export const REPLAY_STAGE = 'replay';

/** Invalid lines kept in the report (all are counted and logged). */
export const MAX_REPORTED_INVALID = 100;

/** Events per publish at most; the publisher splits them further by size. */
const DEFAULT_MAX_BATCH_EVENTS = 2_000;

/** Publishes at unbounded speed between yields to the event loop. */
const YIELD_EVERY_BATCHES = 64;

export interface ReplayOptions {
  /** Capture file to replay. */
  file: string;
  /** Where events go; `publish` is awaited (backpressure), `flush` at the end. */
  publisher: Pick<EventPublisher, 'publish' | 'flush'>;
  /** Partition count P of the deployment: batches never reorder a partition's events. */
  partitions: number;
  /** Event-time ms per real ms: 1 is real time, Infinity as fast as publishing allows. */
  speed: number;
  /** Stops the replay; what was read is published and flushed first. */
  signal?: AbortSignal;
  log: Logger;
  metrics?: PipelineMetrics;
  /** Events per publish at most (default 2,000). */
  maxBatchEvents?: number;
  /** Longest accepted line (default jsonl.ts `MAX_LINE_BYTES`). */
  maxLineBytes?: number;
  /** Real clock and sleep of the pacing; tests pass fake ones. */
  clock?: () => number;
  sleep?: Sleep;
}

/** A capture line that was skipped, and why. */
export interface InvalidLine {
  line: number;
  error: string;
}

/** What a replay published. */
export interface ReplayStats {
  /** Events published. */
  events: number;
  /** Publish calls (each one or more NATS messages, one per kind and partition). */
  batches: number;
  /** The first {@link MAX_REPORTED_INVALID} invalid lines; they stay in the file. */
  invalid: InvalidLine[];
  /** Invalid lines in total. */
  invalidLines: number;
  /** Last line handled: published (or flushed at the end) or skipped as invalid; a stopped replay may resume after it. */
  lastLine: number;
  /** Event-time range of what was published (null when nothing was). */
  eventTimeFrom: number | null;
  eventTimeTo: number | null;
  /** Real time the replay took, by its clock. */
  elapsedMs: number;
  /** True when the signal stopped the replay (possibly before the end of the file). */
  aborted: boolean;
}

/**
 * Events gathered for one publish, cut so the publisher's grouping by
 * (kind, partition) keeps each partition's events in read order: within a
 * partition, kinds must form runs, so a kind that comes back after another
 * kind of the same partition starts a new batch.
 */
export class PartitionOrderedBatch {
  events: RawEvent[] = [];
  /** Per partition: the kind of its current run and the kinds whose runs ended. */
  #runs = new Map<number, { kind: RawKind; ended: Set<RawKind> }>();

  constructor(private readonly partitions: number) {}

  /** True when adding `e` would let the publisher move it ahead of events already in the batch. */
  wouldReorder(e: RawEvent): boolean {
    const run = this.#runs.get(partitionOf(e.channel_id, this.partitions));
    return run !== undefined && run.kind !== e.kind && run.ended.has(e.kind);
  }

  add(e: RawEvent): void {
    const p = partitionOf(e.channel_id, this.partitions);
    const run = this.#runs.get(p);
    if (!run) this.#runs.set(p, { kind: e.kind, ended: new Set() });
    else if (run.kind !== e.kind) {
      run.ended.add(run.kind);
      run.kind = e.kind;
    }
    this.events.push(e);
  }

  /** The gathered events; the batch starts over empty. */
  take(): RawEvent[] {
    const out = this.events;
    this.events = [];
    this.#runs.clear();
    return out;
  }
}

/**
 * Replays a capture into the publisher: events in file order, `source` set to
 * `replay`, paced by event time at `speed`, published in batches, flushed at
 * the end. Invalid lines are logged with their numbers, counted and skipped.
 *
 * ```ts
 * const stats = await replay({ file: 'capture.jsonl', publisher, partitions: 8, speed: Infinity, signal, log });
 * if (stats.invalidLines) log.warn({ invalid: stats.invalid }, 'some lines were skipped');
 * ```
 *
 * @throws CaptureFileError when the file cannot be read; publish failures propagate.
 */
export async function replay(opts: ReplayOptions): Promise<ReplayStats> {
  if (!(opts.speed > 0)) throw new RangeError(`replay speed must be > 0 or Infinity (got ${opts.speed})`);
  const log = opts.log.child({ role: REPLAY_STAGE, file: opts.file });
  const maxBatch = opts.maxBatchEvents ?? DEFAULT_MAX_BATCH_EVENTS;
  const realStart = (opts.clock ?? Date.now)();
  const stats: ReplayStats = {
    events: 0,
    batches: 0,
    invalid: [],
    invalidLines: 0,
    lastLine: 0,
    eventTimeFrom: null,
    eventTimeTo: null,
    elapsedMs: 0,
    aborted: false,
  };
  const batch = new PartitionOrderedBatch(opts.partitions);
  let pacer: EventTimePacer | null = null;
  let sinceYield = 0;

  const publishBatch = async (): Promise<void> => {
    if (!batch.events.length) return;
    const events = batch.take();
    await opts.publisher.publish(events);
    stats.batches++;
    stats.events += events.length;
    for (const e of events) {
      opts.metrics?.events.inc({ stage: REPLAY_STAGE, kind: e.kind, outcome: 'ok' });
      stats.eventTimeFrom = Math.min(stats.eventTimeFrom ?? e.event_time, e.event_time);
      stats.eventTimeTo = Math.max(stats.eventTimeTo ?? e.event_time, e.event_time);
    }
    // A publisher with room resolves at once: let timers and the abort signal in.
    if (!pacer?.paced && ++sinceYield >= YIELD_EVERY_BATCHES) {
      sinceYield = 0;
      await yieldToLoop();
    }
  };

  log.info({ speed: opts.speed }, 'replaying capture');
  for await (const read of readEvents(opts.file, { signal: opts.signal, maxLineBytes: opts.maxLineBytes })) {
    if (read.error !== undefined) {
      stats.lastLine = read.line;
      stats.invalidLines++;
      opts.metrics?.events.inc({ stage: REPLAY_STAGE, kind: 'unknown', outcome: 'invalid' });
      if (stats.invalid.length < MAX_REPORTED_INVALID) {
        stats.invalid.push({ line: read.line, error: read.error });
        log.warn({ line: read.line, error: read.error }, 'invalid capture line skipped (it stays in the file)');
      }
      continue;
    }
    const event = { ...read.event, source: 'replay' } as RawEvent;
    pacer ??= new EventTimePacer({
      speed: opts.speed,
      from: event.event_time,
      signal: opts.signal,
      clock: opts.clock,
      sleep: opts.sleep,
    });
    if (pacer.paced && pacer.delayUntil(event.event_time) > 0) {
      // Publish what is due before waiting, so pacing never holds back due events.
      await publishBatch();
      await pacer.waitUntil(event.event_time);
    }
    if (opts.signal?.aborted) break;
    if (batch.events.length >= maxBatch || batch.wouldReorder(event)) await publishBatch();
    batch.add(event);
    stats.lastLine = read.line;
  }
  stats.aborted = opts.signal?.aborted ?? false;
  await publishBatch();
  await opts.publisher.flush();
  stats.elapsedMs = (opts.clock ?? Date.now)() - realStart;
  if (stats.invalidLines > stats.invalid.length)
    log.warn({ invalidLines: stats.invalidLines, reported: stats.invalid.length }, 'more invalid lines than reported');
  log.info(
    {
      events: stats.events,
      batches: stats.batches,
      invalidLines: stats.invalidLines,
      lastLine: stats.lastLine,
      aborted: stats.aborted,
    },
    'replay finished',
  );
  return stats;
}
