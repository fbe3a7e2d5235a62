/**
 * The REST API over real HTTP, on data the pipeline produced (simulated
 * channels through NATS, processors and sinks into chDB): every endpoint's
 * figures are checked against an independent recomputation from the raw
 * tables, and the access rules, caching, CSV, charts and share links are
 * exercised as a client sees them.
 */
import { request as httpRequest } from 'node:http';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import type { TopLevelSpec } from 'vega-lite';
import { compileChart } from '../read/charts/render.ts';
import type { Warehouse } from '../clickhouse/warehouse.ts';
import { toChTime } from '../clickhouse/values.ts';
import { createApiKey, listApiKeys, type ApiScope } from '../control/api-keys.ts';
import { openControlPlane, type ControlPlane } from '../control/postgres.ts';
import { upsertChannel } from '../control/tracked-channels.ts';
import { freshTestControl, type TestControl } from '../control/testing.ts';
import { startApiServer, type ApiServer } from '../api/server.ts';
import { silentLogger } from '../observability/log.ts';
import { HOSTILE_MENTION, produceReadSideData, type ReadSideData } from './support/read-side.ts';
import { DAY_MS, HOUR_MS } from '../common/index.ts';

const START = Date.UTC(2026, 2, 2);
const DAYS = 14;

let data: ReadSideData;
let wh: Warehouse;
let control: ControlPlane;
let testControl: TestControl;
let api: ApiServer;
let clock: number;
const keys: Record<string, string> = {};
/** A built web app on disk (a stand-in index.html and assets) and the API serving it. */
let webRoot: string;
let site: ApiServer;

async function key(
  name: string,
  scopes: ApiScope[],
  extra: { channels?: string[]; ratePerMinute?: number } = {},
): Promise<string> {
  const { token } = await createApiKey(control.pool, { name, scopes, ...extra });
  return token;
}

async function get(
  path: string,
  opts: { key?: string | null; headers?: Record<string, string> } = {},
): Promise<Response> {
  const k = opts.key === undefined ? keys.all : opts.key;
  return fetch(`${api.url}${path}`, { headers: { ...(k ? { authorization: `Bearer ${k}` } : {}), ...opts.headers } });
}

