/**
 * The citation index and the rankings over real HTTP, on data the pipeline
 * produced (simulated channels and hand-made citing posts through NATS, the
 * sinks and the citation view into chDB): every citation figure equals a
 * recomputation from the raw posts, a duplicate raw row changes nothing,
 * rankings order as the per-channel figures say, an allow-listed key sees
 * only its channels, bad parameters get 400s, and forgetting a channel
 * erases its citations in both directions.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { startApiServer, type ApiServer } from '../api/server.ts';
import { eraseChannelFromWarehouse } from '../clickhouse/erase.ts';
import { toChTime } from '../clickhouse/values.ts';
import type { Warehouse } from '../clickhouse/warehouse.ts';
import { DAY_MS, HOUR_MS } from '../common/index.ts';
import { createApiKey } from '../control/api-keys.ts';
import { openControlPlane, type ControlPlane } from '../control/postgres.ts';
import { freshTestControl, type TestControl } from '../control/testing.ts';
import { upsertChannel } from '../control/tracked-channels.ts';
import { silentLogger } from '../observability/log.ts';
import { eventId } from '../streams/contract/ids.ts';
import { SCHEMA_VERSION, type PostEvent } from '../streams/contract/events.ts';
import { LOOPBACK_API_CONFIG } from './support/api-target.ts';
import { produceReadSideData, type ReadSideData } from './support/read-side.ts';

const START = Date.UTC(2026, 4, 4);
const DAYS = 6;

let data: ReadSideData;
let wh: Warehouse;
let testControl: TestControl;
let control: ControlPlane;
let api: ApiServer;
let clock: number;
let ch: string[];
const keys: Record<string, string> = {};
const USERNAMES = ['Alpha_News', 'beta_daily'];

/** A hand-made post of `channel` published `hoursBeforeEnd` before the simulation's end. */
function post(
  channel: string,
  postId: number,
  hoursBeforeEnd: number,
  cites: { forward?: string; mentions?: string[]; links?: string[] },
): PostEvent {
  const date = data.end - hoursBeforeEnd * HOUR_MS;
  return {
    v: SCHEMA_VERSION,
    kind: 'post',
    id: eventId('post', channel, postId),
    channel_id: channel,
    event_time: date,
    observed_at: date + 60_000,
    source: 'simulator',
    data: {
      post_id: postId,
      date,
      edit_date: null,
      text_length: 10,
      media_type: 'none',
      grouped_id: null,
      forward_from: cites.forward ? { channel_id: cites.forward, post_id: 3 } : null,
      mentions: cites.mentions ?? [],
      links: cites.links ?? [],
      hashtags: [],
      counters: { views: 5, forwards: 0, replies: 0, reactions_total: 0, reactions: {} },
    },
  };
}

