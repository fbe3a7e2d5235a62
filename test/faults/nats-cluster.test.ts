/**
 * A NATS node dies mid-run. The pipeline runs as `tgpulse` processes on a
 * three-node JetStream cluster (infra/nats/ configs, R3 streams and KV) while
 * the input is still being published: one node is SIGKILLed and brought back,
 * then the JetStream meta leader. Clients fail over to the surviving nodes,
 * streams elect new leaders, and the final tables must equal those of an
 * uninterrupted run on a single server.
 */
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../../common/retry.ts';
import { defaultStreamsConfig, type StreamsConfig } from '../../streams/config.ts';
import { listConsumers } from '../../streams/consumers.ts';
import { connectNats } from '../../streams/nats.ts';
import { ensureStreams } from '../../streams/topology.ts';
import { recordSummary } from '../support/fault-summary.ts';
import { waitIdle } from '../support/idle.ts';
import { NatsCluster } from '../support/nats-cluster.ts';
import { tempDir } from '../support/nats.ts';
import { killRole, spawnRole, stopRole, warningSummary, type RoleProcess } from '../support/roles.ts';
import {
  dumpTables,
  input,
  publishBatches,
  rowDifference,
  startWarehouse,
  TABLES,
  uninterruptedDump,
  type Dump,
} from '../support/runs.ts';
import { until } from '../support/until.ts';

/** How long a killed node stays down: several lease TTLs and ack waits, well past a leader election. */
const DOWN_MS = 5000;

interface Fault {
  what: string;
  node: number;
  backlog: number;
}

