/**
 * Forecasts on data the pipeline produced: twelve weeks of simulated
 * channels published to a private nats-server and turned into serving
 * tables by the real processors and sinks (support/forecast-data.ts). The
 * read model's forecasts, made 30 to 44 days back, must hold about 80 % of
 * what then happened inside their 80 % band; the API answers with the documented shape and errors,
 * draws the chart, and the bot's /forecast sends it through a fake Bot API.
 */
import type { Bot } from 'grammy';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServer } from '../api/server.ts';
import { createBot, registerCommands, type BotContext } from '../bot/bot.ts';
import { compact } from '../bot/format.ts';
import { DAY_MS, HOUR_MS } from '../common/index.ts';
import { createApiKey } from '../control/api-keys.ts';
import { grantChannel } from '../control/bot-store.ts';
import { openControlPlane, type ControlPlane } from '../control/postgres.ts';
import { shareSecret } from '../control/share-links.ts';
import { freshTestControl, type TestControl } from '../control/testing.ts';
import { silentLogger } from '../observability/log.ts';
import { channelForecast } from '../read/models/forecast.ts';
import { backtestPoints, scoreBacktest, type BacktestPoint } from '../read/models/forecast-backtest.ts';
import { FakeBotApi } from './support/fake-bot-api.ts';
import { produceDailySeries, type DailySeriesData } from './support/forecast-data.ts';
import type { TestPipeline } from './support/pipeline.ts';
import { expectWellFormedHtml } from './support/telegram-html.ts';
import { fakeBotConfig } from './support/test-bot.ts';

const START = Date.UTC(2026, 0, 5);
const DAYS = 84;
const END = START + DAYS * DAY_MS;
const CHANNELS = 6;
const OWNER = 701;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

let data: DailySeriesData | undefined;
let pipe: TestPipeline | undefined;
let testControl: TestControl | undefined;
let control: ControlPlane | undefined;
let api: ApiServer | undefined;
let fake: FakeBotApi | undefined;
let bot: Bot<BotContext> | undefined;
let channels: string[];
let key: string;
const clock = END + HOUR_MS;

beforeAll(async () => {
  data = await produceDailySeries({ seed: 18, channels: CHANNELS, start: START, days: DAYS });
  pipe = data.pipe;
  channels = data.channels;

  testControl = await freshTestControl('embedded');
  control = await openControlPlane(testControl.config);
  key = (await createApiKey(control.pool, { name: 'forecasts', scopes: ['read', 'export'] })).token;
  api = await startApiServer({
    warehouse: pipe.warehouse,
    control,
    controlConfig: testControl.config,
    config: { host: '127.0.0.1', port: 0, ratePerMinute: 10_000, cacheSeconds: 0, maxRangeDays: 400, corsOrigins: [] },
    log: silentLogger,
    registry: new Registry(),
    now: () => clock,
  });
  fake = new FakeBotApi();
  await fake.start();
  bot = createBot({
    config: fakeBotConfig(fake, []),
    warehouse: pipe.warehouse,
    control: control.pool,
    shareSecret: await shareSecret(control.pool),
    log: silentLogger,
    now: () => clock,
  });
  await registerCommands(bot);
  void bot.start({ timeout: 1 });
  await grantChannel(control.pool, { userId: String(OWNER), channelId: channels[0], via: 'admin', grantedBy: '1' });
}, 600_000);

afterAll(async () => {
  await bot?.stop();
  await fake?.stop();
  await api?.close();
  await control?.close();
  await testControl?.dispose();
  await data?.close();
});

const get = (path: string) => fetch(`${api?.url}${path}`, { headers: { authorization: `Bearer ${key}` } });