async function get(path: string, key = keys.all): Promise<{ status: number; body: any }> {
  const res = await fetch(`${api.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
  return { status: res.status, body: await res.json() };
}

async function ok(path: string, key = keys.all): Promise<any> {
  const { status, body } = await get(path, key);
  if (status !== 200) throw new Error(`${path}: ${status} ${JSON.stringify(body)}`);
  return body;
}

interface Recomputed {
  citing_posts: number;
  forwards: number;
  mentions: number;
  citing_channels: number;
  index: number;
  /** Citing channel → its posts citing this one. */
  by: Map<string, { posts: number; forwards: number; mentions: number }>;
}

/**
 * The citations of posts published in [from, to), from raw_posts alone: each
 * post's forward source, @mentions and t.me links resolved with the usernames,
 * self-citations left out, each (post, cited channel) once; reach from the
 * raw subscriber snapshots.
 */
async function recompute(from: number, to: number): Promise<Map<string, Recomputed>> {
  const handles = new Map(USERNAMES.map((u, i) => [`@${u.toLowerCase()}`, ch[i]]));
  const resolve = (name: string) => handles.get(name) ?? name;
  const posts = await wh.query<{ c: string; f: string | null; m: string[]; l: string[] }>(
    `SELECT channel_id AS c, forward_from_channel_id AS f, mentions AS m, links AS l FROM raw_posts FINAL
     WHERE date >= {from:DateTime64(3, 'UTC')} AND date < {to:DateTime64(3, 'UTC')}`,
    { from: toChTime(from), to: toChTime(to) },
  );
  const members = await wh.query<{ c: string; n: string }>(
    'SELECT channel_id AS c, argMax(members, event_time) AS n FROM raw_channel_members FINAL GROUP BY c',
  );
  const reach = new Map(members.map((r) => [r.c, Number(r.n)]));
  const out = new Map<string, Recomputed>();
  for (const p of posts) {
    const named = new Set<string>();
    for (const m of p.m) if (/^@[A-Za-z][A-Za-z0-9_]{3,31}$/.test(m)) named.add(resolve(m.toLowerCase()));
    for (const l of p.l) {
      const byId = /^(?:https?:\/\/)?(?:www\.)?(?:t\.me|telegram\.me)\/c\/(\d{1,20})(?:[/?#]|$)/i.exec(l);
      const byName =
        /^(?:https?:\/\/)?(?:www\.)?(?:t\.me|telegram\.me)\/(?:s\/)?([a-z][a-z0-9_]{3,31})(?:[/?#]|$)/i.exec(l);
      if (byId) named.add(byId[1]);
      else if (byName) named.add(resolve(`@${byName[1].toLowerCase()}`));
    }
    const forwarded = p.f === null ? null : resolve(p.f);
    for (const cited of new Set([...named, ...(forwarded === null ? [] : [forwarded])])) {
      if (cited === p.c) continue;
      const r = out.get(cited) ?? {
        citing_posts: 0,
        forwards: 0,
        mentions: 0,
        citing_channels: 0,
        index: 0,
        by: new Map(),
      };
      const from = r.by.get(p.c) ?? { posts: 0, forwards: 0, mentions: 0 };
      const f = cited === forwarded ? 1 : 0;
      const m = named.has(cited) ? 1 : 0;
      r.citing_posts++;
      r.forwards += f;
      r.mentions += m;
      from.posts++;
      from.forwards += f;
      from.mentions += m;
      r.by.set(p.c, from);
      out.set(cited, r);
    }
  }
  for (const r of out.values()) {
    r.citing_channels = r.by.size;
    r.index = [...r.by].reduce((s, [c, x]) => s + Math.log10(10 + (reach.get(c) ?? 0)) * (1 + Math.log(x.posts)), 0);
  }
  return out;
}

const figuresOf = (r: Recomputed) => ({
  citing_posts: r.citing_posts,
  forwards: r.forwards,
  mentions: r.mentions,
  citing_channels: r.citing_channels,
});

beforeAll(async () => {
  data = await produceReadSideData({ channels: 4, days: DAYS, seed: 23, start: START });
  wh = data.pipe.warehouse;
  ch = data.channels;
  // Citations every way a post can cite: forward, @mention, t.me/<name> and t.me/c/<id> links,
  // one post citing a channel twice, a self-citation, and one post before the ranked week.
  await data.pipe.publisher.publish([
    post(ch[2], 990_001, 30, { forward: ch[0], mentions: ['@ALPHA_NEWS'] }),
    post(ch[2], 990_002, 20, { links: ['https://t.me/alpha_news/12'] }),
    post(ch[3], 990_003, 10, { links: [`https://t.me/c/${ch[0]}/5`], mentions: ['@Beta_Daily'] }),
    post(ch[0], 990_004, 40, { forward: ch[1], mentions: ['@beta_daily', '@alpha_news'] }),
    post(ch[3], 990_005, 50, { forward: ch[1] }),
    post(ch[3], 990_006, 9 * 24, { forward: ch[2] }),
  ]);
  await data.pipe.publisher.flush();
  await data.pipe.waitIdle(120_000);
  // A copy of a post delivered again (after the sink's deduplication window): its citations must not double.
  await wh.exec(
    `INSERT INTO raw_posts SELECT * FROM raw_posts WHERE channel_id = '${ch[2]}' AND post_id = 990001 LIMIT 1`,
  );

  testControl = await freshTestControl('embedded');
  control = await openControlPlane(testControl.config);
  for (const [i, username] of USERNAMES.entries()) {
    await upsertChannel(control.pool, {
      channelId: ch[i],
      username,
      title: username,
      accessHash: '1',
      canViewStats: false,
      statsDc: null,
      members: null,
    });
  }
  clock = data.end + HOUR_MS;
  api = await startApiServer({
    warehouse: wh,
    control,
    controlConfig: testControl.config,
    config: LOOPBACK_API_CONFIG,
    log: silentLogger,
    registry: new Registry(),
    now: () => clock,
  });
  keys.all = (await createApiKey(control.pool, { name: 'analyst', scopes: ['read'] })).token;
  keys.two = (await createApiKey(control.pool, { name: 'two', scopes: ['read'], channels: [ch[0], ch[2]] })).token;
}, 600_000);

