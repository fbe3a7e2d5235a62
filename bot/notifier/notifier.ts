/**
 * The alert notifier: a durable consumer of anomaly events on TG_DERIVED.
 * For each opened or resolved anomaly it asks every destination of the
 * channel (subscribed chats and webhooks, destinations.ts) what to do
 * ({@link decide}), sends what must be sent, records each decision in the
 * control plane, and only then acks the message. A crash before the ack
 * redelivers the event; the recorded decisions make the second pass send
 * nothing twice. (A crash between the answer and the record could still
 * repeat one message: Telegram has no idempotency key; a webhook receiver can
 * deduplicate on `X-Tgpulse-Delivery`.)
 *
 * It does not wait for ClickHouse: anomaly events come straight from the
 * processors, so an alert goes out seconds after its window closes.
 *
 * While Postgres does not answer, the event in hand is held (retried with
 * backoff, its messages kept by the runner's heartbeats) and nothing is
 * acked or sent: every decision needs the subscriptions and the deliveries.
 * A send already made is recorded once Postgres is back instead of being
 * redone, so an outage does not open the window in which an alert repeats.
 */
import type { JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import type { Api } from 'grammy';
import type pg from 'pg';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { Warehouse } from '../../clickhouse/index.ts';
import { withRetry } from '../../common/index.ts';
import {
  channelSubscriptions,
  channelWebhooks,
  isControlPlaneDown,
  deliveryOf,
  recordDelivery,
  recordOpeningHandled,
  wasOpeningHandled,
  sentInLastHour,
} from '../../control/index.ts';
import type { Logger, PipelineMetrics } from '../../observability/index.ts';
import { CHART_METRICS, isChartMetric, renderChart, anomaliesChart } from '../../read/charts/index.ts';
import { activitySeries } from '../../read/index.ts';
import { decodeBatch, type AnomalyEvent, parseSubject } from '../../streams/contract/index.ts';
import { type StreamsConfig, type DurableSpec, inMessageSpan, runConsumer } from '../../streams/index.ts';
import { decide } from './decide.ts';
import { chatDestination, type Destination, isGone, webhookDestination } from './destinations.ts';
import { AlertSender } from './sender.ts';
import { WebhookRejected, WebhookSender } from './webhook-sender.ts';

/** How long a notifier's unacked events stay its own: a dead notifier's events come back after this. */
const ACK_WAIT_MS = 60_000;
/** A resolution waiting for its opening comes back this often… */
const OPENING_RETRY_MS = 10_000;
/**
 * …for at most this long after it was emitted: each notifier killed while it
 * holds the opening delays it by an ack wait, and an opening handled before
 * handled openings were recorded (migration 008) never shows as handled.
 */
const MAX_OPENING_WAIT_MS = 30 * 60_000;

export function notifierConsumer(streams: StreamsConfig): DurableSpec {
  return {
    stream: streams.names.derived,
    name: 'notifier',
    filterSubject: 'tg.derived.*.anomaly.>',
    ackWaitMs: ACK_WAIT_MS,
    maxAckPending: 1000,
  };
}

export interface NotifierOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  streams: StreamsConfig;
  control: pg.Pool;
  warehouse: Warehouse;
  api: Api;
  log: Logger;
  /** The process's metrics: the notifier's consumer (lag, restarts) and its alert metrics join them. */
  pipelineMetrics: PipelineMetrics;
  maxSendsPerSecond: number;
  signal: AbortSignal;
  now?: () => number;
}

/** Runs until the signal aborts; the event in hand is finished first. */
export async function runNotifier(opts: NotifierOptions): Promise<void> {
  const log = opts.log.child({ role: 'notifier' });
  const metrics = notifierMetrics(opts.pipelineMetrics.registry);
  const sender = new AlertSender(opts.api, {
    maxPerSecond: opts.maxSendsPerSecond,
    signal: opts.signal,
    log,
    onRateLimited: () => metrics.rateLimited.inc(),
  });
  const webhookSender = new WebhookSender({
    signal: opts.signal,
    log,
    onRateLimited: () => metrics.rateLimited.inc(),
    now: opts.now,
  });
  const h: Handling = { ...opts, log, metrics, sender, webhookSender, now: opts.now ?? Date.now };
  const runner = {
    js: opts.js,
    jsm: opts.jsm,
    spec: notifierConsumer(opts.streams),
    stage: 'notifier',
    log,
    metrics: opts.pipelineMetrics,
    signal: opts.signal,
    maxBatch: 50,
    maxWaitMs: 50,
  };
  await runConsumer(runner, {
    async handle(batch) {
      for (const msg of batch) {
        if (opts.signal.aborted) break; // unacked: redelivered to the next run
        // Alerts sent for an anomaly join the trace of the batch that raised it.
        await inMessageSpan(`notify ${msg.info.stream}`, msg, {}, () => handleMessage(msg, h));
      }
    },
  });
  log.info('notifier drained');
}

