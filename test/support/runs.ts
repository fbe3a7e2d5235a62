/**
 * Whole runs of the pipeline as child processes, for the tests that kill,
 * pause or freeze parts of it: a private nats-server with the input already
 * published, a data folder with its own `tgpulse warehouse`, and the tables a
 * user can query, dumped in a canonical order to compare runs.
 */
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';

import { readRunningWarehouse } from '../../clickhouse/local-server/server.ts';
import { Simulator } from '../../ingest/simulator/simulator.ts';
import { EventPublisher } from '../../streams/publisher.ts';
import { defaultStreamsConfig } from '../../streams/config.ts';
import { ensureStreams } from '../../streams/topology.ts';
import { sleep } from '../../common/retry.ts';
import type { RawEvent } from '../../streams/contract/events.ts';
import { waitIdle } from './idle.ts';
import { startTestNats, tempDir, type TestNats } from './nats.ts';
import { spawnRole, stopRole, type RoleProcess } from './roles.ts';
import { DAY_MS } from '../../common/index.ts';
import { openWarehouse } from '../../clickhouse/open.ts';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

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
    await publishBatches(nc, batches);
  } finally {
    await nc.close();
  }
}

/**
 * Publishes raw batches to TG_RAW as a collector does (the streams exist).
 * `maxInflight: 1` keeps stream order equal to input order even when a
 * publish is retried (with many in flight, a retried message lands after
 * later ones: seconds late in real time, but hours of the compressed
 * simulated time, past the processors' allowed lateness).
 */
export async function publishBatches(
  nc: NatsConnection,
  batches: RawEvent[][],
  opts: { maxInflight?: number } = {},
): Promise<void> {
  const pub = new EventPublisher(jetstream(nc), {
    partitions: 8,
    maxBatchBytes: 256 * 1024,
    maxInflight: opts.maxInflight ?? 256,
    stream: 'TG_RAW',
  });
  for (const b of batches) await pub.publish(b);
  await pub.flush();
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

/** A run of roles on a nats-server and a data folder, with nothing published yet. */
export function runOn(nats: TestNats, dataDir: string): Run {
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

export async function startRun(batches: RawEvent[][], name: string): Promise<Run> {
  const run = runOn(await startTestNats(), tempDir(name));
  await publishAll(run.nats.url, batches);
  return run;
}

/** Starts the run's warehouse role and waits until its server answers. */
export async function startWarehouse(run: Pick<Run, 'dataDir' | 'env'>): Promise<RoleProcess> {
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

/** Where the suite's global setup lets test files share results (test/support/suite-setup.ts). */
export const SUITE_CACHE_ENV = 'TGPULSE_SUITE_CACHE_DIR';

/**
 * The tables of an uninterrupted run of {@link input}: what every fault test
 * compares its run with. Made once per suite and shared by the files that
 * need it (the first to ask makes it, the others wait for its file), since it
 * costs half a minute of both cores; outside the suite it is made here.
 */
export async function uninterruptedDump(): Promise<Dump> {
  const dir = process.env[SUITE_CACHE_ENV];
  if (!dir) return uninterruptedRun();
  const file = join(dir, 'uninterrupted-run.json');
  const lock = join(dir, 'uninterrupted-run.lock');
  for (;;) {
    if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as Dump;
    try {
      mkdirSync(lock);
    } catch {
      // Another file is making it; a lock older than any run is a dead worker's, taken over.
      if (Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now()) > 300_000)
        rmSync(lock, { recursive: true, force: true });
      await sleep(500);
      continue;
    }
    try {
      const dump = await uninterruptedRun();
      writeFileSync(`${file}.tmp`, JSON.stringify(dump));
      renameSync(`${file}.tmp`, file);
      return dump;
    } catch (err) {
      rmSync(lock, { recursive: true, force: true });
      throw err;
    }
  }
}

async function uninterruptedRun(): Promise<Dump> {
  const run = await startRun(input(), 'uninterrupted');
  const roles: RoleProcess[] = [];
  try {
    roles.push(await startWarehouse(run));
    roles.push(spawnRole('process', [], run.env), spawnRole('sink', [], run.env));
    await untilIdle(run);
    for (const r of roles.slice(1)) {
      const code = await stopRole(r);
      if (code !== 0) throw new Error(`${r.name} exited with ${code}: ${r.output()}`);
    }
    return await dumpTables(run.dataDir);
  } finally {
    for (const r of roles.reverse()) await stopRole(r);
    await run.nats.stop();
  }
}

/**
 * Rows of `run` missing from `reference` and rows beyond it, over every
 * table, as multisets of whole rows: what a fault lost and what it doubled
 * (a row whose values differ counts once in each).
 */
export function rowDifference(reference: Dump, run: Dump): { lost: number; doubled: number } {
  let lost = 0;
  let doubled = 0;
  for (const table of Object.keys(reference)) {
    const counts = new Map<string, number>();
    for (const row of reference[table]) counts.set(JSON.stringify(row), (counts.get(JSON.stringify(row)) ?? 0) + 1);
    for (const row of run[table] ?? []) {
      const key = JSON.stringify(row);
      const left = counts.get(key) ?? 0;
      if (left > 0) counts.set(key, left - 1);
      else doubled++;
    }
    for (const left of counts.values()) lost += left;
  }
  return { lost, doubled };
}