afterAll(async () => {
  await api?.close();
  await control?.close();
  await testControl?.dispose();
  await data?.close();
});

describe('citation index', () => {
  it('ranks by citations with figures equal to a recomputation from the raw posts', async () => {
    const week = await recompute(clock - 7 * DAY_MS, clock);
    const { meta, data: ranked } = await ok('/v1/rankings?by=citations&period=7d');
    expect(meta).toMatchObject({ by: 'citations', from: clock - 7 * DAY_MS, to: clock });
    const expected = [...week]
      .filter(([c]) => ch.includes(c))
      .sort(([a, x], [b, y]) => y.index - x.index || (a < b ? -1 : 1));
    expect(ranked.map((r: any) => r.channel_id)).toEqual(expected.map(([c]) => c));
    expect(ranked.map((r: any) => r.rank)).toEqual(expected.map((_, i) => i + 1));
    for (const [i, [, r]] of expected.entries()) {
      expect(ranked[i].citations).toMatchObject(figuresOf(r));
      expect(ranked[i].value).toBeCloseTo(r.index, 9);
    }
    // The hand-made citations are in: channel 0 is cited by 1 (the fixture's forward), 2 and 3.
    expect(ranked.find((r: any) => r.channel_id === ch[0]).citations).toMatchObject({
      citing_channels: 3,
      citing_posts: 4,
    });
  });

  it("lists a channel's citations both ways, each citing post once", async () => {
    const week = await recompute(clock - 7 * DAY_MS, clock);
    const { meta, data: c0 } = await ok(`/v1/channels/${ch[0]}/citations?from=${clock - 7 * DAY_MS}`);
    expect(meta).toMatchObject({ channel_id: ch[0], from: clock - 7 * DAY_MS, to: clock });
    const inbound = week.get(ch[0])!;
    expect(c0.inbound).toMatchObject(figuresOf(inbound));
    expect(c0.inbound.index).toBeCloseTo(inbound.index, 9);
    expect(c0.cited_by).toEqual(
      [...inbound.by]
        .map(([channel, x]) => ({ channel, ...x }))
        .sort((a, b) => b.posts - a.posts || (a.channel < b.channel ? -1 : 1)),
    );
    // Channel 2's post forwarding channel 0 and naming it counts once, as a forward and a mention.
    expect(c0.cited_by.find((x: any) => x.channel === ch[2])).toEqual({
      channel: ch[2],
      posts: 2,
      forwards: 1,
      mentions: 2,
    });
    // Whom channel 0 cites: channel 1 (forward and @mention in one post), not itself.
    expect(c0.cites.find((x: any) => x.channel === ch[1])).toMatchObject({ posts: 1, forwards: 1, mentions: 1 });
    expect(c0.cites.map((x: any) => x.channel)).not.toContain(ch[0]);
    // The post before the week counts in a longer period only.
    const { data: c2 } = await ok(`/v1/channels/${ch[2]}/citations?from=${clock - 7 * DAY_MS}`);
    const { data: c2long } = await ok(`/v1/channels/${ch[2]}/citations?from=${clock - 14 * DAY_MS}`);
    expect(c2long.inbound.forwards).toBe(c2.inbound.forwards + 1);
  });

  it('keeps the same edges through the view as a backfill from the raw posts makes', async () => {
    const edges = (table: string) =>
      wh.query(
        `SELECT cited_channel_id, citing_channel_id, citing_post_id, forwarded, mentioned FROM ${table} FINAL
         ORDER BY cited_channel_id, citing_channel_id, citing_post_id`,
      );
    // The migration's backfill statement, into a scratch copy of the table.
    await wh.exec('CREATE TABLE citations_backfill AS citations');
    try {
      const migration = await readFile(new URL('../clickhouse/migrations/007_citations.sql', import.meta.url), 'utf8');
      const backfill = migration.slice(migration.indexOf('INSERT INTO citations')).replace(/;\s*$/, '');
      await wh.exec(backfill.replace('INSERT INTO citations', 'INSERT INTO citations_backfill'));
      expect(await edges('citations_backfill')).toEqual(await edges('citations'));
    } finally {
      await wh.exec('DROP TABLE citations_backfill');
    }
  });
});

