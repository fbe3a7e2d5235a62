/**
 * The synthetic source of tgpulse: N channels with realistic posting,
 * audiences and view curves, plus labelled anomalies, generated as the raw
 * event batches a collector would publish.
 *
 * Generation is a pure function of the options: no clock, no I/O, no
 * `Math.random`. The same options always give the same batches with the same
 * ids, which makes the simulator the reference input for tests, benchmarks
 * and detection-quality runs. Pacing against a wall clock and publishing live
 * in `run.ts`.
 *
 * ```ts
 * const sim = new Simulator({ seed: 42, channels: 100, start: Date.UTC(2024, 0, 1), durationMs: 14 * DAY_MS });
 * for (const batch of sim.batches()) await publish(batch);
 * await sim.writeLabels('data/labels.jsonl');
 * ```
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Source } from '../../streams/contract/index.ts';
import { resolvePlans, type AnomalyLabel, type AnomalyMode, type ScheduledAnomaly } from './anomalies.ts';
import { ChannelSim, type ChannelRunConfig, type PollBand, type SimBatch } from './channel.ts';
import { channelProfile, type ChannelProfile } from './model.ts';
import { seedToU32, type Seed } from '../../common/index.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../common/index.ts';

export type { AnomalyLabel, AnomalyMode } from './anomalies.ts';
export type { PollBand, SimBatch } from './channel.ts';
export type { ChannelProfile } from './model.ts';
export type { Seed } from '../../common/index.ts';

/**
 * Counters polling by post age, as a real collector would do it: fresh posts
 * often while views move fast, old posts rarely, posts older than a week never.
 */
export const DEFAULT_POLL_BANDS: readonly PollBand[] = [
  { maxAgeMs: 6 * HOUR_MS, everyMs: 5 * MINUTE_MS },
  { maxAgeMs: 2 * DAY_MS, everyMs: 30 * MINUTE_MS },
  { maxAgeMs: 7 * DAY_MS, everyMs: 3 * HOUR_MS },
];

/** Options of a simulation run. Only `seed`, `channels` and `start` are required. */
export interface SimulatorOptions {
  /** Root of all randomness: the same seed gives the same run. */
  seed: Seed;
  /** Number of synthetic channels. */
  channels: number;
  /** Simulated start time, ms since the epoch. */
  start: number;
  /** Length of the run; omitted for an open-ended (live) run. */
  durationMs?: number;
  /** Counters polling by post age, ascending by `maxAgeMs` (default {@link DEFAULT_POLL_BANDS}). */
  pollEveryMs?: readonly PollBand[];
  /** Members snapshot interval (default 15 min). */
  membersEveryMs?: number;
  /** `'none'` for a calm run, `'default'` to draw anomalies from the seed (default), or explicit plans. */
  anomalies?: AnomalyMode;
  /** Expected default anomalies per channel per simulated day after warm-up (default 0.05). */
  anomalyRate?: number;
  /** Calm time at the start in which detectors learn (default 7 days). */
  warmupMs?: number;
  /** Simulated time covered by one `ticks()` step (default 5 min). */
  tickMs?: number;
  /** Most posts in one `post_counters` batch (default 100, the MTProto limit per views request). */
  maxBatchSize?: number;
  /** Value of the envelope's `source` (default `'simulator'`). */
  source?: Source;
}

/** Options after defaults and validation. */
export interface ResolvedSimulatorOptions {
  seed: Seed;
  channels: number;
  start: number;
  durationMs: number;
  pollEveryMs: readonly PollBand[];
  membersEveryMs: number;
  anomalies: AnomalyMode;
  anomalyRate: number;
  warmupMs: number;
  tickMs: number;
  maxBatchSize: number;
  source: Source;
}

/** A simulator option is invalid; the message names the option and what it expects. */
export class SimulatorConfigError extends Error {
  override readonly name = 'SimulatorConfigError';
}

function check(ok: boolean, option: string, wants: string, got: unknown): void {
  if (!ok) throw new SimulatorConfigError(`simulator option ${option} must be ${wants} (got ${JSON.stringify(got)})`);
}

