/**
 * Postgres outage: the control plane runs on a private Postgres server
 * (test/support/postgres-server.ts), which is stopped (fast shutdown) for
 * 60 s while the API, the bot and the alert notifier keep running. Meanwhile
 * an API key verified before keeps working from the verifier's memory, a key
 * not verified yet gets 503 (not 401, not 500) with a clear error, the bot
 * answers a command with "temporarily unavailable", and the notifier holds
 * the anomalies that arrive: it sends nothing and acks nothing. Once Postgres
 * is started again, nothing else restarted, each held alert goes out exactly
 * once (counted per alert at the fake Bot API) and everything works again.
 */
import { LOOPBACK_API_CONFIG } from '../support/api-target.ts';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Api, type Bot } from 'grammy';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../../api/app.ts';
import { KeyVerifier, OUTAGE_GRACE_MS } from '../../api/auth.ts';
import { createBot, type BotContext } from '../../bot/bot.ts';
import { NO_CHANNELS } from '../../bot/commands/channel-command.ts';
import { parseChoice } from '../../bot/keyboards.ts';
import { notifierConsumer, runNotifier } from '../../bot/notifier/notifier.ts';
import { openTempWarehouse, type TempWarehouse } from '../../clickhouse/testing.ts';
import { HOUR_MS } from '../../common/index.ts';
import { sleep } from '../../common/retry.ts';
import { createApiKey } from '../../control/api-keys.ts';
import { upsertSubscription } from '../../control/bot-store.ts';
import { isControlPlaneDown } from '../../control/unavailable.ts';
import { openControlPlane, type ControlPlane } from '../../control/postgres.ts';
import { silentLogger } from '../../observability/log.ts';
import { PipelineMetrics } from '../../observability/metrics.ts';
import { defaultStreamsConfig } from '../../streams/config.ts';
import type { AnomalyEvent } from '../../streams/contract/events.ts';
import { EventPublisher } from '../../streams/publisher.ts';
import { ensureStreams } from '../../streams/topology.ts';
import { recordSummary } from '../support/fault-summary.ts';
import { FakeBotApi, type BotApiCall } from '../support/fake-bot-api.ts';
import { startTestNats, type TestNats } from '../support/nats.ts';
import { startPostgresServer, type PostgresServer } from '../support/postgres-server.ts';
import { until } from '../support/until.ts';

const OUTAGE_MS = 60_000;
const CHAT = '6001';
const USER = 6101;
/** One channel per alert, so each send names the alert it is for. */
const BEFORE = '1000000001';
const HELD = ['1000000002', '1000000003', '1000000004'];
const WINDOW_START = Date.UTC(2026, 4, 10, 13);

/** An anomaly of a channel as the processors publish it. */
function anomaly(channelId: string, state: 'opened' | 'resolved'): AnomalyEvent {
  const revision = state === 'opened' ? 1 : 2;
  return {
    v: 1,
    kind: 'anomaly',
    id: `anomaly-${channelId}-${revision}`,
    channel_id: channelId,
    event_time: WINDOW_START + HOUR_MS * revision,
    observed_at: WINDOW_START + HOUR_MS * revision,
    source: 'simulator',
    data: {
      anomaly_id: `views-1h-${channelId}`,
      state,
      revision,
      metric: 'views',
      window: '1h',
      window_start: WINDOW_START,
      post_id: null,
      direction: 'spike',
      severity: 'warning',
      value: state === 'opened' ? 9000 : 1100,
      expected: 1000,
      band_low: 800,
      band_high: 1200,
      z: state === 'opened' ? 12.5 : 0.5,
      opened_at: WINDOW_START + HOUR_MS,
    },
  };
}

/** The channel an alert (its overview button) or a resolution (its text) is about. */
function channelOf(call: BotApiCall): string {
  const markup = call.params.reply_markup as { inline_keyboard?: Array<Array<{ callback_data: string }>> } | undefined;
  const button = markup?.inline_keyboard?.[0]?.[0]?.callback_data;
  if (button) return parseChoice(button)?.channelId ?? '?';
  return /<code>(\d+)<\/code>/.exec(String(call.params.text ?? call.params.caption))?.[1] ?? '?';
}

