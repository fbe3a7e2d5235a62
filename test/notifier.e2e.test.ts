/**
 * Alerts end to end: a planted anomaly in a simulated channel flows through
 * NATS and the processors to the notifier, which sends it to a fake Telegram
 * Bot API (a real HTTP server, through grammY): once, with the numbers the
 * pipeline computed, then its resolution once, as a reply. A chat with a
 * higher severity threshold gets nothing; a chat that blocked the bot is
 * disabled; a 429 and a 500 on the way neither lose nor double the alert.
 * The delay from the window closing to the send is printed.
 *
 * The same anomalies reach webhook destinations (an in-test HTTP receiver) as
 * Slack and Discord JSON: once each, signed with each destination's secret,
 * through 5xx answers and a 429, and not again when the notifier reruns the
 * whole history; a destination answering 410 is disabled after one attempt.
 */
import { createHmac } from 'node:crypto';
import { Api } from 'grammy';
import { PipelineMetrics } from '../observability/metrics.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatSubscriptions, upsertSubscription } from '../control/bot-store.ts';
import { addWebhook, listWebhooks } from '../control/webhooks.ts';
import { openControlPlane, type ControlPlane } from '../control/postgres.ts';
import { freshTestControl, type TestControl } from '../control/testing.ts';
import { Simulator } from '../ingest/simulator/simulator.ts';
import { notifierConsumer, runNotifier } from '../bot/notifier/notifier.ts';
import { resetDurable } from '../streams/consumers.ts';
import { sleep } from '../common/retry.ts';
import { compact } from '../bot/format.ts';
import { parseChoice } from '../bot/keyboards.ts';
import { silentLogger } from '../observability/log.ts';
import type { RawEvent } from '../streams/contract/events.ts';
import { FakeBotApi, type BotApiCall } from './support/fake-bot-api.ts';
import { startTestNats, tempDir, type TestNats } from './support/nats.ts';
import { startPipeline, type TestPipeline } from './support/pipeline.ts';
import { until } from './support/until.ts';
import { WebhookReceiver, type WebhookRequest } from './support/webhook-receiver.ts';
import { DAY_MS, HOUR_MS } from '../common/index.ts';

const START = Date.UTC(2026, 4, 4);
const ANOMALY_AT = START + 9 * DAY_MS + 13 * HOUR_MS;
const CHAT_ALL = '5001';
const CHAT_CRITICAL_ONLY = '5002';
const CHAT_BLOCKED = '5003';
/** Subscribes once the alert went out: the resolution is no news to it. */
const CHAT_LATE = '5004';

let nats: TestNats;
let pipe: TestPipeline;
let fake: FakeBotApi;
let testControl: TestControl;
let control: ControlPlane;
const stop = new AbortController();
let notifier: Promise<void>;
let channel: string;
let delayMs = Number.NaN;
let deliveredMs = Number.NaN;
let alert: BotApiCall;
let receiver: WebhookReceiver;
const notifierMetrics = new PipelineMetrics();
/** Signing secret by receiver path, as `addWebhook` handed it out once. */
const secrets = new Map<string, string>();

/** The notifier as `tgpulse bot` runs it, against the fake Bot API. */
function startNotifier(signal: AbortSignal): Promise<void> {
  return runNotifier({
    js: pipe.nats.js,
    jsm: pipe.nats.jsm,
    streams: pipe.config.streams,
    control: control.pool,
    warehouse: pipe.warehouse,
    api: new Api(fake.token, { apiRoot: fake.url }),
    log: silentLogger,
    pipelineMetrics: notifierMetrics,
    maxSendsPerSecond: 25,
    signal,
  });
}

