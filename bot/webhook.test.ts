/**
 * Webhook mode: updates POSTed to the REST API's server reach the bot when
 * they carry the secret token, and are refused without it.
 */
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../api/app.ts';
import { openTempWarehouse, type TempWarehouse } from '../clickhouse/testing.ts';
import { openControlPlane, type ControlPlane } from '../control/postgres.ts';
import { freshTestControl, type TestControl } from '../control/testing.ts';
import { silentLogger } from '../observability/log.ts';
import { FakeBotApi } from '../test/support/fake-bot-api.ts';
import { createBot } from './bot.ts';
import { WEBHOOK_PATH, webhookRoute } from './webhook.ts';

const SECRET = 'webhook-secret-0123456789';

describe('webhook mode', () => {
  const fake = new FakeBotApi();
  let wh: TempWarehouse;
  let testControl: TestControl;
  let control: ControlPlane;
  let app: FastifyInstance;

  beforeAll(async () => {
    await fake.start();
    wh = await openTempWarehouse();
    testControl = await freshTestControl('embedded');
    control = await openControlPlane(testControl.config);
    const bot = createBot({
      config: {
        token: fake.token,
        apiRoot: fake.url,
        admins: [],
        mode: 'webhook',
        webhookSecret: SECRET,
        publicApiUrl: 'https://tgpulse.example',
        maxSendsPerSecond: 25,
      },
      warehouse: wh.wh,
      control: control.pool,
      shareSecret: Buffer.alloc(32, 1),
      log: silentLogger,
    });
    await bot.init();
    app = await buildApi({
      warehouse: wh.wh,
      control: control.pool,
      shareSecret: Buffer.alloc(32, 1),
      config: { host: '127.0.0.1', port: 0, ratePerMinute: 100, cacheSeconds: 0, maxRangeDays: 400, corsOrigins: [] },
      log: silentLogger,
      registry: new Registry(),
      routes: [webhookRoute(bot, SECRET)],
    });
  });

  afterAll(async () => {
    await app?.close();
    await control?.close();
    await testControl?.dispose();
    await wh?.dispose();
    await fake.stop();
  });

  const update = (text: string) => ({
    update_id: 1,
    message: {
      message_id: 1,
      date: 1,
      chat: { id: 77, type: 'private' },
      from: { id: 77, is_bot: false, first_name: 'u' },
      text,
      entities: [{ type: 'bot_command', offset: 0, length: text.length }],
    },
  });

  it('hands updates with the secret token to the bot', async () => {
    const res = await app.inject({
      method: 'POST',
      url: WEBHOOK_PATH,
      headers: { 'x-telegram-bot-api-secret-token': SECRET },
      payload: update('/help'),
    });
    expect(res.statusCode).toBe(200);
    const [reply] = await fake.waitFor(() => fake.delivered(77).length > 0 && fake.delivered(77));
    expect(String(reply.params.text)).toContain('/overview');
  });

  it('refuses updates without the secret token', async () => {
    const before = fake.calls.length;
    const res = await app.inject({
      method: 'POST',
      url: WEBHOOK_PATH,
      headers: { 'x-telegram-bot-api-secret-token': 'wrong' },
      payload: update('/help'),
    });
    expect(res.statusCode).toBe(401);
    expect(fake.calls.length).toBe(before);
  });
});