describe('backtest through the pipeline', () => {
  it('holds about 80 % of the actual days in the 80 % band and more in the 95 % band', async () => {
    const wh = pipe?.warehouse;
    if (!wh) throw new Error('no pipeline');
    const origins = [30, 37, 44].map((d) => END - d * DAY_MS);
    const points: BacktestPoint[] = [];
    const byMetric: Record<string, ReturnType<typeof scoreBacktest>> = {};
    for (const metric of ['subscribers', 'views'] as const) {
      const mine = await backtestPoints(wh, { channels, metric, origins, horizonDays: 30 });
      byMetric[metric] = scoreBacktest(mine);
      points.push(...mine);
    }
    const all = scoreBacktest(points);
    const pct = (r: number) => `${(r * 100).toFixed(1)} %`;
    for (const [name, score] of [...Object.entries(byMetric), ['all', all] as const]) {
      process.stdout.write(
        `forecast backtest ${name}: ${score.points} days, 80 % band ${pct(score.coverage80)}, 95 % band ${pct(score.coverage95)}\n`,
      );
    }
    // Every forecast day of every channel, metric and origin had an actual to compare with.
    expect(all.points).toBe(channels.length * 2 * origins.length * 30);
    expect(all.coverage80).toBeGreaterThanOrEqual(0.65);
    expect(all.coverage80).toBeLessThanOrEqual(0.95);
    expect(all.coverage95).toBeGreaterThanOrEqual(all.coverage80);
    for (const [metric, score] of Object.entries(byMetric)) {
      expect(score.coverage80, metric).toBeGreaterThanOrEqual(0.6);
      expect(score.coverage80, metric).toBeLessThanOrEqual(0.97);
      expect(score.coverage95, metric).toBeGreaterThanOrEqual(score.coverage80);
    }
    // Subscriber counts move slowly: the point forecast is close.
    expect(byMetric.subscribers.medianApe).toBeLessThan(0.05);
  });
});

describe('GET /v1/channels/{id}/forecast', () => {
  it('answers the documented shape: the fit, the history and a band per day', async () => {
    const c = channels[0];
    const res = await get(`/v1/channels/${c}/forecast?metric=subscribers&horizon=30d`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    const today = Math.floor(clock / DAY_MS) * DAY_MS;
    expect(body.meta).toMatchObject({ channel_id: c, to: today, sources: expect.arrayContaining(['simulator']) });
    const f = body.data;
    expect(f).toMatchObject({
      metric: 'subscribers',
      horizon_days: 30,
      model: { method: 'holt_winters_additive', scale: 'log', season_days: 7 },
      // The channel's first (partial) day is left out of the history.
      fit: { from: START + DAY_MS, to: today, days: DAYS - 1, observed_days: DAYS - 1 },
    });
    expect(f.fit.n).toBeGreaterThan(60);
    expect(f.fit.mape).toBeLessThan(0.05);
    for (const w of ['alpha', 'beta', 'gamma']) expect(f.model[w]).toBeGreaterThanOrEqual(0);
    expect(f.history).toHaveLength(DAYS - 1);
    expect(f.points.map((p: any) => p.t)).toEqual(Array.from({ length: 30 }, (_, i) => today + i * DAY_MS));
    for (const p of f.points) {
      expect(p.low_95).toBeLessThanOrEqual(p.low_80);
      expect(p.low_80).toBeLessThanOrEqual(p.expected);
      expect(p.expected).toBeLessThanOrEqual(p.high_80);
      expect(p.high_80).toBeLessThanOrEqual(p.high_95);
    }
    // The band widens with the horizon.
    const width = (p: any) => p.high_80 - p.low_80;
    expect(width(f.points[29])).toBeGreaterThan(width(f.points[0]));
    // The same answer as the read model's.
    const wh = pipe?.warehouse;
    if (!wh) throw new Error('no pipeline');
    expect(f).toEqual(await channelForecast(wh, { channel_id: c, metric: 'subscribers', horizonDays: 30, now: clock }));

    const views = (await (await get(`/v1/channels/${c}/forecast?metric=views&horizon=7d`)).json()) as any;
    expect(views.data).toMatchObject({ metric: 'views', horizon_days: 7 });
    expect(views.data.points).toHaveLength(7);
    const csv = await get(`/v1/channels/${c}/forecast.csv?horizon=3d`);
    expect(csv.status).toBe(200);
    expect((await csv.text()).trim().split('\n')[0]).toBe('t,expected,low_80,high_80,low_95,high_95');
  });

  it('refuses a bad horizon or metric with 400 and an unknown channel with 404', async () => {
    const c = channels[0];
    for (const horizon of ['91d', '0d', '30', 'abc', '1e2d']) {
      const res = await get(`/v1/channels/${c}/forecast?horizon=${horizon}`);
      const body = (await res.json()) as any;
      expect({ horizon, status: res.status, code: body.error.code }).toEqual({
        horizon,
        status: 400,
        code: 'invalid_parameter',
      });
      expect(body.error.message).toMatch(/horizon/);
    }
    const metric = await get(`/v1/channels/${c}/forecast?metric=posts`);
    expect(metric.status).toBe(400);
    const unknown = await get('/v1/channels/4242424242/forecast');
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as any).error.code).toBe('unknown_channel');
    expect((await get('/v1/channels/4242424242/charts/forecast.png')).status).toBe(404);
    expect((await get(`/v1/channels/${c}/charts/forecast.svg?horizon=120d`)).status).toBe(400);
  });

  it('draws the forecast chart as SVG and PNG, documented in OpenAPI', async () => {
    const c = channels[1];
    const svg = await get(`/v1/channels/${c}/charts/forecast.svg?metric=views&horizon=14d`);
    expect(svg.status).toBe(200);
    expect(svg.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    const text = await svg.text();
    expect(text).toMatch(/^<svg/);
    for (const label of ['Forecast: Views per day', 'History', '80 % interval', '95 % interval']) {
      expect(text).toContain(label);
    }
    const png = await get(`/v1/channels/${c}/charts/forecast.png?width=640&height=320`);
    expect(png.status).toBe(200);
    const bytes = Buffer.from(await png.arrayBuffer());
    expect(bytes.subarray(0, 8)).toEqual(PNG_SIGNATURE);
    expect([bytes.readUInt32BE(16), bytes.readUInt32BE(20)]).toEqual([640, 320]);
    // The growth chart next to it still answers.
    expect((await get(`/v1/channels/${c}/charts/growth.svg`)).status).toBe(200);

    const docs = (await (await fetch(`${api?.url}/docs/openapi.json`)).json()) as any;
    const op = docs.paths['/v1/channels/{id}/forecast'].get;
    expect(op.parameters.map((p: any) => p.name)).toEqual(expect.arrayContaining(['id', 'metric', 'horizon']));
    const schema = op.responses['200'].content['application/json'].schema;
    expect(Object.keys(schema.properties.data.properties)).toEqual(
      expect.arrayContaining(['model', 'fit', 'history', 'points']),
    );
    expect(op.responses['400']).toBeDefined();
    expect(op.responses['404']).toBeDefined();
    expect(docs.paths['/v1/channels/{id}/forecast.csv']).toBeDefined();
    expect(docs.paths['/v1/channels/{id}/charts/forecast.svg'].get).toBeDefined();
    expect(docs.paths['/v1/channels/{id}/charts/forecast.png'].get).toBeDefined();
  });
});