beforeAll(async () => {
  nats = await startTestNats();
  // Severity thresholds are deployment configuration: here only |z| ≥ 100 is critical, so the
  // planted anomaly (|z| ≈ 26) is a warning and the critical-only chat must not hear of it.
  pipe = await startPipeline({
    natsUrl: nats.url,
    dataDir: tempDir('notifier'),
    configure: (c) => {
      c.processor = { ...c.processor, severity: { warning: 5, critical: 100 } };
    },
  });
  pipe.startRoles();
  fake = new FakeBotApi();
  await fake.start();
  testControl = await freshTestControl('embedded');
  control = await openControlPlane(testControl.config);

  const sim = new Simulator({
    seed: 5,
    channels: 2,
    start: START,
    durationMs: 11 * DAY_MS,
    anomalies: [{ kind: 'mass_unsubscribe', channel: 0, start: ANOMALY_AT, durationMs: HOUR_MS, magnitude: 0.012 }],
  });
  channel = sim.profiles[0].channelId;
  for (const [chatId, minSeverity] of [
    [CHAT_ALL, 'info'],
    [CHAT_CRITICAL_ONLY, 'critical'],
    [CHAT_BLOCKED, 'info'],
  ] as const) {
    await upsertSubscription(control.pool, {
      chatId,
      channelId: channel,
      minSeverity,
      maxPerHour: 100,
      createdBy: null,
    });
  }
  fake.block(CHAT_BLOCKED);
  receiver = new WebhookReceiver();
  await receiver.start();
  for (const [path, format] of [
    ['/slack', undefined],
    ['/discord', 'discord'],
    ['/gone', undefined],
  ] as const) {
    const { secret } = await addWebhook(control.pool, {
      url: `${receiver.url}${path}`,
      channelId: channel,
      format,
      minSeverity: 'info',
      maxPerHour: 100,
      createdBy: 'test',
    });
    secrets.set(path, secret);
  }
  // The Slack endpoint fails its first attempts (5xx, and a 429 naming when to come back) and then takes them.
  receiver.answer(
    '/slack',
    { status: 503 },
    { status: 429, headers: { 'retry-after': '1' } },
    { status: 500, body: 'internal error' },
  );
  receiver.always('/gone', { status: 410, body: 'channel_is_archived' });
  // Telegram pushes back once on the way: the alert must still arrive exactly once.
  fake.fail({
    method: 'sendPhoto',
    chatId: CHAT_ALL,
    status: 429,
    description: 'Too Many Requests: retry after 1',
    retryAfter: 1,
    times: 1,
  });
  fake.fail({ method: 'sendPhoto', chatId: CHAT_ALL, status: 500, description: 'Internal Server Error', times: 1 });

  notifier = startNotifier(stop.signal);

  // History up to the end of the anomaly's hour as fast as the pipeline takes it;
  // then step by step, so the step that closes the window is known.
  const ticks = sim.ticks()[Symbol.iterator]();
  const publish = async (tick: { batches: unknown[][] }) => pipe.publisher.publish(tick.batches.flat() as RawEvent[]);
  for (let r = ticks.next(); !r.done; r = ticks.next()) {
    await publish(r.value);
    if (r.value.to >= ANOMALY_AT + HOUR_MS) break;
  }
  await pipe.publisher.flush();
  await pipe.waitIdle(300_000);
  const alerted = () => fake.delivered(CHAT_ALL).find((c) => c.method === 'sendPhoto');
  for (let r = ticks.next(); !r.done; r = ticks.next()) {
    await publish(r.value);
    await pipe.publisher.flush();
    const publishedAt = Date.now();
    const found = await fake.waitFor(alerted, 6_000).catch(() => undefined);
    if (found) {
      alert = found;
      // The first attempt is the notifier's delay; the scripted 429 (retry after 1 s) and 500 come on top of it.
      delayMs = fake.sent('sendPhoto', CHAT_ALL)[0].at - publishedAt;
      deliveredMs = found.at - publishedAt;
      await upsertSubscription(control.pool, {
        chatId: CHAT_LATE,
        channelId: channel,
        minSeverity: 'info',
        maxPerHour: 100,
        createdBy: null,
      });
      break;
    }
  }
  // The rest of the run: the anomaly resolves.
  for (let r = ticks.next(); !r.done; r = ticks.next()) await publish(r.value);
  await pipe.publisher.flush();
  await pipe.waitIdle(300_000);
  await fake
    .waitFor(() => fake.delivered(CHAT_ALL).some((c) => c.method === 'sendMessage'), 30_000)
    .catch(() => undefined);
}, 600_000);

afterAll(async () => {
  stop.abort();
  await notifier?.catch(() => undefined);
  await control?.close();
  await testControl?.dispose();
  await fake?.stop();
  await receiver?.stop();
  await pipe?.close();
  await nats?.stop();
});

