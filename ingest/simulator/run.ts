/**
 * The live driver of the simulator: it replays simulated time against the
 * wall clock at a chosen speed and hands each batch to an injected publisher.
 *
 * Publishing is injected so the simulator never depends on NATS: the ingest
 * role passes the JetStream publisher, tests pass an array push. Awaiting
 * `publish` gives backpressure, so at `speed: Infinity` the producer runs as
 * fast as the pipeline accepts and no faster.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { EventTimePacer, type Sleep } from '../index.ts';
import type { SimBatch } from './channel.ts';
import type { Simulator } from './simulator.ts';

export type { Sleep } from '../index.ts';

/** What {@link runSimulator} drives and where the batches go. */
export interface RunSimulatorOptions {
  sim: Simulator;
  /** Simulated ms per real ms: 1 is real time, 60 a minute per second, Infinity as fast as publishing allows. */
  speed: number;
  /** Stops the run; the batch being published is finished first. */
  signal?: AbortSignal;
  /** Sends one batch (one NATS message); awaited before the next. */
  publish: (batch: SimBatch) => Promise<void>;
  /** Real clock in ms (default `Date.now`); tests pass a fake one together with `sleep`. */
  clock?: () => number;
  sleep?: Sleep;
}

/** What a run published, for logs and metrics. */
export interface RunStats {
  batches: number;
  events: number;
  /**
   * Simulated time the run started from and reached: the end of the last
   * completed tick, or the time of the last published batch when aborted.
   * An aborted simulator is not resumable (the rest of its tick is dropped).
   */
  simulatedFrom: number;
  simulatedUntil: number;
  /** Real time the run took, by `clock`. */
  elapsedMs: number;
  /** True when the signal ended the run before the simulation's end. */
  aborted: boolean;
}

/** A publish failure, with the batch it concerned; `cause` holds the publisher's error. */
export class SimulatorPublishError extends Error {
  override readonly name = 'SimulatorPublishError';
  constructor(
    message: string,
    readonly batch: SimBatch,
    options: { cause: unknown },
  ) {
    super(message, options);
  }
}

/** Batches published between yields to the event loop at unbounded speed. */
const YIELD_EVERY_BATCHES = 256;

/**
 * Runs the simulator until its end or until `signal` aborts, publishing each
 * batch no earlier than its event time maps to on the real clock.
 *
 * ```ts
 * const stats = await runSimulator({ sim, speed: 60, signal, publish: (b) => publisher.publishBatch(b) });
 * ```
 */
export async function runSimulator(opts: RunSimulatorOptions): Promise<RunStats> {
  const { sim, speed, signal, publish } = opts;
  if (!(speed > 0)) throw new RangeError(`runSimulator speed must be > 0 or Infinity (got ${speed})`);
  const simulatedFrom = sim.now;
  const pacer = new EventTimePacer({ speed, from: simulatedFrom, signal, clock: opts.clock, sleep: opts.sleep });
  const { paced } = pacer;

  let batches = 0;
  let events = 0;
  let sinceYield = 0;
  let reached = simulatedFrom;
  let aborted = false;
  ticks: for (const tick of sim.ticks()) {
    for (const batch of tick.batches) {
      if (paced) await pacer.waitUntil(batch[0].event_time);
      if (signal?.aborted) {
        aborted = true;
        break ticks;
      }
      try {
        await publish(batch);
      } catch (cause) {
        const at = new Date(batch[0].event_time).toISOString();
        throw new SimulatorPublishError(
          `publishing a ${batch[0].kind} batch of channel ${batch[0].channel_id} at ${at} failed`,
          batch,
          { cause },
        );
      }
      batches++;
      events += batch.length;
      reached = batch[0].event_time;
      // A publisher that resolves at once would otherwise starve timers and the abort signal.
      if (!paced && ++sinceYield >= YIELD_EVERY_BATCHES) {
        sinceYield = 0;
        await yieldToLoop();
      }
    }
    // Quiet stretches still take their real time, so the run never races ahead of the clock.
    if (paced) await pacer.waitUntil(tick.to);
    if (signal?.aborted) {
      aborted = true;
      break;
    }
    reached = tick.to;
  }
  return {
    batches,
    events,
    simulatedFrom,
    simulatedUntil: reached,
    elapsedMs: pacer.elapsedMs(),
    aborted,
  };
}
