/**
 * Traces, received the way a collector (Jaeger, Tempo, the OpenTelemetry
 * Collector) receives them: an OTLP/HTTP endpoint in the test. One simulated
 * batch must be followed from its publish (this process) through the
 * processor and its derived publish to the sinks' inserts (a `tgpulse worker`
 * process), as one trace; an API request must
 * carry its warehouse query in its trace, a bot command its Postgres,
 * warehouse and Bot API calls.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServer } from '../api/server.ts';
import { DAY_MS } from '../common/index.ts';
import { createBot } from '../bot/bot.ts';
import { createApiKey } from '../control/api-keys.ts';
import { shareSecret } from '../control/share-links.ts';
import { openControlPlane, type ControlPlane } from '../control/postgres.ts';
import { freshTestControl, type TestControl } from '../control/testing.ts';
import { Simulator } from '../ingest/simulator/simulator.ts';
import { silentLogger } from '../observability/log.ts';
import { startTracing, type Tracing } from '../observability/tracing/tracing.ts';
import { FakeBotApi } from './support/fake-bot-api.ts';
import { startTestNats, tempDir, type TestNats } from './support/nats.ts';
import { startPipeline, type TestPipeline } from './support/pipeline.ts';
import { killRole, spawnRole, stopRole, type RoleProcess } from './support/roles.ts';
import { publishSimulation } from './support/simulation.ts';

/** A span as OTLP/JSON carries it (ids in hex), with the service that sent it. */
interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: Array<{ key: string; value: { stringValue?: string } }>;
  links?: Array<{ traceId: string; spanId: string }>;
}

const attribute = (s: ReceivedSpan, key: string) => s.attributes?.find((a) => a.key === key)?.value.stringValue;

