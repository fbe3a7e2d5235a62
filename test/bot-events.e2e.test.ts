/**
 * Custom bot events end to end: a bot's batches over real HTTP to the API,
 * published to a private nats-server, written by the real sink into the
 * warehouse, and read back through the bot endpoints. The figures are
 * checked against a recomputation from the events the test sent; a bad
 * batch keeps its good items and names what is wrong with the others; the
 * same events sent again count once; raw user ids reach neither NATS nor the
 * warehouse; only a `track` key may send, only a `read` key may read.
 */
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServer } from '../api/server.ts';
import { apiEventPublisher } from '../cli/serving-roles.ts';
import { DAY_MS, HOUR_MS } from '../common/index.ts';
import { createApiKey, type ApiScope } from '../control/api-keys.ts';
import { botUserSalt, hashBotUserId } from '../control/bot-user-hash.ts';
import { openControlPlane, type ControlPlane } from '../control/postgres.ts';
import { freshTestControl, type TestControl } from '../control/testing.ts';
import { silentLogger } from '../observability/log.ts';
import { LOOPBACK_API_CONFIG } from './support/api-target.ts';
import { startTestNats, tempDir, type TestNats } from './support/nats.ts';
import { startPipeline, type TestPipeline } from './support/pipeline.ts';
import { warehouseMentions } from './support/scan.ts';

const BOT = '5550001';
const OTHER_BOT = '5550002';
/** Raw Telegram user ids: long and distinctive, so a scan cannot meet them by chance. */
const USERS = ['7000000001', '7000000002', '7000000003'];
/** A Monday: cohorts and weeks start here. */
const T0 = Date.UTC(2026, 2, 2);
const CLOCK = T0 + 21 * DAY_MS + 12 * HOUR_MS;

interface Sent {
  bot_id: string | number;
  user_id: string | number | null;
  event: string;
  properties?: Record<string, unknown>;
  event_time: number;
}

/** The good events: three users over four weeks, and one event of no user. */
const GOOD: Sent[] = [
  {
    bot_id: Number(BOT),
    user_id: Number(USERS[0]),
    event: 'start',
    properties: { ref: 'ad' },
    event_time: T0 + HOUR_MS,
  },
  { bot_id: BOT, user_id: USERS[1], event: 'start', event_time: T0 + 2 * HOUR_MS },
  {
    bot_id: BOT,
    user_id: USERS[0],
    event: 'click',
    properties: { button: 'buy', n: 2, ok: true },
    event_time: T0 + 3 * HOUR_MS,
  },
  { bot_id: BOT, user_id: null, event: 'broadcast', event_time: T0 + 4 * HOUR_MS },
  { bot_id: BOT, user_id: USERS[2], event: 'start', event_time: T0 + 2 * DAY_MS },
  { bot_id: BOT, user_id: USERS[0], event: 'click', properties: { button: 'help' }, event_time: T0 + 8 * DAY_MS },
  { bot_id: BOT, user_id: USERS[1], event: 'click', event_time: T0 + 9 * DAY_MS },
  {
    bot_id: BOT,
    user_id: USERS[0],
    event: 'click',
    properties: { button: 'buy', x: null },
    event_time: T0 + 15 * DAY_MS,
  },
  { bot_id: BOT, user_id: USERS[2], event: 'click', event_time: T0 + 21 * DAY_MS + HOUR_MS },
];