interface Handling extends NotifierOptions {
  metrics: ReturnType<typeof notifierMetrics>;
  sender: AlertSender;
  webhookSender: WebhookSender;
  now: () => number;
}

async function handleMessage(msg: JsMsg, h: Handling): Promise<void> {
  const decoded = decodeBatch(msg.data, {
    maxMessageBytes: h.streams.maxMessageBytes,
    layer: 'derived',
    subject: parseSubject(msg.subject),
    partitions: h.streams.partitions,
  });
  // Invalid derived events are the processors' bug and were dead-lettered where they were made; count and move on.
  if (decoded.failures.length) h.metrics.events.inc({ outcome: 'invalid' }, decoded.failures.length);
  try {
    // When the processor published the event: the start of the alert's own delay.
    const emittedAt = Math.floor(Number(msg.info.timestampNanos) / 1e6);
    const mayWait = Date.now() - emittedAt < MAX_OPENING_WAIT_MS;
    let waiting = false;
    for (const e of decoded.events)
      if (e.kind === 'anomaly')
        waiting =
          (await untilControlAnswers(() => handleAnomaly(e as AnomalyEvent, emittedAt, mayWait, h), h)) || waiting;
    if (waiting) {
      // Every other chat is done and recorded (a redelivery finds those decisions and repeats nothing).
      h.metrics.events.inc({ outcome: 'waiting_for_opening' });
      msg.nak(OPENING_RETRY_MS);
      return;
    }
    msg.ack();
  } catch (err) {
    // Telegram or Postgres trouble that retries did not cure: leave it for redelivery.
    h.metrics.events.inc({ outcome: 'retry_later' });
    h.log.error(
      { err, subject: msg.subject, seq: msg.seq },
      'could not finish an anomaly event; it will be redelivered',
    );
    msg.nak(10_000);
  }
}

/**
 * Handles one anomaly for every destination of its channel (subscribed chats,
 * then webhooks); true when a destination's resolution waits for its opening.
 */
async function handleAnomaly(e: AnomalyEvent, emittedAt: number, mayWait: boolean, h: Handling): Promise<boolean> {
  if (e.data.state === 'updated') return false;
  const [subscriptions, webhooks] = await Promise.all([
    channelSubscriptions(h.control, e.channel_id),
    channelWebhooks(h.control, e.channel_id),
  ]);
  const c = { event: e, control: h.control, log: h.log, count: (outcome: string) => h.metrics.events.inc({ outcome }) };
  let chart: Promise<Buffer | null> | undefined;
  const destinations = [
    ...subscriptions.map((s) => chatDestination(s, h.sender, () => (chart ??= alertChart(e, h)), c)),
    ...webhooks.map((w) => webhookDestination(w, h.webhookSender, c)),
  ];
  const openingHandled = await wasOpeningHandled(h.control, e.data.anomaly_id);
  h.log.debug(
    {
      anomalyId: e.data.anomaly_id,
      channelId: e.channel_id,
      state: e.data.state,
      destinations: destinations.map((d) => d.key),
      openingHandled,
    },
    'anomaly event: deciding for its destinations',
  );
  let waiting = false;
  for (const d of destinations) waiting = (await notify(d, e, { emittedAt, openingHandled, mayWait }, h)) || waiting;
  // Every destination of the opening has its decision recorded: a later subscriber's resolution need not wait.
  if (e.data.state === 'opened' && !openingHandled)
    await recordOpeningHandled(h.control, e.data.anomaly_id, e.channel_id);
  return waiting;
}

/** When an anomaly event was emitted, and what a resolution knows of its opening. */
interface EventTiming {
  emittedAt: number;
  openingHandled: boolean;
  mayWait: boolean;
}