describe('rankings by growth and ERR', () => {
  it('order channels by the figures their overview shows for the same period', async () => {
    const from = clock - 7 * DAY_MS;
    const overviews = new Map<string, any>();
    for (const c of ch)
      overviews.set(c, (await ok(`/v1/channels/${c}/overview?from=${from}&to=${clock}`)).data.current);
    const growth = (await ok('/v1/rankings?by=growth&period=7d')).data;
    expect(growth.map((r: any) => [r.channel_id, r.value])).toEqual(
      ch
        .map((c) => [c, overviews.get(c).subscribers_change] as const)
        .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1)),
    );
    for (const r of growth) expect(r.growth.subscribers).toBe(overviews.get(r.channel_id).subscribers);
    const err = (await ok('/v1/rankings?by=err&period=7d&limit=3')).data;
    const byErr = ch.map((c) => [c, overviews.get(c).err] as const).sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1));
    expect(err.map((r: any) => r.channel_id)).toEqual(byErr.slice(0, 3).map(([c]) => c));
    for (const [i, r] of err.entries()) {
      expect(r.value).toBeCloseTo(byErr[i][1], 9);
      expect(r.err.reach_per_post).toBeCloseTo(overviews.get(r.channel_id).reach_per_post, 9);
    }
  });
});

describe('access and parameters', () => {
  it('ranks only the channels of a key limited to some, and hides the others among who cites whom', async () => {
    for (const by of ['citations', 'growth', 'err']) {
      const { data: ranked, meta } = await ok(`/v1/rankings?by=${by}&period=30d`, keys.two);
      expect(ranked.length, by).toBeGreaterThan(0);
      expect(meta.total).toBe(ranked.length);
      for (const r of ranked) expect([ch[0], ch[2]], by).toContain(r.channel_id);
    }
    const { data: c0 } = await ok(`/v1/channels/${ch[0]}/citations?from=${clock - 7 * DAY_MS}`, keys.two);
    expect(c0.cited_by.map((x: any) => x.channel)).toEqual([ch[2]]);
    expect(c0.inbound.citing_channels).toBe(3);
    expect(c0.cites).toEqual([]);
    expect((await get(`/v1/channels/${ch[1]}/citations`, keys.two)).status).toBe(403);
  });

  it('refuses a bad ranking or period with a 400 naming the parameter', async () => {
    const cases: Array<[string, RegExp]> = [
      ['by=views&period=7d', /by.*one of citations, growth, err/],
      ['period=7d', /by/],
      ['by=growth&period=7', /period: expected a number of days/],
      ['by=growth&period=0d', /period: expected a number of days/],
      ['by=growth&period=500d', /period: may span at most 400 days/],
    ];
    for (const [query, message] of cases) {
      const { status, body } = await get(`/v1/rankings?${query}`);
      expect(status, query).toBe(400);
      expect(body.error.code, query).toBe('invalid_parameter');
      expect(body.error.message, query).toMatch(message);
    }
    expect((await get('/v1/channels/42/citations')).status).toBe(404);
  });

  it('documents both endpoints in the OpenAPI document', async () => {
    const docs = (await (await fetch(`${api.url}/docs`)).json()) as any;
    expect(docs.paths['/v1/rankings'].get.parameters.map((p: any) => p.name)).toEqual(
      expect.arrayContaining(['by', 'period', 'limit']),
    );
    expect(docs.paths['/v1/channels/{id}/citations'].get.parameters.map((p: any) => p.name)).toEqual(
      expect.arrayContaining(['id', 'from', 'to']),
    );
  });
});

describe('forgetting a channel', () => {
  it('erases its citations in both directions', async () => {
    const mentioning = `cited_channel_id = '${ch[1]}' OR citing_channel_id = '${ch[1]}'`;
    const [before] = await wh.query<{ n: string }>(`SELECT count() AS n FROM citations WHERE ${mentioning}`);
    expect(Number(before.n)).toBeGreaterThan(1);
    await eraseChannelFromWarehouse(wh, ch[1], { graceMs: 0 });
    const [after] = await wh.query<{ n: string }>(`SELECT count() AS n FROM citations WHERE ${mentioning}`);
    expect(Number(after.n)).toBe(0);
  });
});
