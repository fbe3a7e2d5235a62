/**
 * Mini App sign-in through the real API (Fastify, embedded control plane,
 * pipeline-produced data): initData Telegram signed for the bot becomes a
 * session token that reads exactly the channels granted to that user, for as
 * long as they are granted; forged, stale and malformed initData is refused
 * with a reason, and without a bot token the route says it is off.
 */
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUR_MS } from '../../common/index.ts';
import { grantChannel, revokeGrant } from '../../control/bot-store.ts';
import { openControlPlane, type ControlPlane } from '../../control/postgres.ts';
import { freshTestControl, type TestControl } from '../../control/testing.ts';
import { silentLogger } from '../../observability/log.ts';
import { LOOPBACK_API_CONFIG } from '../../test/support/api-target.ts';
import { produceReadSideData, type ReadSideData } from '../../test/support/read-side.ts';
import { forgeHash, type InitDataUser, signInitData } from '../../test/support/telegram-init-data.ts';
import { buildApi } from '../app.ts';
import type { ApiConfig } from '../config.ts';
import type { ApiDeps } from '../context.ts';
import { GRANTS_FRESH_MS } from './sessions.ts';

const BOT_TOKEN = '7000000004:AAH-mini_app_session_test';
const MAX_AGE_S = 3600;
const CONFIG: ApiConfig = { ...LOOPBACK_API_CONFIG, webApp: { botToken: BOT_TOKEN, maxAgeSeconds: MAX_AGE_S } };

let data: ReadSideData;
let testControl: TestControl;
let control: ControlPlane;
let api: FastifyInstance;
/** The API's clock: pinned just after the data, moved by the expiry spec. */
let clock: number;
let channelA: string;
let channelB: string;
/** Fresh Telegram user ids per spec, so no spec depends on another's grants. */
let nextUser = 9_100_000;

/** Builds the API over the test's stores with this configuration. */
function apiWith(config: ApiConfig): Promise<FastifyInstance> {
  const deps: ApiDeps = {
    warehouse: data.pipe.warehouse,
    control: control.pool,
    shareSecret: Buffer.alloc(32, 3),
    config,
    log: silentLogger,
    registry: new Registry(),
    now: () => clock,
  };
  return buildApi(deps);
}

/** A Telegram user granted `channels`. */
async function userWith(...channels: string[]): Promise<InitDataUser> {
  const id = nextUser++;
  for (const channelId of channels)
    await grantChannel(control.pool, { userId: String(id), channelId, via: 'admin', grantedBy: null });
  return { id, first_name: `Owner ${id}`, username: `owner${id}` };
}

const initDataOf = (user: InitDataUser, ageSeconds = 30) =>
  signInitData(BOT_TOKEN, { user, authDateSeconds: Math.floor(clock / 1000) - ageSeconds });

async function signIn(initData: string, app = api) {
  const res = await app.inject({ method: 'POST', url: '/v1/webapp/session', payload: { init_data: initData } });
  return { status: res.statusCode, headers: res.headers, body: res.json() };
}

async function read(token: string, path: string) {
  const res = await api.inject({ method: 'GET', url: path, headers: { authorization: `Bearer ${token}` } });
  return { status: res.statusCode, headers: res.headers, body: res.body };
}

beforeAll(async () => {
  data = await produceReadSideData({ channels: 2, days: 2, seed: 41, start: Date.UTC(2026, 2, 2) });
  [channelA, channelB] = data.channels;
  clock = data.end + HOUR_MS;
  testControl = await freshTestControl('embedded');
  control = await openControlPlane(testControl.config);
  api = await apiWith(CONFIG);
}, 600_000);

afterAll(async () => {
  await api?.close();
  await control?.close();
  await testControl?.dispose();
  await data?.close();
});

