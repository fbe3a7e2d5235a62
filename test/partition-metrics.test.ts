/**
 * The per-partition gauges tell the truth about what this process holds: an
 * idle partition whose state is all checkpointed is not reported as an ever
 * older checkpoint (which would page someone for nothing), and once the
 * process stops owning its partitions (a handoff, a stop) it withdraws their
 * lag, checkpoint and watermark series instead of exporting its last figures
 * beside the new owner's. The sinks measure how fresh what they write is.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../common/retry.ts';
import { DAY_MS } from '../common/index.ts';
import { Simulator } from '../ingest/simulator/simulator.ts';
import { startTestNats, tempDir, type TestNats } from './support/nats.ts';
import { startPipeline, type TestPipeline } from './support/pipeline.ts';
import { publishSimulation } from './support/simulation.ts';

/** Longer than several idle ticks (1 s each): a checkpoint age counting from the last write would pass it. */
const IDLE_MS = 6000;

describe('partition gauges', () => {
  let nats: TestNats;
  let pipe: TestPipeline;

  beforeAll(async () => {
    nats = await startTestNats();
    pipe = await startPipeline({ natsUrl: nats.url, dataDir: tempDir('partition-metrics') });
    pipe.startRoles();
    const sim = new Simulator({ seed: 11, channels: 3, start: Date.UTC(2026, 4, 1), durationMs: DAY_MS });
    await publishSimulation(pipe, sim);
    await pipe.publisher.flush();
    await pipe.waitIdle();
  });

  afterAll(async () => {
    await pipe?.close();
    await nats?.stop();
  });

  /** The series of one metric, as this process would export them. */
  async function series(name: string) {
    const metric = pipe.ctx.metrics.registry.getSingleMetric(name);
    return metric ? (await metric.get()).values : [];
  }

  it('reports an idle, fully checkpointed partition as fresh, not as an ever older checkpoint', async () => {
    await sleep(IDLE_MS);
    const ages = await series('tgpulse_checkpoint_age_seconds');
    expect(ages.length).toBe(pipe.config.streams.partitions);
    for (const { labels, value } of ages) expect(value, `partition ${labels.partition}`).toBeLessThan(IDLE_MS / 2000);
    // The processors did checkpoint and advance their watermarks: the gauges are live, not empty.
    expect((await series('tgpulse_watermark_ms')).length).toBeGreaterThan(0);
    expect((await series('tgpulse_checkpoint_bytes')).every((s) => s.value > 0)).toBe(true);
  });

  it('measures data freshness, JetStream to queryable, for raw and derived messages', async () => {
    const values = await series('tgpulse_data_freshness_seconds');
    const stat = (stream: string, name: string) =>
      values.find((v) => v.labels.stream === stream && (v as { metricName?: string }).metricName === name)?.value ?? 0;
    for (const stream of [pipe.config.streams.names.raw, pipe.config.streams.names.derived]) {
      const count = stat(stream, 'tgpulse_data_freshness_seconds_count');
      expect(count, stream).toBeGreaterThan(0);
      // Written within the run: no message can have waited longer than the whole test so far.
      const mean = stat(stream, 'tgpulse_data_freshness_seconds_sum') / count;
      expect(mean).toBeGreaterThan(0);
      expect(mean).toBeLessThan(process.uptime());
    }
  });

  it('withdraws the partition series once it no longer owns the partitions', async () => {
    const lagOf = async () =>
      (await series('tgpulse_consumer_lag_messages')).filter((s) => String(s.labels.consumer).startsWith('proc'));
    expect((await lagOf()).length).toBeGreaterThan(0);
    await pipe.stopRoles();
    expect(await series('tgpulse_checkpoint_age_seconds')).toEqual([]);
    expect(await series('tgpulse_checkpoint_bytes')).toEqual([]);
    expect(await series('tgpulse_watermark_ms')).toEqual([]);
    expect(await lagOf()).toEqual([]);
    // Ownership itself stays, at 0: "not mine" is what a rule filtering on it needs to read.
    const owned = await series('tgpulse_partition_owned');
    expect(owned.length).toBe(pipe.config.streams.partitions);
    expect(owned.every((s) => s.value === 0)).toBe(true);
  });
});