/** Decides, sends and records one anomaly event for one destination; true when it waits for the opening. */
async function notify(d: Destination, e: AnomalyEvent, at: EventTiming, h: Handling): Promise<boolean> {
  const a = e.data;
  const stage = a.state === 'resolved' ? 'resolved' : 'opened';
  const [prior, opened, sentLastHour] = await Promise.all([
    deliveryOf(h.control, a.anomaly_id, d.key, stage),
    stage === 'resolved' ? deliveryOf(h.control, a.anomaly_id, d.key, 'opened') : Promise.resolve(null),
    sentInLastHour(h.control, d.key, h.now()),
  ]);
  const decision = decide({
    anomaly: a,
    subscription: d.rules,
    prior,
    opened,
    sentLastHour,
    now: h.now(),
    openingHandled: at.openingHandled,
    mayWait: at.mayWait,
  });
  if (decision.action === 'ignore') return false;
  if (decision.action === 'wait') return true;
  const base = { anomalyId: a.anomaly_id, chatId: d.key, stage: decision.stage, channelId: e.channel_id };
  if (decision.action === 'skip') {
    await recordDelivery(h.control, { ...base, outcome: decision.outcome, messageId: null, at: h.now() });
    h.metrics.events.inc({ outcome: decision.outcome });
    return false;
  }
  try {
    const messageId = await d.send(decision.stage, decision.replyTo);
    // Sent: only the record is left to do, however long Postgres takes (repeating the send would double it).
    await untilControlAnswers(() => recordDelivery(h.control, { ...base, outcome: 'sent', messageId, at: h.now() }), h);
    h.metrics.events.inc({ outcome: 'sent' });
    h.metrics.delay.observe(Math.max(0, Date.now() - at.emittedAt) / 1000);
  } catch (err) {
    if (err instanceof WebhookRejected) {
      h.log.error({ err: err.message, destination: d.key }, 'webhook refused the alert; it is recorded as rejected');
      await recordDelivery(h.control, { ...base, outcome: 'skipped_rejected', messageId: null, at: h.now() });
      h.metrics.events.inc({ outcome: 'skipped_rejected' });
      return false;
    }
    if (!isGone(err)) throw err;
    await d.disable(err);
    await recordDelivery(h.control, { ...base, outcome: 'skipped_disabled', messageId: null, at: h.now() });
  }
  return false;
}

/**
 * Runs a control-plane step again and again while Postgres does not answer
 * (other failures are thrown at once); gives up only when the role stops,
 * leaving the event unacked for the next run.
 */
function untilControlAnswers<T>(step: () => Promise<T>, h: Handling): Promise<T> {
  return withRetry(step, {
    attempts: Infinity,
    baseMs: 500,
    maxMs: 5_000,
    signal: h.signal,
    isFatal: (err) => !isControlPlaneDown(err),
    onRetry: (err, attempt, waitMs) => {
      h.pipelineMetrics.errors.inc({ stage: 'notifier', error: 'control_plane' });
      h.log.warn(
        { err: String(err), attempt, waitMs },
        'control plane (Postgres) did not answer; holding the alert (nothing sent or acked meanwhile)',
      );
    },
  });
}

/** A small chart of the day around the anomaly; null when it cannot be drawn (the alert goes out as text). */
async function alertChart(e: AnomalyEvent, h: Handling): Promise<Buffer | null> {
  const a = e.data;
  const hour = 3_600_000;
  const from = Math.floor((a.window_start - 24 * hour) / hour) * hour;
  const to = Math.floor(a.window_start / hour) * hour + 2 * hour;
  try {
    const metric = isChartMetric(a.metric) ? a.metric : null;
    const points =
      metric === null
        ? []
        : await activitySeries(h.warehouse, { channel_id: e.channel_id, period: { from, to }, granularity: 'hour' });
    const series = metric === null ? [] : points.map((p) => ({ t: p.t, value: CHART_METRICS[metric](p) }));
    const mark = {
      t: a.window_start,
      metric: a.metric,
      severity: a.severity,
      direction: a.direction,
      value: a.value,
      expected: a.expected,
      bandLow: a.band_low,
      bandHigh: a.band_high,
    };
    const spec = anomaliesChart(
      { channelId: e.channel_id, from, to, granularity: 'hour', width: 640, height: 320 },
      a.metric,
      series,
      [mark],
    );
    return await renderChart(spec, 'png');
  } catch (err) {
    h.log.warn({ err, anomalyId: a.anomaly_id }, 'alert chart failed; sending the alert without it');
    h.metrics.events.inc({ outcome: 'chart_failed' });
    return null;
  }
}

function notifierMetrics(registry: Registry) {
  for (const n of ['tgpulse_alerts_total', 'tgpulse_alert_delay_seconds', 'tgpulse_alert_rate_limited_total'])
    if (registry.getSingleMetric(n)) registry.removeSingleMetric(n);
  return {
    events: new Counter({
      name: 'tgpulse_alerts_total',
      help: 'Alert decisions by outcome',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    delay: new Histogram({
      name: 'tgpulse_alert_delay_seconds',
      help: 'From the anomaly event being emitted to the alert being sent',
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'tgpulse_alert_rate_limited_total',
      help: '429 answers from Telegram and webhooks waited out',
      registers: [registry],
    }),
  };
}