async function json<T = any>(path: string, k?: string): Promise<{ meta: any; data: T }> {
  const res = await get(path, { key: k });
  const body = await res.json();
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${JSON.stringify(body)}`);
  return body as { meta: any; data: T };
}

/** Query helper on the raw tables; numbers come back as numbers. */
async function raw(sql: string, params: Record<string, unknown> = {}): Promise<Array<Record<string, number | string>>> {
  const rows = await wh.query<Record<string, unknown>>(sql, params);
  return rows.map((r) =>
    Object.fromEntries(
      Object.entries(r).map(([k, v]) => [
        k,
        typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : (v as number | string),
      ]),
    ),
  );
}

const iso = (t: number) => new Date(t).toISOString();

/** A share link of the data's last week, for an hour, made by the complete key. */
function shareLastWeek(channel: string, sections: string[]): Promise<Response> {
  return fetch(`${api.url}/v1/channels/${channel}/share`, {
    method: 'POST',
    headers: { authorization: `Bearer ${keys.all}`, 'content-type': 'application/json' },
    body: JSON.stringify({ from: iso(data.end - 7 * DAY_MS), to: iso(data.end), sections, ttl_seconds: 3600 }),
  });
}

/** What a browser sends when it opens a page. */
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';
const INDEX_HTML =
  '<!doctype html><html><head><script type="module" src="/assets/index-B4c9.js"></script></head></html>';
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
  "connect-src 'self'; frame-ancestors 'self' https://web.telegram.org https://*.telegram.org; base-uri 'none'; form-action 'self'";

/** A GET exactly as written, `..` and all (fetch would normalise the path first). */
function rawGet(base: string, path: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}/`, { path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A chart's spec as the API answers it, after checking it is JSON that Vega-Lite compiles without a warning. */
async function chartSpec(path: string, k?: string | null): Promise<TopLevelSpec & { layer: any[] }> {
  const res = await get(path, { key: k });
  expect(res.status, path).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
  expect(res.headers.get('x-data-sources'), path).toContain('simulator');
  expect(res.headers.get('x-data-updated-at'), path).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  expect(res.headers.get('x-window-open'), path).toMatch(/^(true|false)$/);
  const spec = (await res.json()) as TopLevelSpec & { layer: any[] };
  expect(spec.$schema).toMatch(/^https:\/\/vega\.github\.io\/schema\/vega-lite\/v\d+\.json$/);
  expect(compileChart(spec).warnings, path).toEqual([]);
  expect(spec.description, path).toMatch(/\. \S/);
  return spec;
}

/** The values of the first layer drawing `field`. */
function valuesOf(spec: { layer: any[] }, field: string): unknown[] {
  const layer = spec.layer.find((l) => l.data.values.some((v: object) => field in v));
  if (!layer) throw new Error(`no layer draws ${field}`);
  return layer.data.values.map((v: Record<string, unknown>) => v[field]);
}

/**
 * Latest counters of every post published in [from, to), from the raw tables
 * alone: the newest observation wins, whether it came with the post or later.
 */
const RAW_POSTS_SQL = `
  SELECT p.post_id AS post_id, p.pdate AS date, o.views AS views, o.forwards AS forwards, o.reactions AS reactions, o.replies AS replies
  FROM (SELECT post_id, any(date) AS pdate FROM raw_posts FINAL WHERE channel_id = {c:String}
        AND date >= {from:DateTime64(3, 'UTC')} AND date < {to:DateTime64(3, 'UTC')} GROUP BY post_id) AS p
  INNER JOIN (
    SELECT post_id, argMax(views, t) AS views, argMax(forwards, t) AS forwards, argMax(reactions_total, t) AS reactions, argMax(replies, t) AS replies
    FROM (SELECT post_id, views, forwards, reactions_total, replies, event_time AS t FROM raw_post_counters FINAL WHERE channel_id = {c:String}
          UNION ALL SELECT post_id, views, forwards, reactions_total, replies, observed_at AS t FROM raw_posts FINAL WHERE channel_id = {c:String})
    GROUP BY post_id) AS o ON o.post_id = p.post_id
  WHERE p.post_id NOT IN (SELECT arrayJoin(post_ids) FROM raw_post_deleted FINAL WHERE channel_id = {c:String})`;

/** Views gained in [from, to) by all posts: per post, views at the last observation before `to` minus before `from`. */
async function rawViewsGained(c: string, from: number, to: number): Promise<number> {
  const [row] = await raw(
    `SELECT sum(v_to - v_from) AS v FROM (
       SELECT post_id, argMaxIf(views, t, t < {to:DateTime64(3, 'UTC')}) AS v_to, argMaxIf(views, t, t < {from:DateTime64(3, 'UTC')}) AS v_from
       FROM (SELECT post_id, views, event_time AS t FROM raw_post_counters FINAL WHERE channel_id = {c:String}
             UNION ALL SELECT post_id, views, observed_at AS t FROM raw_posts FINAL WHERE channel_id = {c:String})
       GROUP BY post_id)`,
    { c, from: toChTime(from), to: toChTime(to) },
  );
  return Number(row.v);
}

/**
 * Hourly windows are emitted once the watermark passes their end, so the
 * latest hour is not in the serving tables yet (answers flag it with
 * `window_open`). Recomputations stop where the windows stop.
 */
async function emittedUntil(c: string): Promise<number> {
  const [row] = await raw(
    `SELECT toUnixTimestamp64Milli(max(window_end)) AS t FROM channel_hourly WHERE channel_id = {c:String}`,
    { c },
  );
  return Number(row.t);
}

async function rawFirstMembers(c: string): Promise<number> {
  const [row] = await raw(
    `SELECT argMin(members, event_time) AS m FROM raw_channel_members FINAL WHERE channel_id = {c:String}`,
    { c },
  );
  return Number(row.m);
}

/** Subscribers at the last snapshot before `t`. */
async function rawMembersBefore(c: string, t: number): Promise<number> {
  const [row] = await raw(
    `SELECT argMax(members, event_time) AS m FROM raw_channel_members FINAL WHERE channel_id = {c:String} AND event_time < {t:DateTime64(3, 'UTC')}`,
    { c, t: toChTime(t) },
  );
  return Number(row.m);
}

/** The API on the test's control plane and clock, with an answer cache of `cacheSeconds` (0 = off). */
function startTestApi(warehouse: Warehouse, cacheSeconds: number, web?: string): Promise<ApiServer> {
  return startApiServer({
    warehouse,
    control,
    controlConfig: testControl.config,
    config: {
      host: '127.0.0.1',
      port: 0,
      ratePerMinute: 10_000,
      cacheSeconds,
      maxRangeDays: 400,
      corsOrigins: [],
      ...(web ? { webRoot: web } : {}),
    },
    log: silentLogger,
    registry: new Registry(),
    now: () => clock,
  });
}

beforeAll(async () => {
  data = await produceReadSideData({ channels: 5, days: DAYS, seed: 11, start: START });
  wh = data.pipe.warehouse;
  testControl = await freshTestControl('embedded');
  control = await openControlPlane(testControl.config);
  clock = data.end + HOUR_MS;
  api = await startTestApi(wh, 30);
  keys.all = await key('analyst', ['read', 'export', 'share']);
  keys.readOnly = await key('dashboard', ['read']);
  keys.oneChannel = await key('owner of one', ['read', 'export'], { channels: [data.channels[0]] });
  webRoot = await mkdtemp(join(tmpdir(), 'tgpulse-dist-web-'));
  await mkdir(join(webRoot, 'assets'));
  await writeFile(join(webRoot, 'index.html'), INDEX_HTML);
  await writeFile(join(webRoot, 'assets', 'index-B4c9.js'), 'document.title = "tgpulse";');
  await writeFile(join(webRoot, 'assets', 'index-77aa.css'), 'body { margin: 0 }');
  await writeFile(join(webRoot, 'secret.js'), 'outside assets/');
  site = await startTestApi(wh, 30, webRoot);
}, 600_000);

afterAll(async () => {
  await site?.close();
  if (webRoot) await rm(webRoot, { recursive: true, force: true });
  await api?.close();
  await control?.close();
  await testControl?.dispose();
  await data?.close();
});

describe('analytics figures equal a recomputation from the raw tables', () => {
  const weekPeriod = () => ({ from: data.end - 7 * DAY_MS, to: data.end });

  it('lists every channel with its latest subscribers and provenance, named as the registry knows it', async () => {
    // A collector registered the second channel; the simulator's channels have no names.
    const title = '<Новости> & "more" 📰';
    await upsertChannel(control.pool, {
      channelId: data.channels[1],
      username: 'pulse_news',
      title,
      accessHash: '77',
      canViewStats: false,
      statsDc: null,
      members: null,
    });
    const { meta, data: list } = await json<any[]>('/v1/channels?limit=50');
    expect(meta.total).toBe(5);
    expect(list.map((c) => c.channel_id)).toEqual(data.channels);
    for (const c of list) {
      expect(c.subscribers).toBe(await rawMembersBefore(c.channel_id, data.end + DAY_MS));
      expect(c.sources).toContain('simulator');
    }
    expect(list[0].sources).toContain('official_stats');
    expect(list.map((c) => [c.title, c.username])).toEqual(
      data.channels.map((id) => (id === data.channels[1] ? [title, 'pulse_news'] : [null, null])),
    );
    // One channel on its own answers its line of the list, with the freshness block.
    for (const c of list.slice(0, 2)) {
      const one = await json(`/v1/channels/${c.channel_id}`);
      expect(one.data).toEqual(c);
      expect(one.meta).toMatchObject({ channel_id: c.channel_id, sources: expect.arrayContaining(['simulator']) });
    }
    const unknown = await get('/v1/channels/1999999999');
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('unknown_channel');
  });

  it('overview: subscribers, posts, views, reach, ERR and engagement, and the previous period', async () => {
    for (const c of data.channels.slice(0, 3)) {
      const p = weekPeriod();
      const { meta, data: o } = await json(`/v1/channels/${c}/overview?from=${iso(p.from)}&to=${iso(p.to)}`);
      expect(meta).toMatchObject({
        channel_id: c,
        from: p.from,
        to: p.to,
        sources: expect.arrayContaining(['simulator']),
      });
      for (const [figures, period] of [
        [o.current, p],
        [o.previous, { from: p.from - 7 * DAY_MS, to: p.from }],
      ] as const) {
        const posts = await raw(RAW_POSTS_SQL, { c, from: toChTime(period.from), to: toChTime(period.to) });
        const sum = (k: string) => posts.reduce((s, r) => s + Number(r[k]), 0);
        const until = Math.min(period.to, await emittedUntil(c));
        const end = await rawMembersBefore(c, until);
        // Before the first snapshot ever, the period starts from its own first snapshot.
        const start = (await rawMembersBefore(c, period.from)) || (await rawFirstMembers(c));
        expect({
          c,
          from: period.from,
          posts: figures.posts,
          post_views: figures.post_views,
          views: figures.views,
          subscribers: figures.subscribers,
          change: figures.subscribers_change,
          net: figures.subscribers_gained - figures.subscribers_lost,
        }).toEqual({
          c,
          from: period.from,
          posts: posts.length,
          post_views: sum('views'),
          views: await rawViewsGained(c, period.from, until),
          subscribers: end,
          change: end - start,
          net: end - start,
        });
        expect(figures.reach_per_post).toBeCloseTo(sum('views') / posts.length, 9);
        expect(figures.engagement_rate).toBeCloseTo(
          (sum('forwards') + sum('reactions') + sum('replies')) / sum('views'),
          9,
        );
        expect(figures.err).toBeCloseTo(figures.reach_per_post / end, 9);
      }
    }
  });

  it('growth per day and per week: subscribers at the end of each bucket and views gained in it', async () => {
    const c = data.channels[2];
    const p = weekPeriod();
    const { meta, data: days } = await json<any[]>(
      `/v1/channels/${c}/growth?granularity=day&from=${iso(p.from)}&to=${iso(p.to)}`,
    );
    expect(meta.granularity).toBe('day');
    expect(meta.window_open).toBe(true);
    expect(days.map((d) => d.t)).toEqual(Array.from({ length: 7 }, (_, i) => p.from + i * DAY_MS));
    const until = await emittedUntil(c);
    const [fin] = await raw(
      `SELECT toUnixTimestamp64Milli(max(window_end)) AS t FROM channel_hourly WHERE channel_id = {c:String} AND final`,
      { c },
    );
    expect(days.map((d) => [d.t, d.final])).toEqual(days.map((d) => [d.t, d.t + DAY_MS <= Number(fin.t)]));
    expect(days.at(-1)!.final).toBe(false);
    for (const d of days) {
      const end = Math.min(d.t + DAY_MS, until);
      expect(d.subscribers).toBe(await rawMembersBefore(c, end));
      expect(d.subscribers_gained - d.subscribers_lost).toBe(
        (await rawMembersBefore(c, end)) - (await rawMembersBefore(c, d.t)),
      );
      expect(d.views).toBe(await rawViewsGained(c, d.t, end));
    }
    // 2026-03-09 is a Monday: one whole ISO week.
    const { data: weeks } = await json<any[]>(
      `/v1/channels/${c}/growth?granularity=week&from=2026-03-09&to=2026-03-16`,
    );
    expect(weeks).toHaveLength(1);
    const weekEnd = Math.min(Date.UTC(2026, 2, 16), until);
    expect(weeks[0]).toMatchObject({ t: Date.UTC(2026, 2, 9), final: false });
    expect(weeks[0].views).toBe(await rawViewsGained(c, Date.UTC(2026, 2, 9), weekEnd));
    expect(weeks[0].subscribers).toBe(await rawMembersBefore(c, weekEnd));
  });

  it('reach per day: posts published and the views they reached', async () => {
    const c = data.channels[3];
    const p = weekPeriod();
    const { data: points } = await json<any[]>(`/v1/channels/${c}/reach?granularity=day&from=${p.from}&to=${p.to}`);
    for (const point of points) {
      const posts = await raw(RAW_POSTS_SQL, { c, from: toChTime(point.t), to: toChTime(point.t + DAY_MS) });
      expect({ t: point.t, posts: point.posts, views: point.post_views }).toEqual({
        t: point.t,
        posts: posts.length,
        views: posts.reduce((s, r) => s + Number(r.views), 0),
      });
    }
    expect(points.reduce((s, x) => s + x.posts, 0)).toBe(
      (await raw(RAW_POSTS_SQL, { c, from: toChTime(p.from), to: toChTime(p.to) })).length,
    );
  });

  it('top posts by views and by engagement', async () => {
    const c = data.channels[0];
    const p = weekPeriod();
    const posts = await raw(RAW_POSTS_SQL, { c, from: toChTime(p.from), to: toChTime(p.to) });
    const byViews = [...posts]
      .sort((a, b) => Number(b.views) - Number(a.views) || Number(b.post_id) - Number(a.post_id))
      .slice(0, 5);
    const { data: top } = await json<any[]>(
      `/v1/channels/${c}/posts/top?metric=views&limit=5&from=${p.from}&to=${p.to}`,
    );
    expect(top.map((x) => [x.post_id, x.views])).toEqual(byViews.map((x) => [x.post_id, x.views]));
    const eng = (r: Record<string, number | string>) =>
      Number(r.views) > 0 ? (Number(r.forwards) + Number(r.reactions) + Number(r.replies)) / Number(r.views) : 0;
    const byEngagement = [...posts]
      .sort((a, b) => eng(b) - eng(a) || Number(b.post_id) - Number(a.post_id))
      .slice(0, 3);
    const { data: topE } = await json<any[]>(
      `/v1/channels/${c}/posts/top?metric=engagement&limit=3&from=${p.from}&to=${p.to}`,
    );
    expect(topE.map((x) => x.post_id)).toEqual(byEngagement.map((x) => x.post_id));
    expect(topE[0].engagement_rate).toBeCloseTo(eng(byEngagement[0]), 9);
  });

  it("a post's counters over its age end at its latest counters", async () => {
    const c = data.channels[0];
    const { data: top } = await json<any[]>(`/v1/channels/${c}/posts/top?limit=1&from=${data.start}&to=${data.end}`);
    const postId = top[0].post_id;
    const { data: detail } = await json(`/v1/channels/${c}/posts/${postId}`);
    expect(detail.post).toMatchObject({ post_id: postId, views: top[0].views });
    const [hours] = await raw(
      `SELECT uniqExact(toStartOfHour(event_time)) AS h FROM raw_post_counters FINAL WHERE channel_id = {c:String} AND post_id = {p:UInt32}`,
      { c, p: postId },
    );
    expect(detail.timeline.length).toBeGreaterThanOrEqual(Number(hours.h));
    expect(detail.timeline.at(-1).views).toBe(top[0].views);
    const views = detail.timeline.map((x: any) => x.views);
    expect(views).toEqual([...views].sort((a: number, b: number) => a - b));
    expect(detail.timeline.every((x: any) => x.age_hours >= 0)).toBe(true);
  });

  it('sources: forwards between tracked channels, mentions, linked sites and official statistics by source', async () => {
    const f = data.forwarded;
    const p = `from=${data.start}&to=${data.end}`;
    const { data: of1 } = await json(`/v1/channels/${f.channel_id}/sources?${p}`);
    expect(of1.forwarded_from).toContainEqual({ name: f.from_channel_id, posts: 1 });
    expect(of1.mentions).toContainEqual({ name: HOSTILE_MENTION.toLowerCase(), posts: 1 });
    expect(of1.link_domains).toContainEqual({ name: 'example.org', posts: 1 });
    const { data: of0 } = await json(`/v1/channels/${f.from_channel_id}/sources?${p}`);
    expect(of0.forwarded_by).toEqual([{ name: f.channel_id, posts: 1 }]);
    // A key limited to the forwarded channel does not learn which other channels forward it.
    expect(f.from_channel_id).toBe(data.channels[0]);
    const { data: limited } = await json(`/v1/channels/${f.from_channel_id}/sources?${p}`, keys.oneChannel);
    expect(limited.forwarded_by).toEqual([]);
    expect(limited.official).toEqual(of0.official);
    const totals = Object.fromEntries(of0.official.map((s: any) => [s.series, s.total]));
    expect(totals).toEqual(
      Object.fromEntries(Object.entries(data.officialBySource).map(([k, v]) => [k, v.reduce((a, b) => a + b, 0)])),
    );
  });

  it('trending: the latest point (expectation, z, score) of every channel metric', async () => {
    const c = data.channels[1];
    const { data: t } = await json(`/v1/channels/${c}/trending`);
    const expected = await raw(
      `SELECT metric, window, argMax(mean, window_start) AS mean, argMax(z, window_start) AS z,
              argMax(score, window_start) AS score, max(window_start) AS ws
       FROM trends FINAL WHERE channel_id = {c:String} AND post_id IS NULL GROUP BY metric, window ORDER BY metric, window`,
      { c },
    );
    expect(t.metrics.map((m: any) => [m.metric, m.window])).toEqual(expected.map((e) => [e.metric, e.window]));
    for (const [i, e] of expected.entries()) {
      expect(t.metrics[i].mean).toBeCloseTo(Number(e.mean), 9);
      expect(t.metrics[i].z).toBeCloseTo(Number(e.z), 9);
      expect(t.metrics[i].score).toBeCloseTo(Number(e.score), 9);
      expect(t.metrics[i].score).toBeGreaterThanOrEqual(0);
      expect(t.metrics[i].score).toBeLessThanOrEqual(1);
    }
  });

  it('anomalies in a period at or above a severity', async () => {
    const p = `from=${data.start}&to=${data.end}`;
    for (const c of data.channels) {
      const expected = await raw(
        `SELECT anomaly_id, argMax(severity, revision) AS severity FROM anomaly_events FINAL WHERE channel_id = {c:String} GROUP BY anomaly_id`,
        { c },
      );
      const { data: all } = await json<any[]>(`/v1/channels/${c}/anomalies?${p}`);
      expect(all.map((a) => a.anomaly_id).sort()).toEqual(expected.map((e) => e.anomaly_id).sort());
      const { data: critical } = await json<any[]>(`/v1/channels/${c}/anomalies?${p}&severity=critical`);
      expect(critical.map((a) => a.anomaly_id).sort()).toEqual(
        expected
          .filter((e) => e.severity === 'critical')
          .map((e) => e.anomaly_id)
          .sort(),
      );
    }
  });

  it('best time: every post old enough lands in the cell of its publishing hour', async () => {
    const c = data.channels[4];
    const p = weekPeriod();
    const { data: bt } = await json(`/v1/channels/${c}/best-time?from=${p.from}&to=${p.to}&tz=Asia/Tokyo`);
    // The clock is one hour after the data ends: posts of the last 48 h are too young to compare.
    const posts = await raw(RAW_POSTS_SQL, { c, from: toChTime(p.from), to: toChTime(clock - 48 * HOUR_MS) });
    expect(bt.posts).toBe(posts.length);
    const cells = new Map<string, { n: number; views: number }>();
    for (const r of posts) {
      const local = new Date(new Date(`${String(r.date).replace(' ', 'T')}Z`).getTime() + 9 * HOUR_MS); // Tokyo has no DST
      const k = `${local.getUTCDay() || 7}/${local.getUTCHours()}`;
      const cell = cells.get(k) ?? { n: 0, views: 0 };
      cell.n++;
      cell.views += Number(r.views);
      cells.set(k, cell);
    }
    expect(bt.cells).toHaveLength(cells.size);
    for (const cell of bt.cells) {
      const e = cells.get(`${cell.day_of_week}/${cell.hour}`);
      expect(e, `${cell.day_of_week}/${cell.hour}`).toBeDefined();
      expect(cell.posts).toBe(e!.n);
      expect(cell.avg_views).toBeCloseTo(e!.views / e!.n, 9);
      expect(cell.confidence).toBe(e!.n < 3 ? 'low' : e!.n < 10 ? 'medium' : 'high');
    }
  });
});

describe('exports, charts and caching', () => {
  it('answers any series as CSV, at .csv or by Accept, with ISO times', async () => {
    const c = data.channels[0];
    const q = `granularity=day&from=${data.end - 7 * DAY_MS}&to=${data.end}`;
    const { data: days } = await json<any[]>(`/v1/channels/${c}/growth?${q}`);
    const res = await get(`/v1/channels/${c}/growth.csv?${q}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(res.headers.get('content-disposition')).toMatch(/attachment; filename=".*\.csv"/);
    const lines = (await res.text()).trim().split('\n');
    expect(lines[0]).toBe('t,subscribers,subscribers_gained,subscribers_lost,views,forwards,reactions,replies,final');
    expect(lines).toHaveLength(days.length + 1);
    expect(lines[1].split(',').slice(0, 2)).toEqual([iso(days[0].t), String(days[0].subscribers)]);
    const negotiated = await get(`/v1/channels/${c}/growth?${q}`, { headers: { accept: 'text/csv' } });
    expect(await negotiated.text()).toBe(`${lines.join('\n')}\n`);
  });

  it('defuses hostile text in CSV cells', async () => {
    const f = data.forwarded;
    const res = await get(`/v1/channels/${f.channel_id}/posts/${f.post_id}.csv`);
    expect(res.status).toBe(200);
    const detail = await json(`/v1/channels/${f.channel_id}/posts/${f.post_id}`);
    expect(detail.data.post.mentions).toEqual([HOSTILE_MENTION]);
    expect(detail.data.post.hashtags).toEqual(['#=cmd']);
  });

  it('revalidates with ETags (304) and says how long to cache', async () => {
    const path = `/v1/channels/${data.channels[1]}/overview?from=${data.end - 7 * DAY_MS}&to=${data.end}`;
    const first = await get(path);
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(first.headers.get('cache-control')).toBe('private, max-age=30');
    const again = await get(path, { headers: { 'if-none-match': etag! } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    const changed = await get(path, { headers: { 'if-none-match': '"something-else"' } });
    expect(changed.status).toBe(200);
    expect(await changed.json()).toEqual(await first.json());
  });

  it('renders charts as SVG and PNG with their titles and freshness headers', async () => {
    const c = data.channels[0];
    for (const chart of ['growth', 'reach', 'views', 'anomalies']) {
      const svg = await get(`/v1/channels/${c}/charts/${chart}.svg?from=${data.start}&to=${data.end}`);
      expect(svg.status).toBe(200);
      expect(svg.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
      const text = await svg.text();
      expect(text).toMatch(/^<svg/);
      expect(text).toContain(c);
      expect(svg.headers.get('x-data-sources')).toContain('simulator');
      // A cached answer repeats its headers.
      const again = await get(`/v1/channels/${c}/charts/${chart}.svg?from=${data.start}&to=${data.end}`);
      expect([again.headers.get('x-data-sources'), again.headers.get('etag')]).toEqual([
        svg.headers.get('x-data-sources'),
        svg.headers.get('etag'),
      ]);
      const png = await get(
        `/v1/channels/${c}/charts/${chart}.png?from=${data.start}&to=${data.end}&width=640&height=320`,
      );
      expect(png.status).toBe(200);
      const bytes = Buffer.from(await png.arrayBuffer());
      expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
      expect([bytes.readUInt32BE(16), bytes.readUInt32BE(20)]).toEqual([640, 320]);
    }
  });

  it('serves the OpenAPI document, health, readiness and metrics', async () => {
    const docs = (await (await get('/docs', { key: null })).json()) as any;
    expect(docs.openapi).toMatch(/^3\./);
    expect(Object.keys(docs.paths)).toEqual(
      expect.arrayContaining([
        '/v1/channels',
        '/v1/channels/{id}/overview',
        '/v1/channels/{id}/growth',
        '/v1/share/{token}',
      ]),
    );
    expect(docs.paths['/v1/channels/{id}/growth'].get.parameters.map((p: any) => p.name)).toEqual(
      expect.arrayContaining(['granularity', 'from', 'to', 'id']),
    );
    expect((await get('/healthz', { key: null })).status).toBe(200);
    expect(await (await get('/readyz', { key: null })).json()).toEqual({ status: 'ready' });
    const metrics = await (await get('/metrics', { key: null })).text();
    expect(metrics).toMatch(
      /tgpulse_api_requests_total\{route="\/v1\/channels\/:id\/overview",method="GET",status="200"\} \d+/,
    );
  });
});

describe('chart specs for the web app, its pages, and share links in a browser', () => {
  it('answers every chart as the Vega-Lite spec its image is drawn from, with the series of the JSON answers', async () => {
    const c = data.channels[4];
    const q = `from=${data.end - 7 * DAY_MS}&to=${data.end}`;
    const { data: days } = await json<any[]>(`/v1/channels/${c}/growth?${q}`);
    const { data: reach } = await json<any[]>(`/v1/channels/${c}/reach?${q}`);
    const { data: hours } = await json<any[]>(`/v1/channels/${c}/growth?${q}&granularity=hour`);
    const { data: best } = await json(`/v1/channels/${c}/best-time?${q}&tz=Asia/Tokyo`);
    const { data: forecast } = await json(`/v1/channels/${c}/forecast`);
    const [{ post_id: postId }] = (await json<any[]>(`/v1/channels/${c}/posts/top?${q}&limit=1`)).data;
    const { data: post } = await json(`/v1/channels/${c}/posts/${postId}`);

    const growth = await chartSpec(`/v1/channels/${c}/charts/growth.json?${q}`);
    expect(valuesOf(growth, 'subscribers')).toEqual(days.map((p) => p.subscribers));
    const reachSpec = await chartSpec(`/v1/channels/${c}/charts/reach.json?${q}`);
    expect(valuesOf(reachSpec, 'posts')).toEqual(reach.map((p) => p.posts));
    expect(valuesOf(reachSpec, 'reachPerPost')).toEqual(reach.map((p) => p.reach_per_post));
    const views = await chartSpec(`/v1/channels/${c}/charts/views.json?${q}`);
    expect(valuesOf(views, 'value').slice(0, days.length)).toEqual(days.map((p) => p.views));
    const anomalies = await chartSpec(`/v1/channels/${c}/charts/anomalies.json?${q}&granularity=hour`);
    const observed = anomalies.layer.find((l) => l.encoding.color.datum === 'Observed');
    expect(observed.data.values.map((v: any) => v.value)).toEqual(hours.map((p) => p.views));
    const heatmap = await chartSpec(`/v1/channels/${c}/charts/best-time.json?${q}&tz=Asia/Tokyo`);
    const weekday = (d: number) => ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'][d - 1];
    expect(heatmap.layer[1].data.values).toEqual(
      best.cells.map((cell: any) => ({
        day: weekday(cell.day_of_week),
        hour: cell.hour,
        posts: cell.posts,
        avgViews: cell.avg_views,
        engagementRate: cell.engagement_rate,
      })),
    );
    expect(JSON.stringify(heatmap.title)).toContain('hours in Asia/Tokyo');
    const timeline = await chartSpec(`/v1/channels/${c}/charts/post.json?post_id=${postId}`);
    expect(valuesOf(timeline, 'views')).toEqual(post.timeline.map((p: any) => p.views));
    expect(valuesOf(timeline, 'age')).toEqual(post.timeline.map((p: any) => p.age_hours));
    const forecastSpec = await chartSpec(`/v1/channels/${c}/charts/forecast.json`);
    const band80 = forecastSpec.layer.find((l) => l.encoding.color.datum === '80 % interval');
    expect(band80.data.values.map((v: any) => [v.low, v.high])).toEqual(
      forecast.points.map((p: any) => [p.low_80, p.high_80]),
    );

    // The same charts as images, drawn from those specs.
    for (const path of [`best-time.svg?${q}&tz=Asia/Tokyo`, `post.svg?post_id=${postId}`, 'forecast.svg']) {
      const res = await get(`/v1/channels/${c}/charts/${path}`);
      expect([path, res.status, res.headers.get('content-type')]).toEqual([path, 200, 'image/svg+xml; charset=utf-8']);
    }
    const png = await get(`/v1/channels/${c}/charts/post.png?post_id=${postId}&width=640&height=320`);
    const bytes = Buffer.from(await png.arrayBuffer());
    expect([bytes.readUInt32BE(16), bytes.readUInt32BE(20)]).toEqual([640, 320]);

    // A cached spec repeats its freshness headers.
    const again = await get(`/v1/channels/${c}/charts/growth.json?${q}`);
    expect(again.headers.get('x-data-sources')).toContain('simulator');

    for (const [path, status, code, parameter] of [
      ['post.json', 400, 'invalid_parameter', 'post_id'],
      ['best-time.json?tz=Mars/Olympus', 400, 'invalid_parameter', 'tz'],
      ['post.svg?post_id=99999999', 404, 'unknown_post', undefined],
      ['heatmap.json', 400, 'invalid_parameter', 'params.file'],
    ] as const) {
      const res = await get(`/v1/channels/${c}/charts/${path}`);
      const body = (await res.json()) as any;
      expect([path, res.status, body.error.code, body.error.details?.parameter]).toEqual([
        path,
        status,
        code,
        parameter,
      ]);
    }
  });

  it('serves the built app at / and its assets, with the CSP, and nothing outside assets/', async () => {
    for (const path of ['/', '/index.html']) {
      const res = await fetch(`${site.url}${path}`, { headers: { accept: BROWSER_ACCEPT } });
      expect([path, res.status]).toEqual([path, 200]);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('content-security-policy')).toBe(CSP);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('cache-control')).toBe('no-cache');
      expect(await res.text()).toBe(INDEX_HTML);
    }
    const js = await fetch(`${site.url}/assets/index-B4c9.js`);
    expect([js.status, js.headers.get('content-type'), js.headers.get('cache-control')]).toEqual([
      200,
      'text/javascript; charset=utf-8',
      'public, max-age=31536000, immutable',
    ]);
    expect(js.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await js.text()).toBe('document.title = "tgpulse";');
    expect((await fetch(`${site.url}/assets/index-77aa.css`)).headers.get('content-type')).toBe(
      'text/css; charset=utf-8',
    );

    for (const path of [
      '/assets/nothing-1.js',
      '/assets/../secret.js',
      '/assets/..%2Fsecret.js',
      '/assets/%2e%2e/secret.js',
      '/assets/%2E%2E%2Fsecret.js',
      '/assets/..%5Csecret.js',
      '/assets/index-B4c9.js%00.css',
      '/assets/.index-B4c9.js',
      '/assets/index-B4c9.js/',
      '/assets/../../../../etc/passwd',
    ]) {
      const res = await rawGet(site.url, path);
      expect([path, res.status, res.type]).toEqual([path, 404, 'application/json; charset=utf-8']);
      expect(res.body).not.toContain('outside assets/');
    }

    // A rebuild is served without a restart.
    await writeFile(join(webRoot, 'index.html'), INDEX_HTML.replace('index-B4c9', 'index-C5d0'));
    await utimes(join(webRoot, 'index.html'), new Date(), new Date(Date.now() + 10_000));
    expect(await (await fetch(`${site.url}/`)).text()).toContain('index-C5d0');
    await writeFile(join(webRoot, 'index.html'), INDEX_HTML);
    await utimes(join(webRoot, 'index.html'), new Date(), new Date(Date.now() + 20_000));

    // Not part of the API's document.
    const docs = (await (await fetch(`${site.url}/docs`)).json()) as any;
    expect(Object.keys(docs.paths).filter((p) => !p.startsWith('/v1/'))).toEqual([]);
    expect(docs.paths['/v1/channels/{id}/charts/{file}'].get.responses['200'].content).toHaveProperty(
      'application/json',
    );
  });

  it('says how to build the app when it is not built', async () => {
    for (const path of ['/', '/index.html']) {
      const res = await fetch(`${api.url}${path}`, { headers: { accept: BROWSER_ACCEPT } });
      expect([path, res.status, res.headers.get('content-type')]).toEqual([path, 503, 'text/html; charset=utf-8']);
      expect(res.headers.get('content-security-policy')).toBe(CSP);
      const page = await res.text();
      expect(page).toContain('scripts/build-web.sh');
      expect(page).not.toMatch(/<script/i);
    }
    expect((await fetch(`${api.url}/assets/index-B4c9.js`)).status).toBe(404);
  });

  it('opens a share link as the report page in a browser and as JSON otherwise; charts of its sections only', async () => {
    const c = data.channels[3];
    const created = await shareLastWeek(c, ['overview', 'growth', 'best_time']);
    const link = (await created.json()) as any;
    const open = (path: string, accept?: string) => fetch(`${site.url}${path}`, { headers: accept ? { accept } : {} });

    const page = await open(link.url, BROWSER_ACCEPT);
    expect([page.status, page.headers.get('content-type'), page.headers.get('vary')]).toEqual([
      200,
      'text/html; charset=utf-8',
      'Accept',
    ]);
    expect(page.headers.get('content-security-policy')).toBe(CSP);
    expect(await page.text()).toBe(INDEX_HTML);
    for (const accept of ['application/json', undefined, '*/*']) {
      const res = await open(link.url, accept);
      expect([accept, res.status, res.headers.get('content-type'), res.headers.get('vary')]).toEqual([
        accept,
        200,
        'application/json; charset=utf-8',
        'Accept',
      ]);
      expect(Object.keys(((await res.json()) as any).data).sort()).toEqual([
        'best_time',
        'granularity',
        'growth',
        'overview',
      ]);
    }

    // Its charts, without a key: the report's own series, daily over a week.
    const report = ((await (await open(link.url)).json()) as any).data;
    const growth = await chartSpec(`${link.url}/charts/growth.json`, null);
    expect(valuesOf(growth, 'subscribers')).toEqual(report.growth.map((p: any) => p.subscribers));
    const heatmap = await chartSpec(`${link.url}/charts/best-time.json?tz=Europe/Berlin`, null);
    expect(JSON.stringify(heatmap.title)).toContain('hours in Europe/Berlin');
    const png = await get(`${link.url}/charts/growth.png`, { key: null });
    expect([png.status, png.headers.get('content-type')]).toEqual([200, 'image/png']);
    for (const name of ['reach', 'views', 'anomalies']) {
      const res = await get(`${link.url}/charts/${name}.svg`, { key: null });
      expect([name, res.status, ((await res.json()) as any).error.code]).toEqual([name, 404, 'chart_not_shared']);
    }
    expect((await get(`${link.url}/charts/post.json`, { key: null })).status).toBe(400);

    // A link that does not work: a page saying so, naming neither the token nor the channel.
    const tampered = `${link.url.slice(0, -1)}${link.url.endsWith('A') ? 'B' : 'A'}`;
    const bad = await open(tampered, BROWSER_ACCEPT);
    expect([bad.status, bad.headers.get('content-type'), bad.headers.get('vary')]).toEqual([
      401,
      'text/html; charset=utf-8',
      'Accept',
    ]);
    expect(bad.headers.get('content-security-policy')).toBe(CSP);
    expect(await bad.text()).toContain('<h1>This link is not valid</h1>');
    expect((await open(tampered)).status).toBe(401);
    expect((await get(`${tampered}/charts/growth.json`, { key: null })).status).toBe(401);

    clock += 2 * HOUR_MS;
    try {
      const expired = await open(link.url, BROWSER_ACCEPT);
      expect(expired.status).toBe(410);
      const text = await expired.text();
      expect(text).toContain('<h1>This link has expired or was revoked</h1>');
      for (const secret of [link.token, link.id, c]) expect(text).not.toContain(secret);
      expect(text).not.toMatch(/<script/i);
      expect((await open(link.url, 'application/json')).status).toBe(404);
      expect((await get(`${link.url}/charts/growth.json`, { key: null })).status).toBe(404);
    } finally {
      clock -= 2 * HOUR_MS;
    }
    await fetch(`${api.url}/v1/share/${link.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${keys.all}` },
    });
    const revoked = await open(link.url, BROWSER_ACCEPT);
    expect([revoked.status, revoked.headers.get('cache-control')]).toEqual([410, 'no-store']);
    expect(await revoked.text()).not.toContain(link.token);
    const chart = await get(`${link.url}/charts/growth.svg`, { key: null });
    expect([chart.status, ((await chart.json()) as any).error.code]).toEqual([404, 'share_link_gone']);
  });
});

describe('read path', () => {
  it('every answer costs at most 2 warehouse queries, freshness included', async () => {
    // The same data behind a second API without an answer cache, whose warehouse counts queries.
    let queries = 0;
    const counting: Warehouse = {
      ...wh,
      driver: wh.driver,
      query: (sql, params) => {
        queries++;
        return wh.query(sql, params);
      },
      close: async () => {},
    };
    const uncached = await startTestApi(counting, 0);
    try {
      const c = data.forwarded.from_channel_id;
      const from = new Date(data.end - 10 * DAY_MS).toISOString();
      const paths = [
        '/v1/channels?limit=3',
        `/v1/channels/${c}/overview`,
        `/v1/channels/${c}/growth?granularity=hour&from=${from}`,
        `/v1/channels/${c}/reach?granularity=week&from=${from}`,
        `/v1/channels/${c}/posts/top?metric=engagement`,
        `/v1/channels/${data.forwarded.channel_id}/posts/${data.forwarded.post_id}`,
        `/v1/channels/${c}/sources?from=${from}`,
        `/v1/channels/${c}/trending`,
        `/v1/channels/${c}/anomalies?from=${from}`,
        `/v1/channels/${c}/best-time?from=${from}&tz=Europe/Berlin`,
        `/v1/channels/${c}/growth.csv`,
        `/v1/channels/${c}/charts/anomalies.svg`,
      ];
      const costs: Record<string, number> = {};
      for (const path of paths) {
        queries = 0;
        const res = await fetch(`${uncached.url}${path}`, { headers: { authorization: `Bearer ${keys.all}` } });
        expect(res.status, path).toBe(200);
        await res.arrayBuffer();
        costs[path] = queries;
      }
      for (const [path, n] of Object.entries(costs)) expect(n, path).toBeLessThanOrEqual(2);
      // The first channel answer read every channel's freshness at once; later ones reuse it.
      expect(
        Object.values(costs)
          .slice(2)
          .filter((n) => n === 1).length,
      ).toBeGreaterThan(5);
    } finally {
      await uncached.close();
    }
  });
});

describe('access', () => {
  const overview = (c: string) => `/v1/channels/${c}/overview`;

  it('refuses a missing or unknown key with 401', async () => {
    const none = await get(overview(data.channels[0]), { key: null });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect(((await none.json()) as any).error.code).toBe('unauthorized');
    const bogus = await get(overview(data.channels[0]), { key: 'tgp_nope_nope' });
    expect(bogus.status).toBe(401);
  });

  it('refuses a missing scope or another channel with 403', async () => {
    const csv = await get(`/v1/channels/${data.channels[0]}/growth.csv`, { key: keys.readOnly });
    expect(csv.status).toBe(403);
    expect(((await csv.json()) as any).error.message).toMatch(/export/);
    const share = await fetch(`${api.url}/v1/channels/${data.channels[0]}/share`, {
      method: 'POST',
      headers: { authorization: `Bearer ${keys.readOnly}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(share.status).toBe(403);
    expect((await get(overview(data.channels[0]), { key: keys.oneChannel })).status).toBe(200);
    expect((await get(overview(data.channels[1]), { key: keys.oneChannel })).status).toBe(403);
    const { meta, data: list } = await json<any[]>('/v1/channels', keys.oneChannel);
    expect([meta.total, list.map((c) => c.channel_id)]).toEqual([1, [data.channels[0]]]);
    // Use is recorded on the key (shown by `tgpulse apikey list`).
    const used = (await listApiKeys(control.pool)).find((k) => k.name === 'owner of one');
    expect(used?.lastUsedAt).toBeGreaterThan(0);
  });

  it('limits each key to its rate with 429 and Retry-After', async () => {
    const slow = await key('slow', ['read'], { ratePerMinute: 3 });
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 4; i++) {
      const res = await get('/healthz'.replace('/healthz', `/v1/channels?limit=${i + 1}`), { key: slow });
      statuses.push(res.status);
      if (res.status === 429) retryAfter = res.headers.get('retry-after');
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect((await get('/v1/channels', { key: keys.readOnly })).status).toBe(200);
  });

  it('share links: a report without a key until revoked or expired; tampering is refused', async () => {
    const c = data.channels[2];
    const created = await shareLastWeek(c, ['overview', 'growth']);
    expect(created.status).toBe(201);
    const link = (await created.json()) as any;
    expect(link.url).toBe(`/v1/share/${link.token}`);
    const report = (await (await get(link.url, { key: null })).json()) as any;
    expect(Object.keys(report.data).sort()).toEqual(['granularity', 'growth', 'overview']);
    const direct = await json(`/v1/channels/${c}/overview?from=${data.end - 7 * DAY_MS}&to=${data.end}`);
    expect(report.data.overview).toEqual(direct.data);

    const sig = link.token.slice(-1) === 'A' ? 'B' : 'A';
    expect((await get(`/v1/share/${link.token.slice(0, -1)}${sig}`, { key: null })).status).toBe(401);
    expect((await get('/v1/share/not-a-token', { key: null })).status).toBe(401);

    clock += 2 * HOUR_MS;
    try {
      const expired = await get(link.url, { key: null });
      expect([expired.status, ((await expired.json()) as any).error.code]).toEqual([404, 'share_link_gone']);
    } finally {
      clock -= 2 * HOUR_MS;
    }
    const revoke = await fetch(`${api.url}/v1/share/${link.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${keys.all}` },
    });
    expect(revoke.status).toBe(204);
    expect((await get(link.url, { key: null })).status).toBe(404);
  });
});

describe('bad input gets a clear 4xx JSON error, never a 5xx', () => {
  it('sweeps hostile and malformed requests', async () => {
    const c = data.channels[0];
    const cases: Array<[string, number, string?]> = [
      ['/v1/channels/1999999999/overview', 404, 'unknown_channel'],
      ['/v1/channels/abc/overview', 400, 'invalid_parameter'],
      [`/v1/channels/${encodeURIComponent("1' OR 1=1 --")}/overview`, 400, 'invalid_parameter'],
      [`/v1/channels/${c}/overview?from=yesterday`, 400, 'invalid_parameter'],
      [`/v1/channels/${c}/overview?from=2026-02-30`, 400, 'invalid_parameter'],
      [`/v1/channels/${c}/overview?from=2026-03-10&to=2026-03-01`, 400, 'invalid_parameter'],
      [`/v1/channels/${c}/overview?from=2026-03-10&to=2026-03-10`, 400, 'invalid_parameter'],
      [`/v1/channels/${c}/overview?from=2013-01-02&to=2026-03-01`, 400, 'invalid_parameter'],
      [`/v1/channels/${c}/overview?from=1800-01-01`, 400, 'invalid_parameter'],
      [`/v1/channels/${c}/growth?granularity=hour&from=2025-06-01&to=2026-03-01`, 400, 'invalid_parameter'],
      [`/v1/channels/${c}/growth?granularity=minute`, 400, 'invalid_parameter'],
      [
        `/v1/channels/${c}/posts/top?metric=${encodeURIComponent('views; DROP TABLE raw_posts')}`,
        400,
        'invalid_parameter',
      ],
      [`/v1/channels/${c}/posts/top?limit=100000`, 400, 'invalid_parameter'],
      [`/v1/channels/${c}/posts/top?limit=-1`, 400, 'invalid_parameter'],
      [`/v1/channels/${c}/posts/0`, 400, 'invalid_parameter'],
      [`/v1/channels/${c}/posts/99999999`, 404, 'unknown_post'],
      [`/v1/channels/${c}/posts/abc`, 400, 'invalid_parameter'],
      [`/v1/channels/${c}/anomalies?severity=${encodeURIComponent('<script>')}`, 400, 'invalid_parameter'],
      [`/v1/channels/${c}/best-time?tz=${encodeURIComponent('Mars/Olympus')}`, 400, 'invalid_parameter'],
      [`/v1/channels/${c}/best-time?tz=${encodeURIComponent("UTC') --")}`, 400, 'invalid_parameter'],
      [`/v1/channels/${c}/overview?unknown=1`, 400, 'invalid_parameter'],
      [`/v1/channels/${c}/overview?from=${'9'.repeat(40)}`, 400, 'invalid_parameter'],
      [`/v1/channels/${c}/overview?from=${'x'.repeat(3000)}`, 414, 'uri_too_long'],
      [`/v1/channels/${c}/charts/growth.gif`, 400, 'invalid_parameter'],
      [`/v1/channels/${c}/charts/anomalies.svg?metric=nope`, 400, 'invalid_parameter'],
      [`/v1/channels/${c}/charts/growth.png?width=99999`, 400, 'invalid_parameter'],
      [`/v1/channels/${c}/nothing-here`, 404, 'not_found'],
      [`/v1/${'%00'.repeat(10)}`, 404, 'not_found'],
      [`/v1/channels?limit=abc`, 400, 'invalid_parameter'],
      [`/v1/channels?offset=-5`, 400, 'invalid_parameter'],
    ];
    const got: Array<[string, number, string]> = [];
    const bodies: any[] = [];
    for (const [path] of cases) {
      const res = await get(path);
      const body = (await res.json()) as any;
      got.push([path.slice(0, 80), res.status, body.error?.code]);
      bodies.push(body);
    }
    expect(got).toEqual(cases.map(([path, status, code]) => [path.slice(0, 80), status, code]));
    for (const [i, b] of bodies.entries()) {
      expect(b.error.status).toBe(got[i][1]);
      expect(b.error.message.length).toBeGreaterThan(10);
    }
  });

  it('refuses malformed share requests', async () => {
    const post = (body: string, type = 'application/json') =>
      fetch(`${api.url}/v1/channels/${data.channels[0]}/share`, {
        method: 'POST',
        headers: { authorization: `Bearer ${keys.all}`, 'content-type': type },
        body,
      });
    for (const [body, status] of [
      ['{not json', 400],
      [JSON.stringify({ sections: ['everything'] }), 400],
      [JSON.stringify({ ttl_seconds: 10 }), 400],
      [JSON.stringify({ sections: [] }), 400],
      [JSON.stringify({ from: '2026-03-10', to: '2026-03-01' }), 400],
      ['x'.repeat(20_000), 413],
    ] as const) {
      const res = await post(body);
      expect([body.slice(0, 30), res.status]).toEqual([body.slice(0, 30), status]);
      expect(((await res.json()) as any).error.code).toBeTruthy();
    }
    expect((await post('a=b', 'application/x-www-form-urlencoded')).status).toBe(415);
  });
});
