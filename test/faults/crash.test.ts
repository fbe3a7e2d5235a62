/**
 * Crash ×20: the pipeline runs as separate processes — `tgpulse warehouse`,
 * `process`, `sink`, `bot` (the alert notifier, against the fake Bot API),
 * `up` (processors, sinks and the API in one process), and an MTProto
 * collector against the fake Telegram (a child process, see
 * support/crash-collector.ts) — and 20 SIGKILLs land at seeded random points,
 * four on each kind, each victim restarted at once; the warehouse server
 * itself is killed twice mid-insert (its supervisor restarts it). Kills wait
 * for work in hand: half the input arrives during the schedule, the notifier
 * is killed while it sends, the collector inside a step.
 *
 * Then: the tables equal an uninterrupted run of the same input (the
 * collector's channels, in partitions of their own, are checked against the
 * fake world instead), and each alert reached each subscribed chat once,
 * except where a kill fell between Telegram's answer and the notifier's record
 * of it, the one window bot/notifier/notifier.ts documents.
 */
import type pg from 'pg';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRunningWarehouse } from '../../clickhouse/local-server/server.ts';
import { openWarehouse } from '../../clickhouse/open.ts';
import { sleep } from '../../common/retry.ts';
import { upsertSubscription } from '../../control/bot-store.ts';
import { openControlPlane, type ControlPlane } from '../../control/postgres.ts';
import { freshTestControl, type TestControl } from '../../control/testing.ts';
import { Rng } from '../../common/rng.ts';
import { listConsumers } from '../../streams/consumers.ts';
import { defaultStreamsConfig } from '../../streams/config.ts';
import { decodeBatch } from '../../streams/contract/codec.ts';
import { parseSubject } from '../../streams/contract/subjects.ts';
import type { AnomalyEvent } from '../../streams/contract/events.ts';
import { deliveredSends, recordedSends, unrecordedSends, type DeliveredSend } from '../support/alert-ledger.ts';
import {
  changingPosts,
  COLLECTOR_CHANNELS,
  COLLECTOR_STEPS,
  collectorWorld,
  spawnCollector,
  type CollectorChild,
} from '../support/crash-collector.ts';
import { FakeBotApi } from '../support/fake-bot-api.ts';
import { recordSummary } from '../support/fault-summary.ts';
import { until } from '../support/until.ts';
import { killRole, spawnRole, stopRole, type RoleProcess } from '../support/roles.ts';
import {
  dumpTables,
  input,
  publishAll,
  rowDifference,
  startRun,
  startWarehouse,
  TABLES,
  uninterruptedDump,
  untilIdle,
  type Dump,
  type Run,
} from '../support/runs.ts';

const KINDS = ['process', 'sink', 'bot', 'collector', 'up'] as const;
type Kind = (typeof KINDS)[number];
const VICTIM_NAMES: Record<Kind, string> = {
  process: 'process role',
  sink: 'sink role',
  bot: 'notifier (bot role)',
  collector: 'MTProto collector',
  up: '`tgpulse up`',
};
/** 37 × (1 + … + 8) views on each of two posts of a collector channel (support/crash-collector.ts). */
const COLLECTOR_VIEWS_GAINED = 2 * 37 * 36;
/** The rounds after which the warehouse server is killed too. */
const WAREHOUSE_ROUNDS = [6, 13];

interface Kill {
  kind: Kind;
  afterMs: number;
  /** The victim had work in hand: a backlog on its streams, or a collector step under way. */
  underLoad: boolean;
  /** Notifier kills: alerts Telegram had answered that the notifier had not recorded. */
  inWindow: DeliveredSend[];
}

/**
 * Eight chats per channel of the input, each subscribed to every alert of it,
 * so each anomaly is several sends and the notifier has work in hand for a
 * while (it is also held to two sends a second).
 */
/** A notifier's log kept for a failure's story (debug level: each anomaly event and Bot API call). */
const BOT_LOG_CHARS = 4_000_000;

const chatsOf = (i: number) => Array.from({ length: 8 }, (_, k) => String(5000 + 100 * i + k));