/** Items that must be refused, each with the field the answer must name. */
const BAD: Array<{ item: unknown; field: string; reason: RegExp }> = [
  { item: { bot_id: BOT, user_id: USERS[0], event_time: T0 }, field: 'event', reason: /required/i },
  { item: { bot_id: BOT, user_id: 'alice', event: 'x', event_time: T0 }, field: 'user_id', reason: /./ },
  { item: { bot_id: -1, user_id: null, event: 'x', event_time: T0 }, field: 'bot_id', reason: /positive integer/ },
  {
    item: { bot_id: BOT, user_id: null, event: 'x', event_time: CLOCK + DAY_MS },
    field: 'event_time',
    reason: /future/,
  },
  {
    item: { bot_id: BOT, user_id: null, event: 'x', event_time: T0 - 40 * DAY_MS },
    field: 'event_time',
    reason: /older/,
  },
  {
    item: { bot_id: BOT, user_id: null, event: 'x', properties: { nested: { a: 1 } }, event_time: T0 },
    field: 'properties.nested',
    reason: /./,
  },
  {
    item: {
      bot_id: BOT,
      user_id: null,
      event: 'x',
      properties: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i])),
      event_time: T0,
    },
    field: 'properties',
    reason: /32/,
  },
  {
    item: {
      bot_id: BOT,
      user_id: null,
      event: 'x',
      properties: Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`k${i}`, 'v'.repeat(1000)])),
      event_time: T0,
    },
    field: 'properties',
    reason: /bytes/,
  },
  { item: { bot_id: BOT, user_id: null, event: 'x', event_time: T0, extra: 1 }, field: 'extra', reason: /./ },
  { item: 'not an event', field: '(event)', reason: /object/i },
];

let nats: TestNats;
let pipe: TestPipeline;
let testControl: TestControl;
let control: ControlPlane;
let api: ApiServer;
const keys: Record<string, string> = {};

async function key(name: string, scopes: ApiScope[], channels?: string[]): Promise<string> {
  return (await createApiKey(control.pool, { name, scopes, ...(channels ? { channels } : {}) })).token;
}