describe('signing in with initData', () => {
  it('gives a one-hour token, the user and their granted channels, never cached', async () => {
    const user = await userWith(channelA);
    const s = await signIn(initDataOf(user));
    expect(s.status).toBe(201);
    expect(s.headers['cache-control']).toBe('no-store');
    expect(s.body).toEqual({
      token: expect.stringMatching(/^tgw_\d+\.\d+\.[A-Za-z0-9_-]{43}$/),
      expires_at: Math.floor((clock + HOUR_MS) / 1000) * 1000,
      user: { id: String(user.id), name: `Owner ${user.id} (@owner${user.id})` },
      channels: [channelA],
    });
  });

  it('the token reads and exports the granted channel, and nothing else', async () => {
    const { body } = await signIn(initDataOf(await userWith(channelA)));
    expect((await read(body.token, `/v1/channels/${channelA}/overview`)).status).toBe(200);
    const csv = await read(body.token, `/v1/channels/${channelA}/growth.csv`);
    expect({ status: csv.status, type: csv.headers['content-type'] }).toEqual({
      status: 200,
      type: 'text/csv; charset=utf-8',
    });
    const list = JSON.parse((await read(body.token, '/v1/channels')).body);
    expect(list.data.map((c: { channel_id: string }) => c.channel_id)).toEqual([channelA]);

    const other = await read(body.token, `/v1/channels/${channelB}/overview`);
    expect({ status: other.status, code: JSON.parse(other.body).error.code }).toEqual({
      status: 403,
      code: 'forbidden',
    });
    const share = await api.inject({
      method: 'POST',
      url: `/v1/channels/${channelA}/share`,
      headers: { authorization: `Bearer ${body.token}` },
      payload: {},
    });
    expect({ status: share.statusCode, details: share.json().error.details }).toEqual({
      status: 403,
      details: { scope: 'share' },
    });
  });

  it('a revoked grant stops the token reading that channel within seconds, not at its expiry', async () => {
    const user = await userWith(channelA, channelB);
    const { body } = await signIn(initDataOf(user));
    expect((await read(body.token, `/v1/channels/${channelB}/overview`)).status).toBe(200);
    await revokeGrant(control.pool, { userId: String(user.id), channelId: channelB, by: 'test' });
    const revokedAt = Date.now();
    let status = 200;
    while (status === 200 && Date.now() - revokedAt < GRANTS_FRESH_MS + 5000) {
      status = (await read(body.token, `/v1/channels/${channelB}/overview`)).status;
      if (status === 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(403);
    expect(Date.now() - revokedAt).toBeLessThan(GRANTS_FRESH_MS + 2500);
    expect((await read(body.token, `/v1/channels/${channelA}/overview`)).status).toBe(200);
  });

  it('a user without grants signs in to an empty list', async () => {
    const s = await signIn(initDataOf(await userWith()));
    expect({ status: s.status, channels: s.body.channels }).toEqual({ status: 201, channels: [] });
    const list = JSON.parse((await read(s.body.token, '/v1/channels')).body);
    expect(list.meta.total).toBe(0);
  });

  it('an expired or altered token is 401, as a bad API key is', async () => {
    const { body } = await signIn(initDataOf(await userWith(channelA)));
    const moved = body.token.replace(/^tgw_\d+/, `tgw_${nextUser + 99}`);
    const altered = await read(moved, `/v1/channels/${channelA}/overview`);
    expect({ status: altered.status, code: JSON.parse(altered.body).error.code }).toEqual({
      status: 401,
      code: 'unauthorized',
    });
    const issuedAt = clock;
    try {
      clock = body.expires_at;
      const expired = await read(body.token, `/v1/channels/${channelA}/overview`);
      expect({ status: expired.status, message: JSON.parse(expired.body).error.message }).toEqual({
        status: 401,
        message: expect.stringMatching(/expired/),
      });
    } finally {
      clock = issuedAt;
    }
  });
});

describe('refusals', () => {
  it('forged initData: 401 init_data_invalid, and no token', async () => {
    const user = await userWith(channelA);
    for (const forged of [
      forgeHash(initDataOf(user)),
      signInitData('7000000004:AAH-another_bots_token', { user, authDateSeconds: Math.floor(clock / 1000) }),
      initDataOf(user).replace(String(user.id), String(user.id + 1)),
      'user=%7B%22id%22%3A1%7D&auth_date=1&hash=00',
    ]) {
      const s = await signIn(forged);
      expect({ status: s.status, code: s.body.error.code, token: s.body.token }).toEqual({
        status: 401,
        code: 'init_data_invalid',
        token: undefined,
      });
    }
  });

  it('stale initData: 401 init_data_expired; dated ahead of the clock: init_data_invalid', async () => {
    const user = await userWith(channelA);
    const stale = await signIn(initDataOf(user, MAX_AGE_S + 1));
    expect({ status: stale.status, code: stale.body.error.code }).toEqual({ status: 401, code: 'init_data_expired' });
    const future = await signIn(initDataOf(user, -3600));
    expect({ status: future.status, code: future.body.error.code }).toEqual({ status: 401, code: 'init_data_invalid' });
  });

  it('a body that is not `{ init_data: string }`: 400', async () => {
    for (const payload of [
      {},
      { init_data: '' },
      { init_data: { hash: 'x' } },
      { init_data: 'x', extra: 1 },
      { init_data: 'a'.repeat(5000) },
    ]) {
      const res = await api.inject({ method: 'POST', url: '/v1/webapp/session', payload });
      expect({ payload, status: res.statusCode, code: res.json().error.code }).toEqual({
        payload,
        status: 400,
        code: 'invalid_parameter',
      });
    }
  });

  it('without a bot token the route is off: 503 webapp_unavailable', async () => {
    for (const webApp of [undefined, { botToken: null, maxAgeSeconds: MAX_AGE_S }]) {
      const off = await apiWith({ ...CONFIG, webApp });
      try {
        const s = await signIn(initDataOf(await userWith(channelA)), off);
        expect({ status: s.status, code: s.body.error.code }).toEqual({ status: 503, code: 'webapp_unavailable' });
      } finally {
        await off.close();
      }
    }
  });
});
