/**
 * Whole runs of the pipeline as child processes, for the tests that kill,
 * pause or freeze parts of it: a private nats-server with the input already
 * published, a data folder with its own `tgpulse warehouse`, and the tables a
 * user can query, dumped in a canonical order to compare runs.
 */
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

import { readRunningWarehouse } from '../../clickhouse/local-server/server.ts';
import { Simulator } from '../../ingest/simulator/simulator.ts';
import { EventPublisher } from '../../streams/publisher.ts';
import { defaultStreamsConfig } from '../../streams/config.ts';
import { ensureStreams } from '../../streams/topology.ts';
import { sleep } from '../../common/retry.ts';
import type { RawEvent } from '../../streams/contract/events.ts';
import { waitIdle } from './idle.ts';
import { startTestNats, tempDir, type TestNats } from './nats.ts';
import { spawnRole, type RoleProcess } from './roles.ts';
import { DAY_MS } from '../../common/index.ts';
import { openWarehouse } from '../../clickhouse/open.ts';

/** Every table a user can query, in a canonical order, without per-run columns (ingested_at). */
export const TABLES: Record<string, string> = {
  raw_posts: 'SELECT * EXCEPT ingested_at FROM raw_posts FINAL ORDER BY id',
  raw_post_counters: 'SELECT * EXCEPT ingested_at FROM raw_post_counters FINAL ORDER BY id',
  raw_channel_members: 'SELECT * EXCEPT ingested_at FROM raw_channel_members FINAL ORDER BY id',
  raw_channel_stats: 'SELECT * EXCEPT ingested_at FROM raw_channel_stats FINAL ORDER BY id',
  post_deltas: 'SELECT * EXCEPT ingested_at FROM post_deltas FINAL ORDER BY id',
  window_aggs: 'SELECT * EXCEPT ingested_at FROM window_aggs FINAL ORDER BY channel_id, window, window_start',
  trends: 'SELECT * EXCEPT ingested_at FROM trends FINAL ORDER BY id',
  anomaly_events: 'SELECT * EXCEPT ingested_at FROM anomaly_events FINAL ORDER BY id',
  dead_letters: 'SELECT id, stage, reason, detail, stream, subject, seq FROM dead_letters FINAL ORDER BY id',
  channel_hourly: 'SELECT * EXCEPT ingested_at FROM channel_hourly FINAL ORDER BY channel_id, window_start',
  channel_daily: 'SELECT * EXCEPT ingested_at FROM channel_daily FINAL ORDER BY channel_id, window_start',
  anomalies: 'SELECT * EXCEPT ingested_at FROM anomalies FINAL ORDER BY anomaly_id',
  post_summary:
    'SELECT channel_id, post_id, argMaxMerge(views) AS v, argMaxMerge(forwards) AS f, argMaxMerge(reactions_total) AS r FROM post_summary GROUP BY channel_id, post_id ORDER BY channel_id, post_id',
};

export type Dump = Record<string, unknown[]>;

export function input(): RawEvent[][] {
  const sim = new Simulator({
    seed: 11,
    channels: 6,
    start: Date.UTC(2026, 4, 4),
    durationMs: 12 * DAY_MS,
    anomalyRate: 0.2,
  });
  return [...sim.batches()] as RawEvent[][];
}

export async function publishAll(url: string, batches: RawEvent[][]): Promise<void> {
  const nc = await connect({ servers: url });
  try {
    await ensureStreams(await jetstreamManager(nc), defaultStreamsConfig);
    const pub = new EventPublisher(jetstream(nc), {
      partitions: 8,
      maxBatchBytes: 256 * 1024,
      maxInflight: 256,
      stream: 'TG_RAW',
    });
    for (const b of batches) await pub.publish(b);
    await pub.flush();
  } finally {
    await nc.close();
  }
}

/** The tables of the run's warehouse (the `tgpulse warehouse` role must be running). */
export async function dumpTables(dataDir: string): Promise<Dump> {
  const wh = await openWarehouse({ driver: 'local', dataDir, database: 'tgpulse', httpPort: 0, nativePort: 0 });
  try {
    const out: Dump = {};
    for (const [name, sql] of Object.entries(TABLES)) {
      out[name] = await wh.query<Record<string, unknown>>(sql);
    }
    return out;
  } finally {
    await wh.close();
  }
}

export interface Run {
  nats: TestNats;
  dataDir: string;
  env: Record<string, string>;
}

export async function startRun(batches: RawEvent[][], name: string): Promise<Run> {
  const nats = await startTestNats();
  const dataDir = tempDir(name);
  await publishAll(nats.url, batches);
  // A short ack wait and lease TTL: what a killed sink or processor held comes back within seconds.
  const env = {
    TGPULSE_NATS_URL: nats.url,
    TGPULSE_DATA_DIR: dataDir,
    TGPULSE_SINK_ACK_WAIT_S: '3',
    TGPULSE_PARTITION_LEASE_TTL_S: '2',
    TGPULSE_WAREHOUSE_HTTP_PORT: '0',
    TGPULSE_WAREHOUSE_NATIVE_PORT: '0',
  };
  return { nats, dataDir, env };
}

/** Starts the run's warehouse role and waits until its server answers. */
export async function startWarehouse(run: Run): Promise<RoleProcess> {
  const role = spawnRole('warehouse', [], run.env);
  for (const until = Date.now() + 60_000; readRunningWarehouse(run.dataDir) === null; await sleep(200)) {
    if (Date.now() > until || role.child.exitCode !== null)
      throw new Error(`tgpulse warehouse did not start: ${role.output()}`);
  }
  return role;
}

export async function untilIdle(run: Run, timeoutMs = 300_000): Promise<void> {
  const nc = await connect({ servers: run.nats.url });
  try {
    await waitIdle(await jetstreamManager(nc), defaultStreamsConfig, timeoutMs);
  } finally {
    await nc.close();
  }
}