async function call(
  method: 'GET' | 'POST',
  path: string,
  k: string | null,
  body?: unknown,
  server: ApiServer = api,
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      ...(k ? { authorization: `Bearer ${k}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: await res.json() };
}

async function read<T = any>(path: string): Promise<T> {
  const a = await call('GET', path, keys.read);
  if (a.status !== 200) throw new Error(`${path}: ${a.status} ${JSON.stringify(a.body)}`);
  return a.body.data as T;
}

const iso = (t: number) => new Date(t).toISOString();
const dayOf = (t: number) => Math.floor(t / DAY_MS) * DAY_MS;

/** DAU/WAU/MAU of each day, from the sent events alone. */
function expectedActiveUsers(from: number, to: number): Array<{ t: number; dau: number; wau: number; mau: number }> {
  const out = [];
  for (let d = from; d < to; d += DAY_MS) {
    const users = (days: number) =>
      new Set(
        GOOD.filter(
          (e) => e.user_id !== null && dayOf(e.event_time) <= d && dayOf(e.event_time) > d - days * DAY_MS,
        ).map((e) => String(e.user_id)),
      ).size;
    if (users(30) > 0) out.push({ t: d, dau: users(1), wau: users(7), mau: users(30) });
  }
  return out;
}

/** The API on the test's warehouse, control plane and clock, publishing events with `js`. */
function startTestApi(js: JetStreamClient): Promise<ApiServer> {
  return startApiServer({
    warehouse: pipe.warehouse,
    control,
    controlConfig: testControl.config,
    config: LOOPBACK_API_CONFIG,
    log: silentLogger,
    registry: new Registry(),
    now: () => CLOCK,
    publish: apiEventPublisher(js, pipe.ctx),
  });
}

beforeAll(async () => {
  nats = await startTestNats();
  pipe = await startPipeline({ natsUrl: nats.url, dataDir: tempDir('bot-events') });
  pipe.startRoles();
  testControl = await freshTestControl('embedded');
  control = await openControlPlane(testControl.config);
  api = await startTestApi(pipe.nats.js);
  keys.track = await key('bot', ['track']);
  keys.read = await key('dashboard', ['read']);
  keys.otherBotOnly = await key('the other bot', ['track', 'read'], [OTHER_BOT]);
}, 300_000);

afterAll(async () => {
  await api?.close();
  await control?.close();
  await testControl?.dispose();
  await pipe?.close();
  await nats?.stop();
});

describe('POST /v1/events', () => {
  it('keeps the good items of a bad batch and names the field and reason of each bad one', async () => {
    // Bad items between the good ones: indexes must point at the right items.
    const batch: unknown[] = [];
    const badAt: number[] = [];
    GOOD.forEach((g, i) => {
      batch.push(g);
      if (i < BAD.length) {
        badAt.push(batch.length);
        batch.push(BAD[i].item);
      }
    });
    for (const b of BAD.slice(GOOD.length)) {
      badAt.push(batch.length);
      batch.push(b.item);
    }
    const a = await call('POST', '/v1/events', keys.track, batch);
    expect(a.status).toBe(200);
    expect({ accepted: a.body.accepted, rejected: a.body.rejected }).toEqual({
      accepted: GOOD.length,
      rejected: BAD.length,
    });
    expect(a.body.results.map((r: { index: number }) => r.index)).toEqual(batch.map((_, i) => i));
    BAD.forEach((b, i) => {
      const r = a.body.results[badAt[i]];
      expect({ i, status: r.status, id: r.id }).toEqual({ i, status: 'rejected', id: undefined });
      const named = r.errors.find((e: { field: string }) => e.field === b.field);
      expect(named, `item ${badAt[i]}: ${JSON.stringify(r.errors)}`).toBeDefined();
      expect(named.reason).toMatch(b.reason);
    });
    const ids = a.body.results
      .filter((r: { status: string }) => r.status === 'accepted')
      .map((r: { id: string }) => r.id);
    expect(new Set(ids).size).toBe(GOOD.length);
    await pipe.waitIdle();
    const rows = await pipe.warehouse.query<{ id: string }>('SELECT id FROM raw_bot_events FINAL ORDER BY id');
    expect(rows.map((r) => r.id)).toEqual([...ids].sort());
  });

  it('stores the events as sent, with the user id replaced by a salted hash', async () => {
    const rows = await pipe.warehouse.query<Record<string, string | null>>(
      `SELECT channel_id, bot_id, event_type, user_id, properties, source, toUnixTimestamp64Milli(event_time) AS t
       FROM raw_bot_events FINAL ORDER BY event_time`,
    );
    expect(
      rows.map((r) => [r.channel_id, r.bot_id, r.event_type, Number(r.t), JSON.parse(String(r.properties)), r.source]),
    ).toEqual(GOOD.map((g) => [BOT, BOT, g.event, g.event_time, g.properties ?? {}, 'botapi']));
    // One stable hash per user, none of them the id itself; no user stays no user.
    const hashOf = new Map<string, string | null>();
    rows.forEach((r, i) => {
      const raw = GOOD[i].user_id === null ? null : String(GOOD[i].user_id);
      if (raw === null) expect(r.user_id).toBeNull();
      else {
        expect(r.user_id).toMatch(/^[0-9]{1,20}$/);
        expect(r.user_id).not.toBe(raw);
        expect(hashOf.get(raw) ?? r.user_id).toBe(r.user_id);
        hashOf.set(raw, r.user_id);
      }
    });
    expect(new Set(hashOf.values()).size).toBe(USERS.length);
  });

  it('lets no raw user id reach the stream or the warehouse', async () => {
    for (const u of USERS) expect({ u, found: await warehouseMentions(pipe.warehouse, u) }).toEqual({ u, found: [] });
    const stream = pipe.config.streams.names.raw;
    const info = await pipe.nats.jsm.streams.info(stream);
    expect(info.state.messages).toBeGreaterThan(0);
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const text = (await pipe.nats.jsm.streams.getMessage(stream, { seq }))?.string() ?? '';
      for (const u of USERS) expect(text.includes(u), `TG_RAW #${seq} holds ${u}`).toBe(false);
    }
  });

  it('counts the same events sent again once, in a batch of another order too', async () => {
    const before = await read(`/v1/bots/${BOT}/events/top?from=${iso(T0)}&to=${iso(CLOCK)}`);
    const again = await call('POST', '/v1/events', keys.track, [...GOOD].reverse());
    expect(again.status).toBe(200);
    expect(again.body.accepted).toBe(GOOD.length);
    await pipe.waitIdle();
    const [{ n }] = await pipe.warehouse.query<{ n: string }>('SELECT count() AS n FROM raw_bot_events FINAL');
    expect(Number(n)).toBe(GOOD.length);
    expect(await read(`/v1/bots/${BOT}/events/top?from=${iso(T0)}&to=${iso(CLOCK)}`)).toEqual(before);
  });

  it('answers 503 when the stream does not take the events, and stores nothing of them', async () => {
    const nc = await connect({ servers: nats.url });
    const js = jetstream(nc);
    await nc.close();
    const broken = await startTestApi(js);
    try {
      const item = { bot_id: BOT, user_id: null, event: 'lost', event_time: T0 };
      const a = await call('POST', '/v1/events', keys.track, [item], broken);
      expect({ status: a.status, code: a.body.error?.code }).toEqual({ status: 503, code: 'events_not_stored' });
    } finally {
      await broken.close();
    }
    await pipe.waitIdle();
    expect(await pipe.warehouse.query(`SELECT id FROM raw_bot_events WHERE event_type = 'lost'`)).toEqual([]);
  });

  it('needs the track scope; a track-only key reads nothing; an allow-list limits the bots', async () => {
    const item = { bot_id: BOT, user_id: null, event: 'x', event_time: T0 };
    expect((await call('POST', '/v1/events', null, [item])).status).toBe(401);
    const readOnly = await call('POST', '/v1/events', keys.read, [item]);
    expect({ status: readOnly.status, details: readOnly.body.error.details }).toEqual({
      status: 403,
      details: { scope: 'track' },
    });
    for (const path of ['/v1/channels', `/v1/bots/${BOT}/events`, `/v1/bots/${BOT}/retention`]) {
      const a = await call('GET', path, keys.track);
      expect({ path, status: a.status, details: a.body.error.details }).toEqual({
        path,
        status: 403,
        details: { scope: 'read' },
      });
    }
    const limited = await call('POST', '/v1/events', keys.otherBotOnly, [item, { ...item, bot_id: OTHER_BOT }]);
    expect(limited.status).toBe(200);
    expect(limited.body.results.map((r: { status: string }) => r.status)).toEqual(['rejected', 'accepted']);
    expect(limited.body.results[0].errors).toEqual([
      { field: 'bot_id', reason: `this API key may not send events of bot ${BOT}` },
    ]);
    expect((await call('GET', `/v1/bots/${BOT}/events`, keys.otherBotOnly)).status).toBe(403);
    expect((await call('GET', `/v1/bots/${OTHER_BOT}/events`, keys.otherBotOnly)).status).toBe(200);
    for (const bad of [[], {}, Array.from({ length: 101 }, () => item)]) {
      const a = await call('POST', '/v1/events', keys.track, bad);
      expect({ status: a.status, code: a.body.error.code }).toEqual({ status: 400, code: 'invalid_parameter' });
    }
  });
});