/** An OTLP/HTTP trace receiver: JSON bodies of `ExportTraceServiceRequest`, spans collected in order. */
async function startReceiver(): Promise<{ url: string; spans: ReceivedSpan[]; close(): Promise<void> }> {
  const spans: ReceivedSpan[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        resourceSpans?: Array<{
          resource?: { attributes?: ReceivedSpan['attributes'] };
          scopeSpans?: Array<{ spans?: Omit<ReceivedSpan, 'service'>[] }>;
        }>;
      };
      for (const rs of body.resourceSpans ?? []) {
        const service = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
        for (const ss of rs.scopeSpans ?? []) for (const s of ss.spans ?? []) spans.push({ ...s, service });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    spans,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('traces over OTLP/HTTP', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let tracing: Tracing;
  let nats: TestNats;
  let pipe: TestPipeline;
  let worker: RoleProcess | undefined;
  let testControl: TestControl;
  let control: ControlPlane;
  let api: ApiServer;

  beforeAll(async () => {
    receiver = await startReceiver();
    // The standard variables, as a deployment sets them; the batch processor flushes quickly for the test.
    process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = receiver.url;
    process.env.OTEL_BSP_SCHEDULE_DELAY = '100';
    tracing = await startTracing('test');
    nats = await startTestNats();
    pipe = await startPipeline({ natsUrl: nats.url, dataDir: tempDir('tracing') });
    // The processors and sinks in a process of their own, as deployed: the trace crosses processes by NATS headers.
    worker = spawnRole('worker', [], { ...pipe.env, TGPULSE_LOG_LEVEL: 'warn' });
    await pipe.waitIdle();
    const sim = new Simulator({ seed: 5, channels: 2, start: Date.UTC(2026, 5, 1), durationMs: 2 * DAY_MS });
    await publishSimulation(pipe, sim);
    await pipe.publisher.flush();
    await pipe.waitIdle();
    // Stopping flushes the worker's spans to the receiver.
    const exit = await stopRole(worker);
    expect(exit, worker.output()).toBe(0);

    testControl = await freshTestControl('embedded');
    control = await openControlPlane(testControl.config);
    api = await startApiServer({
      warehouse: pipe.warehouse,
      control,
      controlConfig: testControl.config,
      config: { host: '127.0.0.1', port: 0, ratePerMinute: 1000, cacheSeconds: 0, maxRangeDays: 400, corsOrigins: [] },
      log: silentLogger,
      registry: new Registry(),
    });
  });

  afterAll(async () => {
    if (worker) await killRole(worker);
    await api?.close();
    await control?.close();
    await testControl?.dispose();
    await pipe?.close();
    await nats?.stop();
    await tracing?.shutdown();
    await receiver?.close();
    delete process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
    delete process.env.OTEL_BSP_SCHEDULE_DELAY;
  });

  /** Spans by trace, after the exporter has sent what it holds. */
  async function traces(): Promise<Map<string, ReceivedSpan[]>> {
    await new Promise((r) => setTimeout(r, 500));
    const byTrace = new Map<string, ReceivedSpan[]>();
    for (const s of receiver.spans) byTrace.set(s.traceId, [...(byTrace.get(s.traceId) ?? []), s]);
    return byTrace;
  }

  it('follows one batch from its publish through the processor to the sinks, in one trace', async () => {
    const byTrace = await traces();
    const parentOf = (spans: ReceivedSpan[], s: ReceivedSpan) => spans.find((p) => p.spanId === s.parentSpanId);
    const complete = [...byTrace.values()].find((spans) => {
      const derivedSink = spans.find((s) => s.name === 'sink TG_DERIVED');
      return derivedSink !== undefined && spans.some((s) => s.name === 'sink TG_RAW');
    });
    expect(complete, `no trace reached both sinks among ${byTrace.size} traces`).toBeDefined();
    const spans = complete!;
    // The chain, each span the child of the one before: raw publish → process → derived publish → derived sink.
    const derivedSink = spans.find((s) => s.name === 'sink TG_DERIVED')!;
    const derivedPublish = parentOf(spans, derivedSink)!;
    expect(derivedPublish.name).toBe('publish TG_DERIVED');
    const processing = parentOf(spans, derivedPublish)!;
    expect(processing.name).toBe('process TG_RAW');
    const rawPublish = parentOf(spans, processing)!;
    expect(rawPublish.name).toBe('publish TG_RAW');
    expect(rawPublish.parentSpanId ?? '').toBe('');
    // Two processes, one trace: the publish is this process's, the rest the worker's.
    expect(rawPublish.service).toBe('tgpulse-test');
    for (const s of [processing, derivedPublish, derivedSink]) expect(s.service).toBe('tgpulse-worker');
    // The raw sink continues the same publish.
    expect(parentOf(spans, spans.find((s) => s.name === 'sink TG_RAW')!)?.spanId).toBe(rawPublish.spanId);
    // The sinks' inserts link back to the messages they wrote.
    const inserts = receiver.spans.filter((s) => s.name.startsWith('insert '));
    expect(inserts.some((i) => (i.links ?? []).some((l) => l.traceId === rawPublish.traceId))).toBe(true);
  });

  it('traces a bot command with its Postgres, warehouse and Bot API calls', async () => {
    const fake = new FakeBotApi();
    await fake.start();
    const admin = 900;
    const bot = createBot({
      config: {
        token: fake.token,
        apiRoot: fake.url,
        admins: [String(admin)],
        mode: 'polling',
        webhookSecret: null,
        publicApiUrl: 'https://tgpulse.example',
        maxSendsPerSecond: 25,
      },
      warehouse: pipe.warehouse,
      control: control.pool,
      shareSecret: await shareSecret(control.pool),
      log: silentLogger,
    });
    void bot.start({ timeout: 1 });
    try {
      const [{ channel_id }] = await pipe.warehouse.query<{ channel_id: string }>(
        'SELECT channel_id FROM raw_posts LIMIT 1',
      );
      fake.say(admin, `/overview ${channel_id} 7d`);
      await fake.waitFor(() => fake.delivered(admin)[0]);
    } finally {
      await bot.stop();
      await fake.stop();
    }
    const byTrace = await traces();
    const update = [...byTrace.values()].find((spans) =>
      spans.some((s) => s.name === 'bot update' && attribute(s, 'tgpulse.bot.command') === 'overview'),
    );
    expect(update, 'no span for the /overview update').toBeDefined();
    const names = new Set(update!.map((s) => s.name));
    // The sender is recorded in Postgres, the figures read from the warehouse, the answer sent to Telegram.
    expect([...names].some((n) => n.startsWith('postgres '))).toBe(true);
    expect(names.has('warehouse query')).toBe(true);
    expect(names.has('telegram sendMessage')).toBe(true);
    const pgSpan = update!.find((s) => s.name.startsWith('postgres '))!;
    expect(attribute(pgSpan, 'db.system.name')).toBe('postgresql');
    // Long polling stays out of traces.
    expect(receiver.spans.some((s) => s.name === 'telegram getUpdates')).toBe(false);
  });

  it('traces an API request with the warehouse query it made', async () => {
    const { token } = await createApiKey(control.pool, { name: 'tracing', scopes: ['read'] });
    const res = await fetch(`${api.url}/v1/channels`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    await tracing.shutdown();
    const byTrace = await traces();
    // @fastify/otel's server span is `request`, its path an attribute.
    const request = [...byTrace.values()].find((spans) =>
      spans.some((s) => s.kind === 2 && attribute(s, 'url.path') === '/v1/channels'),
    );
    expect(request, 'no server span for GET /v1/channels').toBeDefined();
    expect(request!.some((s) => s.name === 'warehouse query')).toBe(true);
    // The key check reads Postgres within the request; the key's hash is a parameter, never in the span.
    const keyCheck = request!.find((s) => s.name.startsWith('postgres '));
    expect(keyCheck, 'no Postgres span in the request').toBeDefined();
    expect(attribute(keyCheck!, 'db.query.text')).toMatch(/\$1/);
  });
});