describe('crash ×20: SIGKILLed roles, notifier, collector and `up` restart to the same tables and alerts', () => {
  let clean: Dump;
  /** The crashed run's tables, without the collector's channels. */
  let crashed: Dump;
  let run: Run | undefined;
  let warehouse: RoleProcess | undefined;
  let fake: FakeBotApi | undefined;
  let testControl: TestControl | undefined;
  let control: ControlPlane | undefined;
  let collectorTestControl: TestControl | undefined;
  let collectorControl: ControlPlane | undefined;
  let nc: NatsConnection | undefined;
  const live = new Map<Kind, RoleProcess>();
  const kills: Kill[] = [];
  let warehouseKills = 0;
  let inputChannels: string[] = [];
  /** Every notifier of the run, killed ones too, for their logs. */
  const bots: RoleProcess[] = [];
  let collectorFacts: CollectorFacts;
  let seconds = 0;

  beforeAll(async () => {
    const started = performance.now();
    // The test holds the control planes and serves them to the roles over the wire, as `tgpulse up` does:
    // a killed role cannot take its store down with it, a restart starts none, and the test reads what was
    // recorded. The collector has a store of its own, so `up` finds no accounts to collect with.
    const stores = Promise.all([freshTestControl('embedded'), freshTestControl('embedded')]);
    clean = await uninterruptedDump();
    progress(started, 'uninterrupted run ready');
    [testControl, collectorTestControl] = await stores;
    [control, collectorControl] = await Promise.all([
      openControlPlane(testControl.config),
      openControlPlane(collectorTestControl.config),
    ]);
    const batches = input();
    inputChannels = [...new Set(batches.flat().map((e) => e.channel_id))].sort();

    fake = new FakeBotApi();
    await fake.start();
    for (const [i, channelId] of inputChannels.entries())
      for (const chatId of chatsOf(i))
        await upsertSubscription(control.pool, {
          chatId,
          channelId,
          minSeverity: 'info',
          maxPerHour: 1000,
          createdBy: null,
        });

    // Half the input is there from the start; the rest arrives in order, a slice each round just before
    // its kill, so the pipeline has a backlog to the end of the schedule however fast the machine is.
    const head = Math.floor(batches.length / 2);
    run = await startRun(batches.slice(0, head), 'crash20');
    warehouse = await startWarehouse(run);
    // `up` runs its processors and sinks in its own process, and no bot: one notifier, the `bot` role.
    const env = { ...run.env, TGPULSE_POSTGRES_URL: control.wireUrl!, TGPULSE_API_PORT: '0', TGPULSE_WORKERS: '0' };
    const botEnv = {
      ...env,
      TGPULSE_BOT_TOKEN: fake.token,
      TGPULSE_BOT_API_ROOT: fake.url,
      TGPULSE_BOT_MAX_SENDS_PER_S: '2',
      // Each anomaly event's destinations are logged at debug: a missing alert's story (missingAlertFacts).
      TGPULSE_LOG_LEVEL: 'debug',
    };
    const collectorUrl = collectorControl.wireUrl!;
    const natsUrl = run.nats.url;
    const start: Record<Kind, (killed?: RoleProcess) => RoleProcess> = {
      process: () => spawnRole('process', [], env),
      sink: () => spawnRole('sink', [], env),
      bot: () => {
        const bot = spawnRole('bot', [], botEnv, BOT_LOG_CHARS);
        bots.push(bot);
        return bot;
      },
      up: () => spawnRole('up', [], env),
      // A restarted collector begins at the first step its predecessor did not finish.
      collector: (killed) => spawnCollector(natsUrl, collectorUrl, killed ? (killed as CollectorChild).done + 1 : 0),
    };
    for (const kind of KINDS) live.set(kind, start[kind]());

    nc = await connect({ servers: natsUrl });
    const jsm = await jetstreamManager(nc);
    // The collector takes a step every few seconds while kills land, then runs to its end.
    let paceMs = 9000;
    const collecting = (async () => {
      for (let step = 0; step <= COLLECTOR_STEPS; ) {
        const child = live.get('collector') as CollectorChild;
        if (await child.step(step)) {
          step++;
          await sleep(paceMs);
          continue;
        }
        // Only a kill of ours may end it; the kill loop then starts its successor.
        if (child.child.signalCode !== 'SIGKILL') throw new Error(`the collector exited: ${child.output()}`);
        while (live.get('collector') === child) await sleep(50);
        step = (live.get('collector') as CollectorChild).done + 1;
      }
    })();
    // A collector that fails on its own fails the run where it is awaited, after the schedule.
    collecting.catch(() => undefined);

    await untilConsuming(jsm);
    progress(started, 'roles consume; kills begin');
    const rng = new Rng(20261207);
    const schedule = shuffled(
      KINDS.flatMap((k) => [k, k, k, k]),
      rng,
    );
    const attributed = new Set<number>();
    for (const [round, kind] of schedule.entries()) {
      const afterMs = rng.int(1500, 4500);
      await sleep(afterMs);
      const slice = Math.ceil((batches.length - head) / schedule.length);
      await publishAll(natsUrl, batches.slice(head + round * slice, head + (round + 1) * slice));
      const victim = live.get(kind)!;
      let underLoad: boolean;
      if (kind === 'bot') {
        // Alerts come in bursts as windows close: the notifier is killed while it sends one, at a seeded
        // point of its send cycle (two a second). The wait for a burst is short, so the other roles'
        // backlog lasts through the schedule, but longer than a restarted notifier takes to start
        // (a second kill of it can follow the first); a kill that found no burst counts as idle.
        const sends = fake.calls.length;
        underLoad = await within(() => fake?.calls.slice(sends).some((c) => /^send/.test(c.method)), 15_000);
        await sleep(rng.int(0, 500));
      } else if (kind === 'collector') {
        // Likewise within a collector step (one starts every few seconds).
        underLoad = await within(() => (victim as CollectorChild).busy, 8_000);
        await sleep(rng.int(0, 200));
        underLoad &&= (victim as CollectorChild).busy;
      } else {
        await sleep(rng.int(0, 300));
        underLoad = (await backlog(jsm)) > 0;
      }
      await killRole(victim);
      live.set(kind, start[kind](victim));
      let inWindow: DeliveredSend[] = [];
      if (kind === 'bot') {
        // The dead notifier's sends Telegram answered and it never recorded: they will go out again.
        inWindow = (await unrecordedSends(fake, control.pool)).filter((s) => !attributed.has(s.messageId));
        for (const s of inWindow) attributed.add(s.messageId);
      }
      kills.push({ kind, afterMs, underLoad, inWindow });
      progress(started, `kill ${round + 1}: ${kind}${underLoad ? '' : ' (idle)'}`);
      if (WAREHOUSE_ROUNDS.includes(round)) {
        const server = readRunningWarehouse(run.dataDir);
        if (server !== null) {
          process.kill(server.pid, 'SIGKILL');
          warehouseKills++;
        }
      }
    }
    progress(started, 'kills done');
    paceMs = 0;
    await collecting;
    progress(started, 'collector done');
    await untilIdle(run);
    progress(started, 'pipeline idle');
    // Every alert recorded, and nothing left for the notifier (what a killed one held comes back after its
    // ack wait). Once the notifier holds nothing more, a shortfall is final: the assertions below name it.
    const expected = expectedAlerts(clean, inputChannels).length;
    for (let drainedRounds = 0, end = Date.now() + 180_000; Date.now() < end && drainedRounds < 10; await sleep(500)) {
      const info = await jsm.consumers.info('TG_DERIVED', 'notifier');
      const drained = info.num_pending === 0 && info.num_ack_pending === 0;
      if (drained && (await recordedSends(control.pool)).length >= expected) break;
      drainedRounds = drained ? drainedRounds + 1 : 0;
    }
    progress(started, 'alerts done');
    (live.get('collector') as CollectorChild).child.stdin?.end();
    for (const [kind, role] of live) {
      expect(await stopRole(role), `${kind}: ${role.output()}`).toBe(0);
      live.delete(kind);
    }
    crashed = inputTables(await dumpTables(run.dataDir));
    collectorFacts = await readCollectorFacts(run.dataDir);
    seconds = (performance.now() - started) / 1000;
    recordOutcome(kills, warehouseKills, rowDifference(clean, crashed), collectorFacts, {
      owed: expected,
      recorded: (await recordedSends(control.pool)).length,
      sends: deliveredSends(fake).length,
      repeats: (await unrecordedSends(fake, control.pool)).length,
    });
  }, 900_000);

  afterAll(async () => {
    for (const role of live.values()) await killRole(role);
    if (warehouse) await stopRole(warehouse);
    await nc?.close();
    await run?.nats.stop();
    await fake?.stop();
    await control?.close();
    await testControl?.dispose();
    await collectorControl?.close();
    await collectorTestControl?.dispose();
  });

  it('killed each kind four times, mostly with work in hand, and the warehouse server twice', () => {
    console.info(
      `crash ×20 in ${seconds.toFixed(0)} s: ${kills.map((k) => `${k.afterMs}ms:${k.kind}${k.underLoad ? '' : '(idle)'}`).join(', ')}`,
    );
    for (const kind of KINDS) expect(kills.filter((k) => k.kind === kind)).toHaveLength(4);
    expect(kills.filter((k) => k.underLoad).length).toBeGreaterThanOrEqual(15);
    expect(warehouseKills).toBe(2);
  });

  it('produced data in every table it compares, and alerts', () => {
    for (const name of ['raw_post_counters', 'post_deltas', 'window_aggs', 'trends', 'anomaly_events', 'post_summary'])
      expect(clean[name].length, name).toBeGreaterThan(0);
    expect(expectedAlerts(clean, inputChannels).length).toBeGreaterThan(0);
  });

  it.each(Object.keys(TABLES))('%s equals the uninterrupted run', (name) => {
    expect(crashed[name].length).toBe(clean[name].length);
    expect(crashed[name]).toEqual(clean[name]);
  });

  it("stores the collector's channels as the fake Telegram shows them: every post once, the last counters and members", () => {
    expect(collectorFacts.missingPosts).toEqual([]);
    expect(collectorFacts.doubledPosts).toEqual([]);
    expect(collectorFacts.latestViews).toEqual(collectorFacts.worldViews);
    expect(collectorFacts.members).toEqual(collectorFacts.worldMembers);
    // A repeated observation must not add to the views gained.
    expect(collectorFacts.viewsGained).toEqual(COLLECTOR_CHANNELS.map(() => COLLECTOR_VIEWS_GAINED));
  });

  it('sent each alert once to each subscribed chat, but for sends a kill caught between answer and record', async () => {
    const expected = expectedAlerts(clean, inputChannels).sort();
    const recorded = await recordedSends(control!.pool);
    const got = recorded.map((r) => `${r.anomalyId}/${r.chatId}/${r.stage}`).sort();
    expect(got, await missingAlertFacts(control!.pool, nc!, fake!, bots, expected, got)).toEqual(expected);
    const delivered = deliveredSends(fake!);
    const byId = new Map(delivered.map((s) => [s.messageId, s]));
    // The ledger's message ids match the notifier's records: same chat, a photo or text for an alert, text for a resolution.
    for (const r of recorded) {
      expect(byId.get(r.messageId)?.chatId, JSON.stringify(r)).toBe(r.chatId);
      if (r.stage === 'resolved') expect(byId.get(r.messageId)?.method).toBe('sendMessage');
    }
    const repeats = await unrecordedSends(fake!, control!.pool);
    const explained = new Set(kills.flatMap((k) => k.inWindow.map((s) => s.messageId)));
    // Every repeat is a send a notifier kill caught in the window; each kill catches at most one (the notifier sends one at a time)…
    expect(repeats.filter((s) => !explained.has(s.messageId))).toEqual([]);
    for (const k of kills) expect(k.inWindow.length).toBeLessThanOrEqual(1);
    // …and the repeat is of an alert that then went out, was recorded, and was not sent a third time.
    const recordedContent = new Set(recorded.map((r) => `${r.chatId}\n${byId.get(r.messageId)?.content}`));
    for (const s of repeats) expect(recordedContent.has(`${s.chatId}\n${s.content}`)).toBe(true);
    expect(delivered.length).toBe(recorded.length + repeats.length);
  });
});

