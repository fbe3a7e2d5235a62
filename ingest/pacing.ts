/**
 * Pacing event time against the wall clock: the simulator and the replay both
 * publish events no earlier than their event time maps to on the real clock
 * at a chosen speed, so a pipeline sees a capture or a simulation unfold as it
 * would live (only faster or slower).
 *
 * The clock and the sleep are injected so tests drive pacing with a fake
 * clock instead of waiting and asserting on timings.
 */
import { sleep } from '../common/index.ts';

/** Waits `ms` of real time; resolves early (never rejects) when `signal` aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** Where pacing starts and how fast event time runs. */
export interface PacerOptions {
  /** Event-time ms per real ms: 1 is real time, 60 a minute per second, Infinity as fast as possible. */
  speed: number;
  /** Event time that maps to the real time the pacer was created at. */
  from: number;
  /** Ends waits early. */
  signal?: AbortSignal;
  /** Real clock in ms (default `Date.now`); tests pass a fake one together with `sleep`. */
  clock?: () => number;
  sleep?: Sleep;
}

/**
 * Maps event time onto the real clock: event time `from` is due when the
 * pacer is created, and later event times `speed` times faster.
 *
 * ```ts
 * const pacer = new EventTimePacer({ speed: 60, from: first.event_time });
 * for (const e of events) {
 *   await pacer.waitUntil(e.event_time); // never early; at once when already due
 *   await publish(e);
 * }
 * ```
 */
export class EventTimePacer {
  /** Real time the pacer started at (by its clock). */
  readonly realStart: number;
  /** False at infinite speed: nothing is ever waited for. */
  readonly paced: boolean;
  readonly #clock: () => number;
  readonly #sleep: Sleep;

  constructor(private readonly opts: PacerOptions) {
    if (!(opts.speed > 0)) throw new RangeError(`pacing speed must be > 0 or Infinity (got ${opts.speed})`);
    this.#clock = opts.clock ?? Date.now;
    this.#sleep = opts.sleep ?? sleep;
    this.realStart = this.#clock();
    this.paced = Number.isFinite(opts.speed);
  }

  /** Real time at which event time `t` is due. */
  dueAt(t: number): number {
    return this.paced ? this.realStart + (t - this.opts.from) / this.opts.speed : -Infinity;
  }

  /** Real ms left until event time `t` is due (zero or less when it already is). */
  delayUntil(t: number): number {
    return this.dueAt(t) - this.#clock();
  }

  /** Waits until event time `t` is due, or the signal aborts; returns at once when it is already due. */
  async waitUntil(t: number): Promise<void> {
    const wait = this.delayUntil(t);
    if (wait > 0) await this.#sleep(wait, this.opts.signal);
  }

  /** Real time since the pacer started, by its clock. */
  elapsedMs(): number {
    return this.#clock() - this.realStart;
  }
}
