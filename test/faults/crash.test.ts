/**
 * Crash test: the warehouse (`tgpulse warehouse`), processing and sink roles
 * run as child processes. The roles are killed with SIGKILL at random points
 * and restarted, and the warehouse server itself is killed with SIGKILL
 * mid-insert (its supervisor restarts it). The final tables must equal those
 * of an uninterrupted run of the same input.
 */
import { listConsumers } from '../streams/consumers.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { readRunningWarehouse } from '../clickhouse/local-server/server.ts';
import { Rng } from '../ingest/simulator/rng.ts';
import { sleep } from '../common/retry.ts';
import type { RawEvent } from '../streams/contract/events.ts';
import { killRole, spawnRole, stopRole, type RoleProcess } from './support/roles.ts';
import { dumpTables, input, startRun, startWarehouse, TABLES, untilIdle, type Dump, type Run } from './support/runs.ts';

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
      for (const info of await listConsumers(jsm, 'TG_RAW')) n += info.num_pending + info.num_ack_pending;
      return n;
    };
    let processRole: RoleProcess = spawnRole('process', [], b.env);
    let sinkRole: RoleProcess = spawnRole('sink', [], b.env);
    // Kills count as "under load" only once the roles consume: on a busy
    // machine starting them can take longer than the first kill's delay.
    for (const until = Date.now() + 120_000; Date.now() < until; await sleep(250)) {
      const names: string[] = [];
      for (const info of await listConsumers(jsm, 'TG_RAW')) names.push(info.name);
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
    console.info(
      `crash schedule: ${kills.join(', ')}; rows: ${JSON.stringify(Object.fromEntries(Object.entries(clean).map(([k, v]) => [k, v.length])))}`,
    );
    for (const name of [
      'raw_post_counters',
      'post_deltas',
      'window_aggs',
      'trends',
      'channel_hourly',
      'channel_daily',
      'post_summary',
    ]) {
      expect(clean[name].length, name).toBeGreaterThan(0);
    }
  });

  it.each(Object.keys(TABLES))('%s equals the uninterrupted run', (name) => {
    expect(crashed[name].length).toBe(clean[name].length);
    expect(crashed[name]).toEqual(clean[name]);
  });
});