describe('bot read models over the events', () => {
  const period = `from=${iso(T0)}&to=${iso(CLOCK)}`;

  it('events and users per day and per week', async () => {
    const byDay = new Map<number, { events: number; users: Set<string> }>();
    for (const e of GOOD) {
      const b = byDay.get(dayOf(e.event_time)) ?? { events: 0, users: new Set<string>() };
      b.events++;
      if (e.user_id !== null) b.users.add(String(e.user_id));
      byDay.set(dayOf(e.event_time), b);
    }
    expect(await read(`/v1/bots/${BOT}/events?${period}`)).toEqual(
      [...byDay].map(([t, b]) => ({ t, events: b.events, users: b.users.size })),
    );
    expect(await read(`/v1/bots/${BOT}/events?${period}&granularity=week&event=click`)).toEqual([
      { t: T0, events: 1, users: 1 },
      { t: T0 + 7 * DAY_MS, events: 2, users: 2 },
      { t: T0 + 14 * DAY_MS, events: 1, users: 1 },
      { t: T0 + 21 * DAY_MS, events: 1, users: 1 },
    ]);
  });

  it('top events', async () => {
    expect(await read(`/v1/bots/${BOT}/events/top?${period}`)).toEqual([
      { event: 'click', events: 5, users: 3 },
      { event: 'start', events: 3, users: 3 },
      { event: 'broadcast', events: 1, users: 0 },
    ]);
  });

  it('DAU, WAU and MAU of every day', async () => {
    const data = await read(`/v1/bots/${BOT}/active-users?${period}`);
    expect(data).toEqual(expectedActiveUsers(T0, dayOf(CLOCK) + DAY_MS));
    expect(data.at(-1)).toEqual({ t: T0 + 21 * DAY_MS, dau: 1, wau: 2, mau: 3 });
  });

  it('weekly retention cohorts, up to the current week', async () => {
    const { data, meta } = (await call('GET', `/v1/bots/${BOT}/retention?${period}`, keys.read)).body;
    expect(meta).toMatchObject({ bot_id: BOT, from: T0, granularity: 'week' });
    expect(data).toEqual([{ cohort: T0, users: 3, retained: [3, 2, 1, 1], rates: [1, 2 / 3, 1 / 3, 1 / 3] }]);
  });

  it("one user's timeline, found by the raw user id the bot knows", async () => {
    const data = await read(`/v1/bots/${BOT}/users/${USERS[0]}/events?${period}`);
    const mine = GOOD.filter((e) => String(e.user_id) === USERS[0]).reverse();
    expect(data.map((e: { t: number; event: string; properties: unknown }) => [e.t, e.event, e.properties])).toEqual(
      mine.map((e) => [e.event_time, e.event, e.properties ?? {}]),
    );
    expect(await read(`/v1/bots/${BOT}/users/123/events?${period}`)).toEqual([]);
    // The same user id in another bot is another user.
    expect(await read(`/v1/bots/${OTHER_BOT}/users/${USERS[0]}/events?${period}`)).toEqual([]);
  });
});