/** Applies defaults and validates; throws {@link SimulatorConfigError} on the first bad option. */
export function resolveSimulatorOptions(o: SimulatorOptions): ResolvedSimulatorOptions {
  check(typeof o.seed === 'string' || Number.isSafeInteger(o.seed), 'seed', 'an integer or a string', o.seed);
  check(
    Number.isSafeInteger(o.channels) && o.channels >= 1 && o.channels <= 10_000_000,
    'channels',
    'an integer ≥ 1',
    o.channels,
  );
  check(Number.isSafeInteger(o.start) && o.start >= 0, 'start', 'a time in ms since the epoch', o.start);
  const durationMs = o.durationMs ?? Infinity;
  check(
    durationMs === Infinity || (Number.isSafeInteger(durationMs) && durationMs > 0),
    'durationMs',
    'a positive integer',
    o.durationMs,
  );
  const bands = o.pollEveryMs ?? DEFAULT_POLL_BANDS;
  check(bands.length > 0, 'pollEveryMs', 'a non-empty list of { maxAgeMs, everyMs }', bands);
  bands.forEach((b, i) => {
    check(
      Number.isSafeInteger(b.everyMs) && b.everyMs >= 1000,
      `pollEveryMs[${i}].everyMs`,
      'an integer ≥ 1000',
      b.everyMs,
    );
    const prev = i > 0 ? bands[i - 1].maxAgeMs : 0;
    check(
      Number.isSafeInteger(b.maxAgeMs) && b.maxAgeMs > prev,
      `pollEveryMs[${i}].maxAgeMs`,
      `an integer above ${prev} (bands ascend by age)`,
      b.maxAgeMs,
    );
  });
  const membersEveryMs = o.membersEveryMs ?? 15 * MINUTE_MS;
  check(
    Number.isSafeInteger(membersEveryMs) && membersEveryMs >= 1000,
    'membersEveryMs',
    'an integer ≥ 1000',
    membersEveryMs,
  );
  const anomalies = o.anomalies ?? 'default';
  check(
    anomalies === 'none' || anomalies === 'default' || Array.isArray(anomalies),
    'anomalies',
    "'none', 'default' or a list of plans",
    anomalies,
  );
  const anomalyRate = o.anomalyRate ?? 0.05;
  check(
    Number.isFinite(anomalyRate) && anomalyRate >= 0 && anomalyRate <= 10,
    'anomalyRate',
    'a number in 0..10 (anomalies per channel per day)',
    anomalyRate,
  );
  const warmupMs = o.warmupMs ?? 7 * DAY_MS;
  check(Number.isSafeInteger(warmupMs) && warmupMs >= 0, 'warmupMs', 'an integer ≥ 0', warmupMs);
  const tickMs = o.tickMs ?? 5 * MINUTE_MS;
  check(Number.isSafeInteger(tickMs) && tickMs >= 1, 'tickMs', 'a positive integer', tickMs);
  const maxBatchSize = o.maxBatchSize ?? 100;
  check(Number.isSafeInteger(maxBatchSize) && maxBatchSize >= 1, 'maxBatchSize', 'a positive integer', maxBatchSize);
  const source = o.source ?? 'simulator';
  check(['mtproto', 'simulator', 'replay', 'botapi'].includes(source), 'source', 'a contract source', source);
  return {
    seed: o.seed,
    channels: o.channels,
    start: o.start,
    durationMs,
    pollEveryMs: bands,
    membersEveryMs,
    anomalies,
    anomalyRate,
    warmupMs,
    tickMs,
    maxBatchSize,
    source,
  };
}

/** One step of simulated time and the batches that happened in it, in event-time order. */
export interface SimTick {
  /** Inclusive start of the step. */
  from: number;
  /** Exclusive end of the step. */
  to: number;
  batches: SimBatch[];
}

function byEventTime(a: SimBatch, b: SimBatch): number {
  return a[0].event_time - b[0].event_time;
}