/** Where the run is, for a run that takes minutes (stderr, so it shows as it happens). */
function progress(started: number, what: string): void {
  process.stderr.write(`crash ×20 +${((performance.now() - started) / 1000).toFixed(0)}s: ${what}\n`);
}

// ---- the run --------------------------------------------------------------------------------------

/** Waits until the roles consume (on a busy machine starting them takes a while), so kills land under load. */
async function untilConsuming(jsm: JetStreamManager): Promise<void> {
  for (const until = Date.now() + 120_000; Date.now() < until; await sleep(250)) {
    const names = (await listConsumers(jsm, 'TG_RAW')).map((c) => c.name);
    if (names.includes('sink_raw') && names.some((n) => n.startsWith('processor_p00_'))) return;
  }
}

/** Messages not yet acked by the pipeline's consumers (the processors' and the sinks'). */
async function backlog(jsm: JetStreamManager): Promise<number> {
  let n = 0;
  for (const stream of ['TG_RAW', 'TG_DERIVED'])
    for (const c of await listConsumers(jsm, stream)) if (c.name !== 'notifier') n += c.num_pending + c.num_ack_pending;
  return n;
}

/** Whether `condition` comes true within `ms`. */
function within(condition: () => boolean | undefined, ms: number): Promise<boolean> {
  return until('', condition, ms).then(
    () => true,
    () => false,
  );
}