describe('a NATS node and then the meta leader die mid-run', () => {
  const streams: StreamsConfig = { ...defaultStreamsConfig, replicas: 3 };
  let cluster: NatsCluster;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let clean: Dump;
  let run: Dump;
  const roles: RoleProcess[] = [];
  const faults: Fault[] = [];
  /** What the processor and the sink logged at warn and above: the story of a run that lost rows. */
  let roleWarnings = '';

  beforeAll(async () => {
    clean = await uninterruptedDump();
    const batches = input();
    cluster = await NatsCluster.start();
    await cluster.healthy();
    nc = await connectNats(cluster.url, 'fault-test');
    jsm = await jetstreamManager(nc);
    await ensureStreams(jsm, streams);

    const dataDir = tempDir('nats-cluster');
    // A short ack wait and lease TTL, as in the crash tests: what a failed-over role held comes back in seconds.
    const env = {
      TGPULSE_NATS_URL: cluster.url,
      TGPULSE_REPLICAS: '3',
      TGPULSE_DATA_DIR: dataDir,
      TGPULSE_SINK_ACK_WAIT_S: '3',
      TGPULSE_PARTITION_LEASE_TTL_S: '2',
      TGPULSE_WAREHOUSE_HTTP_PORT: '0',
      TGPULSE_WAREHOUSE_NATIVE_PORT: '0',
      TGPULSE_LOG_LEVEL: 'warn',
    };
    roles.push(await startWarehouse({ dataDir, env }));
    // Half the input is waiting when the roles start; the rest is published while the nodes die.
    const half = Math.floor(batches.length / 2);
    await publishBatches(nc, batches.slice(0, half));
    roles.push(spawnRole('process', [], env), spawnRole('sink', [], env));
    await until('the roles consume', async () => (await listConsumers(jsm, streams.names.raw)).length > 1, 120_000);
    // One publish at a time while nodes die: a retried publish must not land after later input (see publishBatches).
    const publishing = publishBatches(nc, batches.slice(half), { maxInflight: 1 });

    const backlog = async () => {
      let n = 0;
      for (const c of await listConsumers(jsm, streams.names.raw)) n += c.num_pending + c.num_ack_pending;
      return n;
    };
    const leader = await cluster.metaLeader();
    const follower = (leader + 1) % 3;
    faults.push({ what: 'NATS node SIGKILL (a follower)', node: follower, backlog: await backlog() });
    await cluster.killNode(follower);
    await sleep(DOWN_MS);
    cluster.startNode(follower);
    await cluster.healthy();

    const metaLeader = await cluster.metaLeader();
    faults.push({ what: 'NATS meta leader SIGKILL', node: metaLeader, backlog: await backlog() });
    await cluster.killNode(metaLeader);
    // The two survivors elect a new meta leader while the old one is down.
    const elected = await cluster.metaLeader();
    expect(elected).not.toBe(metaLeader);
    await sleep(DOWN_MS);
    cluster.startNode(metaLeader);
    await cluster.healthy();

    await publishing;
    await waitIdle(jsm, streams, 300_000).catch(async (err: unknown) => {
      // A rare stall seen after the meta leader's kill: say which consumer waits and what the roles said.
      const stuck = [];
      for (const stream of [streams.names.raw, streams.names.derived, streams.names.dlq])
        for (const c of await listConsumers(jsm, stream).catch(() => []))
          if (c.num_pending + c.num_ack_pending > 0)
            stuck.push(`${stream}/${c.name}: ${c.num_pending} pending, ${c.num_ack_pending} unacked`);
      throw new Error(
        `${(err as Error).message}\nconsumers with work: ${stuck.join('; ') || 'none'}\nroles: ${warningSummary(roles.slice(1))}`,
      );
    });
    roleWarnings = warningSummary(roles.slice(1));
    for (const r of roles.splice(1)) expect(await stopRole(r), r.output()).toBe(0);
    run = await dumpTables(dataDir);
  }, 900_000);

  afterAll(async () => {
    for (const r of roles.reverse()) await killRole(r);
    await nc?.close().catch(() => undefined);
    await cluster?.stop();
  });

  it('killed both nodes while input was waiting', () => {
    expect(faults.map((f) => f.what)).toEqual(['NATS node SIGKILL (a follower)', 'NATS meta leader SIGKILL']);
    for (const f of faults) expect(f.backlog, f.what).toBeGreaterThan(0);
  });

  it('lost and doubled nothing', () => {
    const { lost, doubled } = rowDifference(clean, run);
    for (const f of faults)
      recordSummary({
        section: 'faults',
        what: f.what,
        count: 1,
        outcome: 'tables equal the uninterrupted run',
        lost,
        doubled,
      });
    const reasons = new Map<string, number>();
    for (const d of run.dead_letters as Array<{ reason: string; stage: string }>)
      reasons.set(`${d.stage}: ${d.reason}`, (reasons.get(`${d.stage}: ${d.reason}`) ?? 0) + 1);
    expect(
      { lost, doubled, deadLetters: Object.fromEntries(reasons) },
      differenceStory(clean, run, roleWarnings),
    ).toEqual({
      lost: 0,
      doubled: 0,
      deadLetters: {},
    });
  });

  it.each(Object.keys(TABLES))('%s equals the uninterrupted run', (name) => {
    expect(run[name].length).toBe(clean[name].length);
    expect(run[name]).toEqual(clean[name]);
  });
});

/** Where a run differs from the uninterrupted one: rows lost and doubled per table and per channel, and the roles' warnings. */
function differenceStory(clean: Dump, run: Dump, warnings: string): string {
  const tables = Object.keys(clean).flatMap((t) => {
    const d = rowDifference({ [t]: clean[t] }, { [t]: run[t] ?? [] });
    if (d.lost === 0 && d.doubled === 0) return [];
    const byChannel = new Map<string, number>();
    const count = (rows: unknown[], sign: number) => {
      for (const r of rows) {
        const c = String((r as { channel_id?: unknown }).channel_id ?? '?');
        byChannel.set(c, (byChannel.get(c) ?? 0) + sign);
      }
    };
    count(clean[t], 1);
    count(run[t] ?? [], -1);
    const missing = [...byChannel]
      .filter(([, n]) => n !== 0)
      .map(([c, n]) => `${c}: ${n > 0 ? `${n} fewer` : `${-n} more`}`);
    return [`${t} lost ${d.lost}, doubled ${d.doubled} (rows by channel: ${missing.join(', ') || 'same counts'})`];
  });
  return `${tables.join('; ')}\nroles: ${warnings}`;
}