async function anomalyEvents(): Promise<Array<Record<string, string | number>>> {
  return pipe.warehouse.query(
    `SELECT anomaly_id, state, metric, severity, value, expected, band_low, band_high, z,
            toUnixTimestamp64Milli(window_start) AS ws
     FROM anomaly_events FINAL WHERE channel_id = {c:String} ORDER BY ws, revision`,
    { c: channel },
  );
}

/** Whether a request carries a valid signature of its raw body by `secret`. */
function signedBy(r: WebhookRequest, secret: string): boolean {
  const timestamp = String(r.headers['x-tgpulse-timestamp']);
  const expected = createHmac('sha256', secret).update(`${timestamp}.${r.body}`).digest('hex');
  return r.headers['x-tgpulse-signature'] === `sha256=${expected}`;
}

describe('webhook alerts through an in-test receiver', () => {
  it('reach each destination once per anomaly and stage, signed with its secret', async () => {
    const events = (await anomalyEvents()).filter((e) => e.state !== 'updated');
    const expected = events.map((e) => `${e.anomaly_id}:${e.state}`).sort();
    expect(expected.length).toBeGreaterThanOrEqual(2);
    for (const path of ['/slack', '/discord']) {
      await until(`${path} received every alert`, () => receiver.accepted(path).length >= expected.length, 60_000);
      const accepted = receiver.accepted(path);
      expect(accepted.map((r) => String(r.headers['x-tgpulse-delivery'])).sort()).toEqual(expected);
      for (const r of receiver.to(path)) {
        expect(signedBy(r, secrets.get(path)!), `${path} signature`).toBe(true);
        expect(signedBy(r, secrets.get('/discord' === path ? '/slack' : '/discord')!)).toBe(false);
      }
    }
    const planted = events.find((e) => e.state === 'opened' && e.metric === 'subscribers_lost')!;
    const slack = JSON.parse(receiver.accepted('/slack')[0].body);
    expect(slack.text).toContain(`*subscribers lost: `);
    expect(slack.text).toContain(`Observed *${compact(Number(planted.value))}*`);
    expect(slack.blocks[0]).toEqual({ type: 'section', text: { type: 'mrkdwn', text: slack.text } });
    const discord = JSON.parse(receiver.accepted('/discord')[0].body);
    expect(discord.content).toContain(`Observed **${compact(Number(planted.value))}**`);
    expect(discord.allowed_mentions).toEqual({ parse: [] });
    expect(JSON.parse(receiver.accepted('/discord').at(-1)!.body).content).toMatch(/Resolved: subscribers lost/);
  });

  it('retried 5xx answers and waited out the 429 for the same alert, without doubling it', () => {
    const first = receiver.to('/slack').slice(0, 4);
    expect(first.map((r) => r.status)).toEqual([503, 429, 500, 200]);
    expect(new Set(first.map((r) => r.headers['x-tgpulse-delivery'])).size).toBe(1);
  });

  it('disabled the destination that answered 410 after its one attempt', async () => {
    expect(receiver.to('/gone')).toHaveLength(1);
    const gone = (await listWebhooks(control.pool)).find((w) => w.url.endsWith('/gone'));
    expect(gone).toMatchObject({ enabled: false, disabledReason: expect.stringMatching(/410.*channel_is_archived/) });
  });
});

