/**
 * Warehouse outage: the `tgpulse warehouse` role is SIGKILLed mid-run (its
 * engine dies with it, so nothing restarts it) and kept down for 60 s while
 * more input arrives. Meanwhile the sinks must back off and ack nothing,
 * say so in their metrics and readiness, and the API must answer 503 with a
 * clear error, never 500. Once the role is started again (same ports, same
 * data folder) everything resumes without restarting anything else, and the
 * final tables equal those of an uninterrupted run of the same input, made
 * beside the outage run.
 */
import { LOOPBACK_API_CONFIG } from '../support/api-target.ts';
import { jetstreamManager, type ConsumerInfo, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { rmSync } from 'node:fs';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../../api/app.ts';
import { openWarehouse } from '../../clickhouse/open.ts';
import { anyFreePort, serverPort } from '../../clickhouse/local-server/child.ts';
import { readRunningWarehouse } from '../../clickhouse/local-server/server.ts';
import type { Warehouse } from '../../clickhouse/warehouse.ts';
import { DAY_MS } from '../../common/index.ts';
import { sleep } from '../../common/retry.ts';
import { createApiKey } from '../../control/api-keys.ts';
import { openControlPlane, type ControlPlane } from '../../control/postgres.ts';
import { silentLogger } from '../../observability/log.ts';
import { Simulator } from '../../ingest/simulator/simulator.ts';
import type { RawEvent } from '../../streams/contract/events.ts';
import { recordSummary } from '../support/fault-summary.ts';
import { killRole, spawnRole, stopRole, type RoleProcess } from '../support/roles.ts';
import {
  dumpTables,
  rowDifference,
  startRun,
  startWarehouse,
  TABLES,
  untilIdle,
  type Dump,
  type Run,
} from '../support/runs.ts';
import { startPostgresServer, type PostgresServer } from '../support/postgres-server.ts';
import { until } from '../support/until.ts';

const OUTAGE_MS = 60_000;
const START = Date.UTC(2026, 4, 4);
/** The input's days: API questions ask about them. */
const PERIOD = 'from=2026-05-04T00:00:00Z&to=2026-05-13T00:00:00Z';

/**
 * Simulated channels with anomalies: every table gets rows, and two runs of
 * it fit in a few minutes on two busy cores (the suite's shared reference,
 * runs.ts `input`, is twice as big: too slow for this file beside the outage).
 */
function outageInput(): RawEvent[][] {
  const sim = new Simulator({ seed: 14, channels: 4, start: START, durationMs: 8 * DAY_MS, anomalyRate: 0.2 });
  return [...sim.batches()] as RawEvent[][];
}

/** A counter's total over the series whose labels include every given one, from a /metrics page. */
function counterTotal(page: string, name: string, labels: Record<string, string>): number {
  let total = 0;
  for (const line of page.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

interface Readiness {
  status: number;
  body: { status: string; checks: Record<string, string> };
}

describe('warehouse outage: 60 s without the warehouse, mid-run', () => {
  let batches: RawEvent[][];
  const runs: Run[] = [];
  const roles: RoleProcess[] = [];
  let clean: Dump;
  let outage: Dump;
  let nc: NatsConnection | null = null;
  let jsm: JetStreamManager;
  let postgres: PostgresServer | null = null;
  let control: ControlPlane | null = null;
  let apiWarehouse: Warehouse | null = null;
  let api: Awaited<ReturnType<typeof buildApi>> | null = null;
  let apiKey = '';
  let sinkOps = '';
  let channelId = '';
  const started = performance.now();

  // What was seen while the warehouse was away, and after.
  const during = {
    ackFloors: [] as Array<Record<string, number>>,
    heldAtEnd: 0,
    /** Messages the processors published while the warehouse was away. */
    derivedMeanwhile: 0,
    readiness: null as Readiness | null,
    insertErrors: 0,
    apiStatuses: [] as number[],
    apiBodies: [] as Array<{ error?: { code?: string; message?: string } }>,
    outageMs: 0,
    notReadyAfterKillMs: 0,
  };
  const after = { warehouseBackMs: 0, readyAfterRestartMs: 0, apiStatuses: [] as number[], idleAfterRestartMs: 0 };
  let before200: number[] = [];

  const sinkConsumers = async (): Promise<Record<string, ConsumerInfo>> => {
    const out: Record<string, ConsumerInfo> = {};
    for (const [stream, name] of [
      ['TG_RAW', 'sink_raw'],
      ['TG_DERIVED', 'sink_derived'],
    ])
      out[name] = await jsm.consumers.info(stream, name);
    return out;
  };
  /** Messages the processors have published so far. */
  const derivedEvents = async () => (await jsm.streams.info('TG_DERIVED')).state.last_seq;
  const ackFloors = async () =>
    Object.fromEntries(Object.entries(await sinkConsumers()).map(([n, c]) => [n, c.ack_floor.stream_seq]));
  const readiness = async (): Promise<Readiness> => {
    const res = await fetch(`${sinkOps}/readyz`);
    return { status: res.status, body: (await res.json()) as Readiness['body'] };
  };
  const insertErrors = async () =>
    counterTotal(await (await fetch(`${sinkOps}/metrics`)).text(), 'tgpulse_errors_total', { error: 'insert' });
  /** Two questions a dashboard asks, neither cacheable (the cache is off): their statuses and bodies. */
  const ask = async () => {
    const answers = [];
    for (const path of ['/v1/channels', `/v1/channels/${channelId}/overview?${PERIOD}`]) {
      const res = await api!.inject({ method: 'GET', url: path, headers: { authorization: `Bearer ${apiKey}` } });
      answers.push({ status: res.statusCode, body: res.json() as { error?: { code?: string; message?: string } } });
    }
    return answers;
  };

  /** The reference: the same input through the same roles, without an outage. */
  async function uninterrupted(): Promise<Dump> {
    const run = await startRun(batches, 'wh-clean');
    runs.push(run);
    const warehouse = await startWarehouse(run);
    roles.push(warehouse);
    const pipeline = [spawnRole('process', [], run.env), spawnRole('sink', [], run.env)];
    roles.push(...pipeline);
    await untilIdle(run);
    for (const r of pipeline) expect(await stopRole(r), r.output()).toBe(0);
    const dump = await dumpTables(run.dataDir);
    expect(await stopRole(warehouse), warehouse.output()).toBe(0);
    progress('reference run done');
    return dump;
  }

  /** What the run is at, with the seconds since the file started: the story of a slow or failed run. */
  function progress(what: string): void {
    console.info(`warehouse outage: ${((performance.now() - started) / 1000).toFixed(1)} s ${what}`);
  }

  beforeAll(async () => {
    batches = outageInput();
    channelId = batches.flat()[0].channel_id;
    // The reference first: its publishing, in this process, is over before the outage, whose
    // observations need this process's loop; its roles run beside ours.
    const reference = uninterrupted();
    // The API's keys live in a control plane of their own (a private Postgres server, lighter than PGlite).
    const postgresStarting = startPostgresServer();
    // Their failures are awaited below: an unhandled rejection meanwhile would end the file early.
    for (const p of [reference, postgresStarting]) p.catch(() => undefined);
    // The outage run: pinned warehouse ports, so the restarted role listens where every client already points.
    const run = await startRun(batches, 'wh-outage');
    runs.push(run);
    const env = {
      ...run.env,
      // Ports the warehouse finds free again after 60 s down (see serverPort).
      TGPULSE_WAREHOUSE_HTTP_PORT: String(await serverPort()),
      TGPULSE_WAREHOUSE_NATIVE_PORT: String(await serverPort()),
    };
    const opsPort = await anyFreePort();
    sinkOps = `http://127.0.0.1:${opsPort}`;
    let warehouse = await startWarehouse({ ...run, env });
    roles.push(warehouse);
    const pipeline = [
      spawnRole('process', [], env),
      spawnRole('sink', [], { ...env, TGPULSE_HTTP_PORT: String(opsPort) }),
    ];
    roles.push(...pipeline);

    // The API in this process, on the same warehouse, its answer cache off so every request asks the warehouse.
    postgres = await postgresStarting;
    control = await openControlPlane({ driver: 'server', url: postgres.url });
    apiKey = (await createApiKey(control.pool, { name: 'dashboard', scopes: ['read'] })).token;
    apiWarehouse = await openWarehouse({
      driver: 'local',
      dataDir: run.dataDir,
      database: 'tgpulse',
      httpPort: 0,
      nativePort: 0,
    });
    api = await buildApi({
      warehouse: apiWarehouse,
      control: control.pool,
      shareSecret: Buffer.alloc(32, 7),
      config: LOOPBACK_API_CONFIG,
      log: silentLogger,
      registry: new Registry(),
    });

    nc = await connect({ servers: run.nats.url });
    jsm = await jetstreamManager(nc);
    // Mid-run: the sinks have written some of the input, the rest is still coming.
    await until(
      'the sinks write, with more to come',
      async () => {
        const c = await sinkConsumers().catch(() => null);
        if (c === null || c.sink_raw.ack_floor.stream_seq === 0 || c.sink_derived.ack_floor.stream_seq === 0)
          return false;
        return Object.values(c).some((i) => i.num_pending + i.num_ack_pending > 0);
      },
      120_000,
      100,
    );
    before200 = (await ask()).map((a) => a.status);

    const derivedAtKill = await derivedEvents();
    progress('the sinks write with more to come: killing the warehouse role');
    const killedAt = performance.now();
    await killRole(warehouse);
    during.readiness = await until(
      'the sink reports the warehouse not ready',
      async () => {
        const r = await readiness();
        return r.status !== 200 ? r : null;
      },
      30_000,
      200,
    );
    during.notReadyAfterKillMs = performance.now() - killedAt;
    progress('the sink reports not ready');
    during.insertErrors = await until('the sink counts failed inserts', insertErrors, 30_000, 200);
    // What was acked before the kill has settled by now: from here on nothing may be acked.
    await sleep(2000);
    for (const answer of await ask()) {
      during.apiStatuses.push(answer.status);
      during.apiBodies.push(answer.body);
    }
    while (performance.now() - killedAt < OUTAGE_MS - 2000) {
      during.ackFloors.push(await ackFloors());
      for (const answer of await ask()) {
        during.apiStatuses.push(answer.status);
        during.apiBodies.push(answer.body);
      }
      await sleep(1000);
    }
    during.ackFloors.push(await ackFloors());
    const held = await sinkConsumers();
    during.heldAtEnd = Object.values(held).reduce((n, c) => n + c.num_ack_pending + c.num_pending, 0);
    during.derivedMeanwhile = (await derivedEvents()) - derivedAtKill;
    await sleep(Math.max(0, OUTAGE_MS - (performance.now() - killedAt)));

    // Back, on the same folder and ports; nothing else is restarted.
    progress('restarting the warehouse role');
    warehouse = spawnRole('warehouse', [], env);
    roles.push(warehouse);
    during.outageMs = performance.now() - killedAt;
    // After a SIGKILL the engine loads every part again before it listens: slow on a busy machine.
    await until(
      'the warehouse role serves again',
      () => readRunningWarehouse(run.dataDir) !== null || warehouse.child.exitCode !== null,
      180_000,
      200,
    );
    expect(warehouse.child.exitCode, warehouse.output()).toBeNull();
    after.warehouseBackMs = performance.now() - killedAt - during.outageMs;
    const restartedAt = performance.now();
    await until('the sink is ready again', async () => (await readiness()).status === 200, 60_000, 200);
    after.readyAfterRestartMs = performance.now() - restartedAt;
    await until('the API answers again', async () => (await ask()).every((a) => a.status === 200), 60_000, 500);
    progress('the sink is ready and the API answers again');
    after.apiStatuses = (await ask()).map((a) => a.status);
    await untilIdle(run);
    after.idleAfterRestartMs = performance.now() - restartedAt;
    progress('caught up');
    for (const r of pipeline) expect(await stopRole(r), r.output()).toBe(0);
    outage = await dumpTables(run.dataDir);
    await api.close();
    await apiWarehouse.close();
    expect(await stopRole(warehouse), warehouse.output()).toBe(0);
    clean = await reference;
  }, 600_000);

  afterAll(async () => {
    await api?.close();
    await apiWarehouse?.close();
    await control?.close();
    await postgres?.remove();
    await nc?.close();
    for (const r of roles) await killRole(r);
    for (const r of runs) {
      await r.nats.stop();
      // The engine dies with its role, a moment after it: retry while it lets go of its files.
      rmSync(r.dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
    }
  });

  it('kept the warehouse down for 60 s while the sinks had work in hand', () => {
    console.info(
      `warehouse outage ${(during.outageMs / 1000).toFixed(1)} s; sink not ready ${(during.notReadyAfterKillMs / 1000).toFixed(1)} s after the kill, ` +
        `the role served again ${(after.warehouseBackMs / 1000).toFixed(1)} s after its restart, the sink ready ${(after.readyAfterRestartMs / 1000).toFixed(1)} s after that, caught up after ${(after.idleAfterRestartMs / 1000).toFixed(1)} s; ` +
        `${during.derivedMeanwhile} derived messages published and ${during.heldAtEnd} held unacked by the sinks during the outage; ${during.apiStatuses.length} API requests meanwhile; ` +
        `test ${((performance.now() - started) / 1000).toFixed(0)} s`,
    );
    expect(during.outageMs).toBeGreaterThanOrEqual(OUTAGE_MS);
    expect(during.heldAtEnd).toBeGreaterThan(0);
    expect(during.derivedMeanwhile).toBeGreaterThan(0);
  });

  it('acked nothing while the warehouse was away', () => {
    expect(during.ackFloors.length).toBeGreaterThanOrEqual(3);
    for (const floors of during.ackFloors) expect(floors).toEqual(during.ackFloors[0]);
  });

  it('reported it in the metrics and readiness of the sink role', () => {
    expect(during.insertErrors).toBeGreaterThan(0);
    expect(during.readiness?.status).toBe(503);
    expect(during.readiness?.body.status).toBe('not_ready');
    expect(during.readiness?.body.checks.nats).toBe('ok');
    expect(during.readiness?.body.checks.warehouse).toMatch(/ClickHouse ping failed/);
  });

  it('answered API requests with 503 and a clear error meanwhile, never 500, and 200 before and after', () => {
    expect(before200).toEqual([200, 200]);
    expect(during.apiStatuses.length).toBeGreaterThanOrEqual(6);
    expect(new Set(during.apiStatuses)).toEqual(new Set([503]));
    for (const body of during.apiBodies) {
      expect(body.error?.code).toBe('warehouse_unavailable');
      expect(body.error?.message).toMatch(/did not answer; retry shortly/);
    }
    expect(after.apiStatuses).toEqual([200, 200]);
  });

  it('ended with the tables of the uninterrupted run: nothing lost, nothing doubled', () => {
    const { lost, doubled } = rowDifference(clean, outage);
    const rows = Object.values(clean).reduce((n, t) => n + t.length, 0);
    recordSummary({
      section: 'faults',
      what: 'warehouse SIGKILL, down 60 s',
      count: 1,
      outcome: `${during.apiStatuses.length} API requests all 503; tables equal the uninterrupted run (${rows} rows)`,
      lost,
      doubled,
    });
    expect(clean.raw_post_counters.length).toBeGreaterThan(0);
    expect(clean.window_aggs.length).toBeGreaterThan(0);
    expect({ lost, doubled }).toEqual({ lost: 0, doubled: 0 });
    for (const name of Object.keys(TABLES)) expect(outage[name], name).toEqual(clean[name]);
  });
});