function shuffled<T>(items: T[], rng: Rng): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

// ---- what the run must show -------------------------------------------------------------------------

/**
 * For a shortfall: what the control plane holds of each anomaly with a missing alert (every decision,
 * whatever its outcome, and whether its opening counts as handled), and the notifier's messages that
 * carry its events, so a failure says where it was lost.
 */
async function missingAlertFacts(
  pool: pg.Pool,
  nc: NatsConnection,
  fake: FakeBotApi,
  bots: RoleProcess[],
  expected: string[],
  got: string[],
): Promise<string> {
  const have = new Set(got);
  const missing = expected.filter((e) => !have.has(e));
  const anomalies = [...new Set(missing.map((e) => e.split('/')[0]))];
  if (anomalies.length === 0) return 'no alert missing';
  // The chats owed an alert: their subscriptions now, and what Telegram got for them at all.
  const chats = [...new Set(missing.map((e) => e.split('/')[1]))];
  const subscriptions = await pool.query(
    'SELECT chat_id, channel_id, enabled, disabled_reason FROM alert_subscriptions WHERE chat_id = ANY($1) ORDER BY chat_id',
    [chats],
  );
  const delivered = deliveredSends(fake).filter((d) => chats.includes(d.chatId)).length;
  // What each notifier logged of these anomalies (their events are logged at debug with their destinations).
  const logged = bots.flatMap((b, i) =>
    b
      .output()
      .split('\n')
      .filter((l) => anomalies.some((a) => l.includes(a)) || /"level":(40|50|60)/.test(l))
      .map((l) => `bot #${i} (pid ${b.child.pid}): ${l.slice(0, 600)}`),
  );
  const decisions = await pool.query(
    'SELECT anomaly_id, chat_id, stage, outcome, message_id, at FROM alert_deliveries WHERE anomaly_id = ANY($1) ORDER BY at',
    [anomalies],
  );
  const openings = await pool.query('SELECT anomaly_id, handled_at FROM alert_openings WHERE anomaly_id = ANY($1)', [
    anomalies,
  ]);
  const notifier = await (await jetstreamManager(nc)).consumers.info('TG_DERIVED', 'notifier');
  return (
    `missing alerts of ${anomalies.join(', ')}; decisions: ${JSON.stringify(decisions.rows)}; ` +
    `their chats' subscriptions: ${JSON.stringify(subscriptions.rows)}; sends Telegram got for those chats: ${delivered}; ` +
    `notifier logs:\n${logged.slice(-60).join('\n')}\n` +
    `handled openings: ${JSON.stringify(openings.rows)}; in TG_DERIVED: ${JSON.stringify(await anomalyMessages(nc, anomalies))}; ` +
    `notifier consumer: ${JSON.stringify({ delivered: notifier.delivered, ack_floor: notifier.ack_floor, redelivered: notifier.num_redelivered })}`
  );
}

