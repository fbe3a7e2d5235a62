/**
 * Months of simulated channels through the real pipeline, for the forecast
 * test and bench: published to a private nats-server and turned into
 * serving tables by the processors and sinks. Counters are polled hourly
 * (the collectors poll fresh posts every 5 minutes), which leaves the daily
 * series forecasts read alike in kind and makes a quarter of data take
 * seconds instead of many minutes.
 */
import { DAY_MS, HOUR_MS } from '../../common/index.ts';
import { Simulator } from '../../ingest/simulator/simulator.ts';
import { startTestNats, tempDir, type TestNats } from './nats.ts';
import { startPipeline, type TestPipeline } from './pipeline.ts';
import { publishSimulation } from './simulation.ts';

export interface DailySeriesData {
  nats: TestNats;
  pipe: TestPipeline;
  /** Channel ids, sorted. */
  channels: string[];
  /** Events published. */
  events: number;
  close(): Promise<void>;
}

/** Runs `days` of `channels` simulated channels from `start` through a new pipeline, and waits until it is idle. */
export async function produceDailySeries(opts: {
  seed: number;
  channels: number;
  start: number;
  days: number;
}): Promise<DailySeriesData> {
  const nats = await startTestNats();
  let pipe: TestPipeline | null = null;
  try {
    pipe = await startPipeline({ natsUrl: nats.url, dataDir: tempDir('daily-series') });
    pipe.startRoles();
    const sim = new Simulator({
      seed: opts.seed,
      channels: opts.channels,
      start: opts.start,
      durationMs: opts.days * DAY_MS,
      pollEveryMs: [
        { maxAgeMs: 6 * HOUR_MS, everyMs: HOUR_MS },
        { maxAgeMs: 3 * DAY_MS, everyMs: 6 * HOUR_MS },
      ],
      membersEveryMs: HOUR_MS,
      tickMs: HOUR_MS,
    });
    const published = await publishSimulation(pipe, sim);
    await pipe.waitIdle(1_800_000);
    const opened = pipe;
    return {
      nats,
      pipe,
      channels: sim.profiles.map((p) => p.channelId).sort(),
      events: published.events,
      async close() {
        await opened.close();
        await nats.stop();
      },
    };
  } catch (err) {
    await pipe?.close();
    await nats.stop();
    throw err;
  }
}
