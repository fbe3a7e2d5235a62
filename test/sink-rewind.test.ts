/**
 * A new warehouse on an old NATS: the sinks' consumers have acked the
 * history already, so nothing would reach the new tables. `up` notices it
 * (ackedButMissing) and `--rewind-sinks` writes again what the streams keep,
 * giving the same tables as the first warehouse.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Simulator } from '../ingest/simulator/simulator.ts';
import { ackedButMissing, rewindSinks } from '../sinks/clickhouse/rewind.ts';
import { startTestNats, tempDir, type TestNats } from './support/nats.ts';
import { startPipeline, type TestPipeline } from './support/pipeline.ts';
import { DAY_MS } from '../common/index.ts';
import { publishSimulation } from './support/simulation.ts';

const COUNTS = `SELECT (SELECT count() FROM raw_posts FINAL) AS posts, (SELECT count() FROM raw_post_counters FINAL) AS counters,
                       (SELECT count() FROM post_deltas FINAL) AS deltas, (SELECT count() FROM dead_letters FINAL) AS dead`;

describe('a new warehouse on streams whose sinks already acked everything', () => {
  let nats: TestNats;
  let first: TestPipeline;
  let second: TestPipeline;

  beforeAll(async () => {
    nats = await startTestNats();
    first = await startPipeline({ natsUrl: nats.url, dataDir: tempDir('rewind-a'), env: { TGPULSE_PARTITIONS: '2' } });
    first.startRoles();
    await publishSimulation(
      first,
      new Simulator({ seed: 3, channels: 3, start: Date.UTC(2026, 2, 1), durationMs: 3 * DAY_MS, anomalyRate: 0 }),
    );
    await first.waitIdle();
    await first.stopRoles();
    second = await startPipeline({ natsUrl: nats.url, dataDir: tempDir('rewind-b'), env: { TGPULSE_PARTITIONS: '2' } });
  }, 300_000);

  afterAll(async () => {
    await first?.close();
    await second?.close();
    await nats?.stop();
  });

  it('is noticed, and a rewind writes the same rows again', async () => {
    const missing = await ackedButMissing(second.nats.jsm, second.warehouse, second.config.streams);
    expect(missing).toBeGreaterThan(0);
    // The first warehouse agrees with its consumers.
    expect(await ackedButMissing(first.nats.jsm, first.warehouse, first.config.streams)).toBe(0);

    await rewindSinks(second.nats.jsm, second.config.streams, ['raw', 'derived', 'dlq']);
    second.startRoles();
    await second.waitIdle();
    const [a] = await first.warehouse.query(COUNTS);
    const [b] = await second.warehouse.query(COUNTS);
    expect(Number(a.counters)).toBeGreaterThan(0);
    expect(b).toEqual(a);
    expect(await ackedButMissing(second.nats.jsm, second.warehouse, second.config.streams)).toBe(0);
  });
});
