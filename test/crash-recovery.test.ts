/**
 * Crash test: the warehouse (`tgpulse warehouse`), processing and sink roles
 * run as child processes. The roles are killed with SIGKILL at random points
 * and restarted, and the warehouse server itself is killed with SIGKILL
 * mid-insert (its supervisor restarts it). The final tables must equal those
 * of an uninterrupted run of the same input.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { openWarehouse } from '../clickhouse/warehouse.ts';
import { readRunningWarehouse } from '../clickhouse/local-server/server.ts';
import { Simulator } from '../ingest/simulator/simulator.ts';
import { Rng } from '../ingest/simulator/rng.ts';
import { EventPublisher } from '../streams/publisher.ts';
import { defaultStreamsConfig } from '../streams/config.ts';
import { ensureStreams } from '../streams/topology.ts';
import { jetstream } from '@nats-io/jetstream';
import { sleep } from '../streams/retry.ts';
import type { RawEvent } from '../streams/contract.ts';
import { waitIdle } from './support/idle.ts';
import { startTestNats, tempDir, type TestNats } from './support/nats.ts';
import { killRole, spawnRole, stopRole, type RoleProcess } from './support/roles.ts';

const DAY = 86_400_000;

/** Every table a user can query, in a canonical order, without per-run columns (ingested_at). */
const TABLES: Record<string, string> = {
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

type Dump = Record<string, unknown[]>;

function input(): RawEvent[][] {
  const sim = new Simulator({ seed: 11, channels: 6, start: Date.UTC(2026, 4, 4), durationMs: 12 * DAY, anomalyRate: 0.2 });
  return [...sim.batches()] as RawEvent[][];
}

async function publishAll(url: string, batches: RawEvent[][]): Promise<void> {
  const nc = await connect({ servers: url });
  try {
    await ensureStreams(await jetstreamManager(nc), defaultStreamsConfig);
    const pub = new EventPublisher(jetstream(nc), { partitions: 8, maxBatchBytes: 256 * 1024, maxInflight: 256, stream: 'TG_RAW' });
    for (const b of batches) await pub.publish(b);
    await pub.flush();
  } finally {
    await nc.close();
  }
}

/** The tables of the run's warehouse (the `tgpulse warehouse` role must be running). */
async function dumpTables(dataDir: string): Promise<Dump> {
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

interface Run {
  nats: TestNats;
  dataDir: string;
  env: Record<string, string>;
}

async function startRun(batches: RawEvent[][], name: string): Promise<Run> {
  const nats = await startTestNats();
  const dataDir = tempDir(name);
  await publishAll(nats.url, batches);
  // A short ack wait and lease TTL: what a killed sink or processor held comes back within seconds.
  const env = { TGPULSE_NATS_URL: nats.url, TGPULSE_DATA_DIR: dataDir, TGPULSE_SINK_ACK_WAIT_S: '3', TGPULSE_PARTITION_LEASE_TTL_S: '2', TGPULSE_WAREHOUSE_HTTP_PORT: '0', TGPULSE_WAREHOUSE_NATIVE_PORT: '0' };
  return { nats, dataDir, env };
}

/** Starts the run's warehouse role and waits until its server answers. */
async function startWarehouse(run: Run): Promise<RoleProcess> {
  const role = spawnRole('warehouse', [], run.env);
  for (const until = Date.now() + 60_000; readRunningWarehouse(run.dataDir) === null; await sleep(200)) {
    if (Date.now() > until || role.child.exitCode !== null) throw new Error(`tgpulse warehouse did not start: ${role.output()}`);
  }
  return role;
}

async function untilIdle(run: Run): Promise<void> {
  const nc = await connect({ servers: run.nats.url });
  try {
    await waitIdle(await jetstreamManager(nc), defaultStreamsConfig, 300_000);
  } finally {
    await nc.close();
  }
}

describe('crash recovery: SIGKILLed roles restart to the same final tables', () => {
  let batches: RawEvent[][];
  let clean: Dump;
  let crashed: Dump;
  const kills: string[] = [];
  let killsUnderLoad = 0;
  let warehouseKills = 0;
  const runs: Run[] = [];

  beforeAll(async () => {
    batches = input();

    // Uninterrupted run.
    const a = await startRun(batches, 'clean');
    runs.push(a);
    const warehouseA = await startWarehouse(a);
    const roles = [spawnRole('process', [], a.env), spawnRole('sink', [], a.env)];
    await untilIdle(a);
    for (const r of roles) expect(await stopRole(r), r.output()).toBe(0);
    clean = await dumpTables(a.dataDir);
    expect(await stopRole(warehouseA), warehouseA.output()).toBe(0);

    // Run with crashes: kill a random role (or both) at random points, restart it.
    const b = await startRun(batches, 'crash');
    runs.push(b);
    const warehouseB = await startWarehouse(b);
    const rng = new Rng(20260504);
    const nc = await connect({ servers: b.nats.url });
    const jsm = await jetstreamManager(nc);
    const backlog = async () => {
      let n = 0;
      for await (const info of jsm.consumers.list('TG_RAW')) n += info.num_pending + info.num_ack_pending;
      return n;
    };
    let processRole: RoleProcess = spawnRole('process', [], b.env);
    let sinkRole: RoleProcess = spawnRole('sink', [], b.env);
    // Kills count as "under load" only once the roles consume: on a busy
    // machine starting them can take longer than the first kill's delay.
    for (const until = Date.now() + 120_000; Date.now() < until; await sleep(250)) {
      const names: string[] = [];
      for await (const info of jsm.consumers.list('TG_RAW')) names.push(info.name);
      if (names.includes('sink_raw') && names.some((n) => n.startsWith('processor_p00_'))) break;
    }
    for (let i = 0; i < 5; i++) {
      const waitMs = Math.round(1500 + rng.next() * 3000);
      await sleep(waitMs);
      const which = rng.next();
      if ((await backlog()) > 0) killsUnderLoad++;
      if (which < 0.4 || which >= 0.8) {
        await killRole(processRole);
        processRole = spawnRole('process', [], b.env);
      }
      if (which >= 0.4) {
        await killRole(sinkRole);
        sinkRole = spawnRole('sink', [], b.env);
      }
      kills.push(`${waitMs}ms:${which < 0.4 ? 'process' : which < 0.8 ? 'sink' : 'both'}`);
      // The warehouse server itself dies mid-insert on two of the rounds; its supervisor restarts it.
      if (i === 1 || i === 3) {
        const server = readRunningWarehouse(b.dataDir);
        if (server !== null) {
          process.kill(server.pid, 'SIGKILL');
          warehouseKills++;
          kills.push('warehouse');
        }
      }
    }
    await nc.close();
    await untilIdle(b);
    for (const r of [processRole, sinkRole]) expect(await stopRole(r), r.output()).toBe(0);
    crashed = await dumpTables(b.dataDir);
    expect(await stopRole(warehouseB), warehouseB.output()).toBe(0);
  }, 600_000);

  afterAll(async () => {
    for (const r of runs) await r.nats.stop();
  });

  it('killed roles while they had work in hand, and the warehouse server twice', () => {
    expect(killsUnderLoad).toBeGreaterThanOrEqual(3);
    expect(warehouseKills).toBe(2);
  });

  it('produced data in every table it compares', () => {
    console.info(`crash schedule: ${kills.join(', ')}; rows: ${JSON.stringify(Object.fromEntries(Object.entries(clean).map(([k, v]) => [k, v.length])))}`);
    for (const name of ['raw_post_counters', 'post_deltas', 'window_aggs', 'trends', 'channel_hourly', 'channel_daily', 'post_summary']) {
      expect(clean[name].length, name).toBeGreaterThan(0);
    }
  });

  it.each(Object.keys(TABLES))('%s equals the uninterrupted run', (name) => {
    expect(crashed[name].length).toBe(clean[name].length);
    expect(crashed[name]).toEqual(clean[name]);
  });
});
