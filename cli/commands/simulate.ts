import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { Simulator } from '../../ingest/simulator/index.ts';
import { rawEventPublisher } from '../../streams/index.ts';
import { sleep, DAY_MS } from '../../common/index.ts';
import { Context, openNats, type NatsContext } from '../context.ts';
import { superviseRole } from '../roles.ts';
import { lifecycle } from './lifecycle.ts';
import type { Command } from './command.ts';

export interface SimulationRoleOptions {
  channels: number;
  seed: string;
  /** Simulated history before "now" that is generated as fast as the pipeline takes it. */
  historyDays: number;
  /** Speed of the simulated clock once history is caught up (1 = real time). */
  speed: number;
  /** Stop after this much simulated time past the history (Infinity = run until stopped). */
  liveDays: number;
  labelsPath: string;
}

/** Flags shared by `tgpulse simulate` and `tgpulse up --simulate`. */
export const SIMULATION_FLAGS = {
  channels: { type: 'string', default: '20' },
  seed: { type: 'string', default: '42' },
  days: { type: 'string', default: '14' },
  speed: { type: 'string', default: '60' },
  'live-days': { type: 'string' },
  labels: { type: 'string' },
} as const;

function num(value: string | undefined, flag: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new Error(`--${flag} expects a number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  return n;
}

export function simulationOptions(
  values: { channels?: string; seed?: string; days?: string; speed?: string; 'live-days'?: string; labels?: string },
  dataDir = '.',
): SimulationRoleOptions {
  return {
    channels: Math.round(num(values.channels, 'channels', 1, 100_000)),
    seed: values.seed ?? '42',
    historyDays: num(values.days, 'days', 0, 3650),
    speed: num(values.speed, 'speed', 0.001, 1e7),
    liveDays: values['live-days'] === undefined ? Infinity : num(values['live-days'], 'live-days', 0, 3650),
    labelsPath: values.labels ?? join(dataDir, 'simulator-labels.jsonl'),
  };
}

/**
 * Runs the simulator against the wall clock: the history (`historyDays`
 * before now) is generated as fast as the pipeline accepts it, then the
 * simulated clock runs on at `speed` from the real now. Labels of injected
 * anomalies are written to `labelsPath` as they appear.
 */
export async function runSimulationRole(
  ctx: Context,
  nats: NatsContext,
  signal: AbortSignal,
  opts: SimulationRoleOptions,
): Promise<void> {
  const log = ctx.log.child({ role: 'simulate' });
  const realStart = Date.now();
  const liveStart = Math.floor(realStart / 60_000) * 60_000;
  const sim = new Simulator({
    seed: opts.seed,
    channels: opts.channels,
    start: liveStart - Math.round(opts.historyDays * DAY_MS),
    durationMs: Number.isFinite(opts.liveDays) ? Math.round((opts.historyDays + opts.liveDays) * DAY_MS) : undefined,
    anomalies: 'default',
  });
  const publisher = rawEventPublisher(nats.js, ctx.config.streams, { metrics: ctx.metrics, log, signal });
  log.info(
    { channels: opts.channels, from: new Date(sim.now).toISOString(), speed: opts.speed },
    'simulating channels',
  );
  let events = 0;
  let labelsWritten = 0;
  let caughtUp = false;
  const tickMs = sim.options.tickMs;
  while (!signal.aborted && !sim.done) {
    const target = liveStart + (Date.now() - realStart) * opts.speed;
    if (sim.now >= target) {
      if (!caughtUp) {
        caughtUp = true;
        log.info({ events }, 'history caught up; simulating live');
      }
      await sleep(Math.max(50, Math.min(1000, tickMs / opts.speed)), signal);
      continue;
    }
    const batches = sim.step(Math.min(target, sim.now + tickMs));
    // One publish per step: the publisher coalesces the channels of a partition into few messages.
    const stepEvents = batches.flat();
    await publisher.publish(stepEvents);
    events += stepEvents.length;
    const labels = sim.labels();
    if (labels.length !== labelsWritten) labelsWritten = await sim.writeLabels(opts.labelsPath);
  }
  await publisher.flush();
  await sim.writeLabels(opts.labelsPath);
  log.info({ events, labels: labelsWritten }, 'simulator stopped');
}

export const simulateCommand: Command = {
  reads: 'full',
  async run(argv, config) {
    const { values } = parseArgs({ args: argv, options: SIMULATION_FLAGS });
    const opts = simulationOptions(values, config.dataDir);
    const ctx = new Context(config);
    const life = lifecycle(ctx);
    try {
      const nats = await openNats(ctx, { name: 'tgpulse-simulate' });
      await superviseRole('simulate', runSimulationRole(ctx, nats, life.signal, opts), ctx, life.stop);
      return 0;
    } finally {
      await ctx.close();
      life.dispose();
    }
  },
};