/** The notifier's messages (stream sequence, publish time) that carry events of these anomalies. */
async function anomalyMessages(nc: NatsConnection, anomalies: string[]): Promise<object[]> {
  const wanted = new Set(anomalies);
  const consumer = await jetstream(nc).consumers.get('TG_DERIVED', { filter_subjects: 'tg.derived.*.anomaly.>' });
  const out: object[] = [];
  for (;;) {
    let n = 0;
    for await (const m of await consumer.fetch({ max_messages: 500, expires: 2000 })) {
      n++;
      const { events } = decodeBatch(m.data, {
        maxMessageBytes: defaultStreamsConfig.maxMessageBytes,
        layer: 'derived',
        subject: parseSubject(m.subject),
        partitions: defaultStreamsConfig.partitions,
      });
      for (const e of events)
        if (e.kind === 'anomaly' && wanted.has((e as AnomalyEvent).data.anomaly_id))
          out.push({
            seq: m.seq,
            at: new Date(Number(m.info.timestampNanos) / 1e6).toISOString(),
            state: (e as AnomalyEvent).data.state,
            id: e.id,
          });
    }
    if (n === 0) return out;
  }
}

/** `anomaly/chat/stage` of every alert the notifier owes: each opening and resolution, to every chat of its channel. */
function expectedAlerts(dump: Dump, channels: string[]): string[] {
  const out: string[] = [];
  for (const row of dump.anomaly_events as Array<{ anomaly_id: string; channel_id: string; state: string }>) {
    if (row.state !== 'opened' && row.state !== 'resolved') continue;
    for (const chat of chatsOf(channels.indexOf(row.channel_id))) out.push(`${row.anomaly_id}/${chat}/${row.state}`);
  }
  return out;
}