describe('alert notifications through the fake Bot API', () => {
  it('sends the planted anomaly once, with the numbers the pipeline computed, within seconds of its window closing', async () => {
    expect(alert, 'no alert reached the subscribed chat').toBeDefined();
    console.info(
      `alert delay from the window closing (the step that closed it was published) to the send: ${delayMs} ms; delivered after the scripted 429 and 500: ${deliveredMs} ms`,
    );
    expect(delayMs).toBeGreaterThanOrEqual(0);
    const opened = (await anomalyEvents()).filter((e) => e.state === 'opened');
    const planted = opened.find(
      (e) => e.metric === 'subscribers_lost' && Number(e.ws) === Math.floor(ANOMALY_AT / HOUR_MS) * HOUR_MS,
    );
    expect(planted, JSON.stringify(opened)).toBeDefined();
    const photos = fake.delivered(CHAT_ALL).filter((c) => c.method === 'sendPhoto');
    expect(photos).toHaveLength(opened.length);
    const caption = String(alert.params.caption);
    expect(caption).toContain('subscribers lost');
    expect(caption).toContain(
      `Observed <b>${compact(Number(planted!.value))}</b>, expected ${compact(Number(planted!.expected))}`,
    );
    expect(caption).toContain(`z = ${Number(planted!.z).toFixed(1)}`);
    expect(alert.files.photo.subarray(1, 4).toString()).toBe('PNG');
    // The button opens the 7-day overview through the bot's own callback format.
    const button = (alert.params.reply_markup as { inline_keyboard: Array<Array<{ callback_data: string }>> })
      .inline_keyboard[0][0];
    expect(parseChoice(button.callback_data)).toEqual({ command: 'overview', channelId: channel, days: 7 });
  });

  it('sends the resolution once, as a reply to the alert', async () => {
    const events = await anomalyEvents();
    const resolved = events.filter((e) => e.state === 'resolved');
    expect(resolved.length).toBeGreaterThan(0);
    const replies = fake.delivered(CHAT_ALL).filter((c) => c.method === 'sendMessage');
    expect(replies).toHaveLength(resolved.length);
    expect(String(replies[0].params.text)).toMatch(/Resolved: subscribers lost/);
    expect(JSON.stringify(replies[0].params.reply_parameters)).toContain('"message_id"');
  });

  it('gives a chat that subscribed after the alert no resolution, and does not hold it waiting for an opening', async () => {
    expect(fake.delivered(CHAT_ALL).some((c) => c.method === 'sendMessage')).toBe(true);
    expect(fake.calls.filter((c) => String(c.params.chat_id) === CHAT_LATE && /^send/.test(c.method))).toEqual([]);
    // The opening was handled for every destination it had, so the late chat's resolution did not wait for it.
    const alerts = await notifierMetrics.registry.getSingleMetric('tgpulse_alerts_total')?.get();
    const waited = alerts?.values.find((v) => v.labels.outcome === 'waiting_for_opening')?.value ?? 0;
    expect(waited).toBe(0);
  });

  it('gives a chat with a higher severity threshold nothing', async () => {
    const opened = (await anomalyEvents()).filter((e) => e.state === 'opened');
    expect(
      opened.every((e) => e.severity !== 'critical'),
      `the planted anomaly must be below critical for this check: ${JSON.stringify(opened)}`,
    ).toBe(true);
    expect(fake.sent('sendPhoto', CHAT_CRITICAL_ONLY)).toEqual([]);
    expect(fake.sent('sendMessage', CHAT_CRITICAL_ONLY)).toEqual([]);
  });

  it('sends nothing again when every anomaly event is delivered a second time (as after a crash before the ack)', async () => {
    const before = fake.calls.filter((c) => /^send/.test(c.method)).length;
    const webhookRequestsBefore = receiver.requests.length;
    stop.abort();
    await notifier;
    // Redeliver the whole anomaly history to a fresh notifier run.
    const spec = notifierConsumer(pipe.config.streams);
    await resetDurable(pipe.nats.jsm, spec, 0);
    const again = new AbortController();
    const rerun = startNotifier(again.signal);
    for (const until = Date.now() + 30_000; Date.now() < until; await sleep(200)) {
      const info = await pipe.nats.jsm.consumers.info(spec.stream, spec.name);
      if (info.num_pending === 0 && info.num_ack_pending === 0 && info.delivered.stream_seq > 0) break;
    }
    again.abort();
    await rerun;
    expect(fake.calls.filter((c) => /^send/.test(c.method)).length).toBe(before);
    expect(receiver.requests.length).toBe(webhookRequestsBefore);
  });

  it('survived a 429 and a 500 without doubling, and disabled the chat that blocked the bot', async () => {
    const attempts = fake.sent('sendPhoto', CHAT_ALL).map((c) => c.status);
    expect(attempts.slice(0, 3)).toEqual([429, 500, 200]);
    const [blocked] = await chatSubscriptions(control.pool, CHAT_BLOCKED);
    expect(blocked).toMatchObject({ enabled: false, disabledReason: expect.stringMatching(/blocked/) });
    expect(fake.sent('sendPhoto', CHAT_BLOCKED)).toHaveLength(1);
  });
});