describe('/forecast in the bot', () => {
  it('sends the chart with the expected value in 30 days and its 80 % interval', async () => {
    const f = fake;
    const wh = pipe?.warehouse;
    if (!f || !wh) throw new Error('no bot');
    const c = channels[0];
    const before = f.delivered(OWNER).length;
    f.say(OWNER, '/forecast');
    const reply = await f.waitFor(() => f.delivered(OWNER)[before]);
    expect(reply.method).toBe('sendPhoto');
    expect(reply.files.photo.subarray(0, 8)).toEqual(PNG_SIGNATURE);
    const caption = String(reply.params.caption);
    expectWellFormedHtml(caption);
    const expected = await channelForecast(wh, { channel_id: c, metric: 'subscribers', horizonDays: 30, now: clock });
    const end = expected.points[29];
    expect(caption).toContain(`Subscribers in 30 days (${new Date(end.t).toISOString().slice(0, 10)})`);
    expect(caption).toContain(`<b>${compact(end.expected)}</b>`);
    expect(caption).toContain(`80 % likely between ${compact(end.low_80)} and ${compact(end.high_80)}`);
    // Buttons for the other horizons.
    const buttons = (reply.params.reply_markup as any).inline_keyboard.flat().map((b: any) => b.callback_data);
    expect(buttons).toContain(`fc:${c}:90d`);

    const next = f.delivered(OWNER).length;
    f.say(OWNER, `/forecast ${c} 7d views`);
    const views = await f.waitFor(() => f.delivered(OWNER)[next]);
    expect(String(views.params.caption)).toContain('Views per day in 7 days');
    const later = f.delivered(OWNER).length;
    f.say(OWNER, `/forecast ${c} 120d`);
    const refused = await f.waitFor(() => f.delivered(OWNER)[later]);
    expect(String(refused.params.text)).toContain('at most 90 days ahead');
  });
});