/** The run's tables without the collector's channels: what an uninterrupted run of the input has. */
function inputTables(dump: Dump): Dump {
  const ofInput = (r: unknown) => {
    const row = r as { channel_id?: string; subject?: string };
    const channel = row.channel_id ?? row.subject?.split('.').at(-1) ?? '';
    return !COLLECTOR_CHANNELS.includes(channel);
  };
  return Object.fromEntries(Object.entries(dump).map(([name, rows]) => [name, rows.filter(ofInput)]));
}

interface CollectorFacts {
  missingPosts: string[];
  doubledPosts: string[];
  latestViews: Record<string, number>;
  worldViews: Record<string, number>;
  members: number[];
  worldMembers: number[];
  viewsGained: number[];
}

/** The collector's channels in the warehouse, beside the fake world at its last step. */
async function readCollectorFacts(dataDir: string): Promise<CollectorFacts> {
  const { channels } = collectorWorld(COLLECTOR_STEPS);
  const wh = await openWarehouse({ driver: 'local', dataDir, database: 'tgpulse', httpPort: 0, nativePort: 0 });
  try {
    const params = { c: COLLECTOR_CHANNELS };
    const posts = await wh.query<{ channel_id: string; post_id: number; n: string }>(
      'SELECT channel_id, post_id, count() AS n FROM raw_posts FINAL WHERE channel_id IN {c:Array(String)} GROUP BY channel_id, post_id',
      params,
    );
    const stored = new Map(posts.map((p) => [`${p.channel_id}/${p.post_id}`, Number(p.n)]));
    const world = channels.flatMap((ch) => [...ch.posts.keys()].map((id) => `${ch.id}/${id}`));
    const views = await wh.query<{ channel_id: string; post_id: number; views: string }>(
      'SELECT channel_id, post_id, argMaxMerge(views) AS views FROM post_summary WHERE channel_id IN {c:Array(String)} GROUP BY channel_id, post_id',
      params,
    );
    const latest = new Map(views.map((v) => [`${v.channel_id}/${v.post_id}`, Number(v.views)]));
    const changing = channels.flatMap((ch) =>
      changingPosts(ch).map((id) => ({ key: `${ch.id}/${id}`, views: ch.posts.get(id)?.views ?? 0 })),
    );
    const members = await wh.query<{ channel_id: string; members: string }>(
      'SELECT channel_id, argMaxMerge(members) AS members FROM channel_members_latest WHERE channel_id IN {c:Array(String)} GROUP BY channel_id',
      params,
    );
    const gained = await wh.query<{ channel_id: string; views: string }>(
      "SELECT channel_id, sum(d_views) AS views FROM post_deltas FINAL WHERE channel_id IN {c:Array(String)} AND flag = 'normal' GROUP BY channel_id",
      params,
    );
    const byChannel = <T extends { channel_id: string }>(rows: T[], f: (r: T) => number) =>
      COLLECTOR_CHANNELS.map((c) => {
        const r = rows.find((x) => x.channel_id === c);
        return r ? f(r) : Number.NaN;
      });
    return {
      missingPosts: world.filter((k) => !stored.has(k)),
      doubledPosts: [...stored].filter(([, n]) => n > 1).map(([k]) => k),
      latestViews: Object.fromEntries(changing.map((p) => [p.key, latest.get(p.key) ?? Number.NaN])),
      worldViews: Object.fromEntries(changing.map((p) => [p.key, p.views])),
      members: byChannel(members, (r) => Number(r.members)),
      worldMembers: channels.map((ch) => ch.members),
      viewsGained: byChannel(gained, (r) => Number(r.views)),
    };
  } finally {
    await wh.close();
  }
}