describe('the salt of user ids', () => {
  it('is generated once, kept in control_secrets, the same for every caller, and refused when too short', async () => {
    const pool = control.pool;
    const [a, b] = await Promise.all([botUserSalt(pool), botUserSalt(pool)]);
    expect(a.length).toBe(32);
    expect(b).toEqual(a);
    const { rows } = await pool.query<{ value: string }>(
      "SELECT value FROM control_secrets WHERE name = 'bot_user_salt'",
    );
    expect(rows).toHaveLength(1);
    // The hashes in the warehouse are this salt's.
    const [stored] = await pipe.warehouse.query<{ user_id: string }>(
      `SELECT user_id FROM raw_bot_events FINAL WHERE event_type = 'start' ORDER BY event_time LIMIT 1`,
    );
    expect(stored.user_id).toBe(hashBotUserId(a, BOT, USERS[0]));
    await pool.query("UPDATE control_secrets SET value = 'c2hvcnQ' WHERE name = 'bot_user_salt'");
    try {
      await expect(botUserSalt(pool)).rejects.toThrow(/restore it from a backup/);
    } finally {
      await pool.query("UPDATE control_secrets SET value = $1 WHERE name = 'bot_user_salt'", [rows[0].value]);
    }
  });
});

describe('OpenAPI', () => {
  it('documents the intake and every bot read route with its scope and shapes', async () => {
    const doc = (await (await fetch(`${api.url}/docs/openapi.json`)).json()) as any;
    const body = doc.paths['/v1/events'].post.requestBody.content['application/json'].schema;
    expect(body).toMatchObject({ type: 'array', maxItems: 100 });
    expect(Object.keys(body.items.properties).sort()).toEqual([
      'bot_id',
      'event',
      'event_time',
      'properties',
      'user_id',
    ]);
    expect(Object.keys(doc.paths['/v1/events'].post.responses).sort()).toEqual(
      ['200', '400', '401', '403', '413', '429', '503'].sort(),
    );
    for (const path of ['events', 'events/top', 'active-users', 'retention', 'users/{userId}/events']) {
      const op = doc.paths[`/v1/bots/{id}/${path}`]?.get;
      expect(op, path).toBeDefined();
      expect(op.responses['200'].content['application/json'].schema.properties.data.type, path).toBe('array');
    }
  });
});