/**
 * Deterministic generator of raw event batches for synthetic channels.
 *
 * Batches come in event-time order; each holds events of one kind for one
 * channel at one instant, the unit a collector publishes as one NATS message.
 * Every channel draws from its own random streams, so a channel's events do
 * not change when the number of channels does.
 */
export class Simulator {
  readonly options: Readonly<ResolvedSimulatorOptions>;
  readonly profiles: readonly ChannelProfile[];
  readonly #channels: ChannelSim[];
  #now: number;

  constructor(options: SimulatorOptions) {
    const o = resolveSimulatorOptions(options);
    this.options = o;
    const rootSeed = seedToU32(o.seed);
    const profiles: ChannelProfile[] = [];
    for (let i = 0; i < o.channels; i++) profiles.push(channelProfile(rootSeed, i));
    this.profiles = profiles;

    const planned: ScheduledAnomaly[][] = profiles.map(() => []);
    if (Array.isArray(o.anomalies)) {
      for (const a of resolvePlans(o.anomalies, rootSeed, profiles, o.start, o.start + o.durationMs))
        planned[a.channelIndex].push(a);
    }
    const cfg: ChannelRunConfig = {
      rootSeed,
      start: o.start,
      end: o.start + o.durationMs,
      pollBands: o.pollEveryMs,
      membersEveryMs: o.membersEveryMs,
      maxBatchSize: o.maxBatchSize,
      source: o.source,
      drawAnomalies: o.anomalies === 'default' && o.anomalyRate > 0,
      anomalyRate: o.anomalyRate,
      warmupMs: o.warmupMs,
    };
    this.#channels = profiles.map((p, i) => new ChannelSim(p, cfg, planned[i]));
    this.#now = o.start;
  }

  /** Simulated time reached: every event before it has been generated. */
  get now(): number {
    return this.#now;
  }

  /** Exclusive end of the run (Infinity when open-ended). */
  get end(): number {
    return this.options.start + this.options.durationMs;
  }

  /** True once the whole run has been generated. */
  get done(): boolean {
    return this.#now >= this.end;
  }

  /**
   * Generates every batch with event time in [now, untilMs) (clamped to the
   * run's end) and moves `now` there. Earlier or equal `untilMs` returns [].
   */
  step(untilMs: number): SimBatch[] {
    const until = Math.min(untilMs, this.end);
    if (!Number.isFinite(until))
      throw new RangeError('Simulator.step needs a finite time for an open-ended run; use ticks() to run forever');
    if (until <= this.#now) return [];
    const out: SimBatch[] = [];
    for (const ch of this.#channels) ch.emitUntil(until, out);
    // Each channel's batches are in time order and channels go in index order;
    // the stable sort keeps that order among batches of the same instant.
    out.sort(byEventTime);
    this.#now = until;
    return out;
  }

  /** Steps of `tickMs` until the end of the run (forever when open-ended). */
  *ticks(): Generator<SimTick> {
    while (!this.done) {
      const from = this.#now;
      const batches = this.step(from + this.options.tickMs);
      yield { from, to: this.#now, batches };
    }
  }

  /** All remaining batches, one at a time. */
  *batches(): Generator<SimBatch> {
    for (const tick of this.ticks()) yield* tick.batches;
  }

  /**
   * Ground truth of the anomalies planted so far (those that began before
   * `now`), ordered by start then channel. Call after generating the run.
   */
  labels(): AnomalyLabel[] {
    const out: AnomalyLabel[] = [];
    for (const ch of this.#channels) out.push(...ch.labels(this.#now));
    return out.sort((a, b) => a.start - b.start || a.channel_id.localeCompare(b.channel_id));
  }

  /** Writes {@link labels} as JSON lines to `path` (creating its folder); returns how many. */
  async writeLabels(path: string): Promise<number> {
    const labels = this.labels();
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, formatLabels(labels));
    return labels.length;
  }
}

/** Labels as JSON lines, the format scorers read. */
export function formatLabels(labels: readonly AnomalyLabel[]): string {
  let text = '';
  for (const l of labels) text += `${JSON.stringify(l)}\n`;
  return text;
}