/** The suite's summary: one line per kind of kill, with the run's rows lost and doubled, and the alerts. */
function recordOutcome(
  kills: Kill[],
  warehouseKills: number,
  tables: { lost: number; doubled: number },
  collector: CollectorFacts,
  alerts: { owed: number; recorded: number; sends: number; repeats: number },
): void {
  const tablesOutcome = tables.lost + tables.doubled === 0 ? 'tables equal the uninterrupted run' : 'tables differ';
  for (const kind of KINDS) {
    const of = kills.filter((k) => k.kind === kind);
    const loaded = of.filter((k) => k.underLoad).length;
    recordSummary({
      section: 'faults',
      what: `SIGKILL ${VICTIM_NAMES[kind]}`,
      count: of.length,
      outcome: `${tablesOutcome}; ${loaded} under load`,
      ...tables,
    });
  }
  recordSummary({
    section: 'faults',
    what: 'SIGKILL warehouse server (crash ×20)',
    count: warehouseKills,
    outcome: tablesOutcome,
    ...tables,
  });
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const asTelegram =
    same(collector.latestViews, collector.worldViews) &&
    same(collector.members, collector.worldMembers) &&
    collector.viewsGained.every((v) => v === COLLECTOR_VIEWS_GAINED);
  recordSummary({
    section: 'faults',
    what: "collector's posts vs the fake Telegram",
    count: kills.filter((k) => k.kind === 'collector').length,
    outcome: asTelegram ? 'last counters, deltas and members as Telegram shows them' : 'counters differ from Telegram',
    lost: collector.missingPosts.length,
    doubled: collector.doubledPosts.length,
  });
  const { owed, recorded, sends, repeats } = alerts;
  const never = owed - recorded;
  recordSummary({
    section: 'faults',
    what: 'alerts (anomaly × chat) across notifier kills',
    count: owed,
    outcome:
      `${sends - 2 * repeats} sent once, ${repeats} twice (kill between Telegram's answer and the record)` +
      (never > 0 ? `, ${never} never sent` : ''),
  });
}