describe('Postgres outage: 60 s without the control plane', () => {
  let postgres: PostgresServer | null = null;
  let control: ControlPlane | null = null;
  let warehouse: TempWarehouse | null = null;
  let nats: TestNats | null = null;
  let nc: NatsConnection | null = null;
  let jsm: JetStreamManager;
  let fake: FakeBotApi | null = null;
  let bot: Bot<BotContext> | null = null;
  let api: Awaited<ReturnType<typeof buildApi>> | null = null;
  const stopNotifier = new AbortController();
  let notifier: Promise<void> | null = null;
  const metrics = new PipelineMetrics();
  const started = performance.now();

  let verifiedKey = '';
  let unverifiedKey = '';
  const before = { verified: 0, bot: '' };
  /** A verifier whose outage grace is 1 ms: past its grace, a verified key is refused like an unverified one. */
  let graceless: KeyVerifier;
  let gracelessDuring: unknown = null;
  const during = {
    verified: [] as number[],
    unverified: [] as Array<{ status: number; code?: string; message?: string }>,
    bot: '',
    ackFloors: [] as number[],
    sends: 0,
    heldAtEnd: 0,
    heldRetries: 0,
    outageMs: 0,
  };
  const after = { verified: 0, unverified: 0, bot: '', sentAfterRestartMs: 0 };
  /** Alerts (opened) and resolutions sent per channel, successful sends only. */
  const sendsPerChannel = new Map<string, { alerts: number; resolutions: number }>();

  const get = async (key: string) => {
    const res = await api!.inject({ method: 'GET', url: '/v1/channels', headers: { authorization: `Bearer ${key}` } });
    const body = res.json() as { error?: { code?: string; message?: string } };
    return { status: res.statusCode, code: body.error?.code, message: body.error?.message };
  };
  const sends = () => fake!.calls.filter((c) => /^send(Photo|Message)$/.test(c.method) && c.params.chat_id === CHAT);
  /** What the bot answers `user` to `text`: the next message it sends to that chat. */
  const botAnswer = async (user: number, text: string): Promise<string> => {
    const seen = fake!.sent('sendMessage', user).length;
    fake!.say(user, text);
    const reply = await fake!.waitFor(() => fake!.sent('sendMessage', user)[seen], 30_000);
    return String(reply.params.text);
  };
  const notifierInfo = () => {
    const spec = notifierConsumer(defaultStreamsConfig);
    return jsm.consumers.info(spec.stream, spec.name);
  };
  /** Waits until the notifier has nothing pending and nothing unacked. */
  const untilNotifierAcked = (what: string) =>
    until(
      what,
      async () => {
        const i = await notifierInfo();
        return i.num_ack_pending === 0 && i.num_pending === 0;
      },
      30_000,
      200,
    );
  const publish = async (events: AnomalyEvent[]) => {
    const publisher = new EventPublisher(jetstream(nc!), {
      partitions: defaultStreamsConfig.partitions,
      maxBatchBytes: defaultStreamsConfig.maxBatchBytes,
      maxInflight: 16,
      stream: defaultStreamsConfig.names.derived,
    });
    // One message per event, so each is held (and counted) on its own.
    for (const e of events) {
      await publisher.publish([e]);
      await publisher.flush();
    }
  };

  beforeAll(async () => {
    postgres = await startPostgresServer();
    control = await openControlPlane({ driver: 'server', url: postgres.url });
    warehouse = await openTempWarehouse();
    nats = await startTestNats();
    nc = await connect({ servers: nats.url });
    jsm = await jetstreamManager(nc);
    await ensureStreams(jsm, defaultStreamsConfig);
    fake = new FakeBotApi();
    await fake.start();

    verifiedKey = (await createApiKey(control.pool, { name: 'verified before', scopes: ['read'] })).token;
    unverifiedKey = (await createApiKey(control.pool, { name: 'first used during', scopes: ['read'] })).token;
    for (const channelId of [BEFORE, ...HELD])
      await upsertSubscription(control.pool, {
        chatId: CHAT,
        channelId,
        minSeverity: 'info',
        maxPerHour: 100,
        createdBy: null,
      });

    api = await buildApi({
      warehouse: warehouse.wh,
      control: control.pool,
      shareSecret: Buffer.alloc(32, 3),
      config: LOOPBACK_API_CONFIG,
      log: silentLogger,
      registry: new Registry(),
    });
    bot = createBot({
      config: {
        token: fake.token,
        apiRoot: fake.url,
        admins: [],
        mode: 'polling',
        webhookSecret: null,
        publicApiUrl: 'https://tgpulse.example',
        maxSendsPerSecond: 25,
      },
      warehouse: warehouse.wh,
      control: control.pool,
      shareSecret: Buffer.alloc(32, 3),
      log: silentLogger,
    });
    void bot.start({ timeout: 1 });
    notifier = runNotifier({
      js: jetstream(nc),
      jsm,
      streams: defaultStreamsConfig,
      control: control.pool,
      warehouse: warehouse.wh,
      api: new Api(fake.token, { apiRoot: fake.url }),
      log: silentLogger,
      pipelineMetrics: metrics,
      maxSendsPerSecond: 25,
      signal: stopNotifier.signal,
    });

    // Before: everything answers.
    before.verified = (await get(verifiedKey)).status;
    graceless = new KeyVerifier(control.pool, silentLogger, 0, 1);
    await graceless.authenticate(verifiedKey);
    before.bot = await botAnswer(USER, '/channels');
    await publish([anomaly(BEFORE, 'opened')]);
    await fake.waitFor(() => sends().length === 1, 60_000);
    // Settled: the opening is recorded and acked, so the outage holds only what is published during it.
    await untilNotifierAcked('the notifier acked the first alert');

    // Down: fast shutdown, sessions ended at once.
    const stoppedAt = performance.now();
    await postgres.stop();
    await publish([...HELD.map((c) => anomaly(c, 'opened')), anomaly(BEFORE, 'resolved')]);
    const sentBefore = sends().length;
    during.bot = await botAnswer(USER, '/channels');
    gracelessDuring = await graceless.authenticate(verifiedKey).catch((err: unknown) => err);
    // The notifier has the events in hand and is holding them.
    await until(
      'the notifier holds the events',
      async () => {
        const info = await notifierInfo();
        return info.num_ack_pending > 0 && info.num_pending === 0;
      },
      30_000,
      200,
    );
    while (performance.now() - stoppedAt < OUTAGE_MS - 2000) {
      during.ackFloors.push((await notifierInfo()).ack_floor.stream_seq);
      during.verified.push((await get(verifiedKey)).status);
      during.unverified.push(await get(unverifiedKey));
      await sleep(3000);
    }
    const info = await notifierInfo();
    during.ackFloors.push(info.ack_floor.stream_seq);
    during.heldAtEnd = info.num_ack_pending;
    during.sends = sends().length - sentBefore;
    await sleep(Math.max(0, OUTAGE_MS - (performance.now() - stoppedAt)));

    // Back, on the same port; the API, bot and notifier were not restarted.
    await postgres.start();
    during.outageMs = performance.now() - stoppedAt;
    const backAt = performance.now();
    const expected = sentBefore + HELD.length + 1;
    await fake.waitFor(() => sends().filter((c) => c.status === 200).length >= expected, 60_000);
    after.sentAfterRestartMs = performance.now() - backAt;
    await untilNotifierAcked('the notifier acked everything');
    after.verified = (await get(verifiedKey)).status;
    after.unverified = (await get(unverifiedKey)).status;
    after.bot = await botAnswer(USER, '/channels');
    for (const call of sends().filter((c) => c.status === 200)) {
      const channel = channelOf(call);
      const seen = sendsPerChannel.get(channel) ?? { alerts: 0, resolutions: 0 };
      if (call.method === 'sendPhoto' || call.params.reply_markup) seen.alerts++;
      else seen.resolutions++;
      sendsPerChannel.set(channel, seen);
    }
    during.heldRetries = (await metrics.errors.get()).values
      .filter((v) => v.labels.stage === 'notifier' && v.labels.error === 'control_plane')
      .reduce((n, v) => n + v.value, 0);
  }, 300_000);

  afterAll(async () => {
    stopNotifier.abort();
    await notifier?.catch(() => undefined);
    await bot?.stop().catch(() => undefined);
    await api?.close();
    await fake?.stop();
    await control?.close();
    await nc?.close();
    await nats?.stop();
    await warehouse?.dispose();
    await postgres?.remove();
  });

  it('kept Postgres down for 60 s', () => {
    console.info(
      `Postgres outage ${(during.outageMs / 1000).toFixed(1)} s; notifier held ${during.heldAtEnd} messages (${during.heldRetries} retries), ` +
        `sent them ${(after.sentAfterRestartMs / 1000).toFixed(1)} s after Postgres was back; ` +
        `${during.verified.length + during.unverified.length} API requests meanwhile; test ${((performance.now() - started) / 1000).toFixed(0)} s`,
    );
    expect(during.outageMs).toBeGreaterThanOrEqual(OUTAGE_MS);
    expect(OUTAGE_GRACE_MS).toBeGreaterThan(OUTAGE_MS);
  });

  it('kept accepting the API key verified before the outage', () => {
    expect(before.verified).toBe(200);
    expect(during.verified.length).toBeGreaterThanOrEqual(3);
    expect(new Set(during.verified)).toEqual(new Set([200]));
    expect(after.verified).toBe(200);
  });

  it('kept it only within the grace: past it, the outage is reported instead', () => {
    expect(isControlPlaneDown(gracelessDuring)).toBe(true);
  });

  it('answered a key not verified yet with 503 and a clear error, then accepted it once Postgres was back', () => {
    expect(during.unverified.length).toBeGreaterThanOrEqual(3);
    for (const answer of during.unverified) {
      expect(answer.status).toBe(503);
      expect(answer.code).toBe('control_plane_unavailable');
      expect(answer.message).toMatch(/Postgres.*did not answer; retry shortly/);
    }
    expect(after.unverified).toBe(200);
  });

  it('had the bot say it is temporarily unavailable, and answer normally before and after', () => {
    expect(during.bot).toMatch(/temporarily unavailable/);
    expect(during.bot).not.toMatch(/something went wrong/);
    expect(before.bot).toBe(NO_CHANNELS);
    expect(after.bot).toBe(NO_CHANNELS);
  });

  it('held the alerts: sent nothing and acked nothing while Postgres was down', () => {
    expect(during.sends).toBe(0);
    expect(during.heldAtEnd).toBe(HELD.length + 1);
    expect(during.heldRetries).toBeGreaterThan(0);
    expect(during.ackFloors.length).toBeGreaterThanOrEqual(3);
    for (const floor of during.ackFloors) expect(floor).toBe(during.ackFloors[0]);
  });

  it('then sent each held alert exactly once', () => {
    const doubled = [...sendsPerChannel.values()].reduce(
      (n, s) => n + Math.max(0, s.alerts - 1) + Math.max(0, s.resolutions - 1),
      0,
    );
    const lost =
      HELD.filter((c) => (sendsPerChannel.get(c)?.alerts ?? 0) === 0).length +
      ((sendsPerChannel.get(BEFORE)?.resolutions ?? 0) === 0 ? 1 : 0);
    recordSummary({
      section: 'faults',
      what: 'Postgres stopped 60 s (control plane)',
      count: 1,
      outcome: `verified key 200 ×${during.verified.length}, new key 503 ×${during.unverified.length}; bot "temporarily unavailable"; ${HELD.length + 1} alerts held, each sent once after`,
      lost,
      doubled,
    });
    expect(Object.fromEntries(sendsPerChannel)).toEqual({
      [BEFORE]: { alerts: 1, resolutions: 1 },
      ...Object.fromEntries(HELD.map((c) => [c, { alerts: 1, resolutions: 0 }])),
    });
  });
});
