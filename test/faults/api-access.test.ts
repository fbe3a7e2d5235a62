/**
 * Access rules on every endpoint the OpenAPI document lists (so a new route
 * cannot escape): without a key, with a malformed, unknown or revoked one,
 * with a key lacking the scope the route needs, and with a key whose channel
 * allow-list leaves out the channel asked for. Each is refused with 401, 403,
 * or 404 where the API hides that something exists, and no refusal carries
 * channel data. Before the refusals, a complete key reads the same request
 * (2xx), so the refusals are about access and not a broken request, and its
 * answer sits in the answer cache, which must not hand it to anyone else.
 * Mini App session tokens (`tgw_…`) stand in for keys, so they are walked
 * too: a forged or altered one is 401, and a real one of a user without
 * grants is refused everything but empty lists.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiScope } from '../../control/api-keys.ts';
import { recordSummary } from '../support/fault-summary.ts';
import {
  type ApiTarget,
  isErrorShape,
  openApiDocument,
  type OpenApiOperation,
  operationsOf,
  startApiTarget,
} from '../support/api-target.ts';

const SCOPES: ApiScope[] = ['read', 'export', 'share', 'track'];
/** Where the secret starts in a key's token, `tgp_<12 hex id>_<secret>`. */
const SECRET_AT = 'tgp_'.length + 12 + 1;

let target: ApiTarget;
let operations: Array<{ method: string; path: string; op: OpenApiOperation }>;
/** A post that exists, by channel. */
const postOf: Record<string, number> = {};
let refusalsChecked = 0;
/** A Mini App session token (scopes read and export) of a Telegram user without grants. */
let miniAppSession: string;

interface Answer {
  status: number;
  headers: Headers;
  body: any;
}

async function call(method: string, path: string, key: string | null, body?: string): Promise<Answer> {
  const res = await fetch(`${target.api.url}${path}`, {
    method,
    headers: {
      ...(key === null ? {} : { authorization: `Bearer ${key}` }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body,
  });
  const text = await res.text();
  const json = /json/.test(res.headers.get('content-type') ?? '');
  return { status: res.status, headers: res.headers, body: json ? JSON.parse(text) : text };
}

/** A share link of `channel`, made by the complete key. */
async function shareLink(channel: string): Promise<{ id: string; token: string }> {
  const a = await call('POST', `/v1/channels/${channel}/share`, target.keys.all, '{}');
  if (a.status !== 201) throw new Error(`creating a share link: ${a.status} ${JSON.stringify(a.body)}`);
  return a.body;
}

/** A request the complete key may make to an operation, about `channel` (a fresh share link where it needs one). */
async function requestFor(
  method: string,
  template: string,
  channel: string,
): Promise<{ method: string; path: string; body?: string }> {
  let path = template
    .replace('{id}', channel)
    .replace('{postId}', String(postOf[channel]))
    .replace('{file}', 'growth.svg')
    .replace('{userId}', '42');
  if (path.includes('{linkId}')) path = path.replace('{linkId}', (await shareLink(channel)).id);
  if (path.includes('{token}')) path = path.replace('{token}', (await shareLink(channel)).token);
  if (/\{\w+\}/.test(path)) throw new Error(`${method} ${template}: the test does not know how to fill ${path}`);
  // A bot's event batch: the channel stands for the bot (its events live under its id).
  if (path === '/v1/events')
    return {
      method,
      path,
      body: JSON.stringify([{ bot_id: channel, user_id: 42, event: 'start', event_time: Date.UTC(2026, 2, 3) }]),
    };
  if (path === '/v1/rankings') return { method, path: `${path}?by=citations` };
  return { method, path, ...(method === 'POST' ? { body: '{}' } : {}) };
}

/**
 * The scopes each operation needs, as the API promises them: analytics need
 * `read`, their CSV forms `export` too, and creating or revoking share links
 * `share`. A new kind of route must be added here, deliberately.
 */
function neededScopes(method: string, path: string): ApiScope[] {
  if (method === 'GET' && path.startsWith('/v1/channels')) return path.endsWith('.csv') ? ['read', 'export'] : ['read'];
  if ((method === 'POST' && path.endsWith('/share')) || (method === 'DELETE' && path.startsWith('/v1/share/')))
    return ['share'];
  if (method === 'GET' && (path.startsWith('/v1/bots/') || path === '/v1/rankings')) return ['read'];
  if (method === 'POST' && path === '/v1/events') return ['track'];
  throw new Error(`${method} ${path}: say which scopes it needs in neededScopes()`);
}

/** A refusal: the status, the error shape, and nothing of any channel's data. */
function expectRefused(what: string, a: Answer, status: number, code?: string): void {
  refusalsChecked++;
  expect({ what, status: a.status, code: a.body?.error?.code }).toEqual({
    what,
    status,
    code: code ?? a.body?.error?.code,
  });
  expect(isErrorShape(a.body, status), `${what}: ${JSON.stringify(a.body)}`).toBe(true);
  expect(Object.keys(a.body), what).toEqual(['error']);
  for (const header of ['x-data-updated-at', 'x-data-sources', 'etag', 'content-disposition'])
    expect(a.headers.get(header), `${what}: ${header}`).toBeNull();
  expect(a.headers.get('cache-control'), what).toBe('no-store');
}

beforeAll(async () => {
  target = await startApiTarget({ channels: 2, days: 2, seed: 31 });
  operations = operationsOf(await openApiDocument(target.api.url));
  const rows = await target.data.pipe.warehouse.query<{ channel_id: string; post_id: string }>(
    'SELECT channel_id, toString(min(post_id)) AS post_id FROM raw_posts GROUP BY channel_id',
  );
  for (const r of rows) postOf[r.channel_id] = Number(r.post_id);
  const signIn = await call('POST', '/v1/webapp/session', null, JSON.stringify({ init_data: target.initData(4242) }));
  if (signIn.status !== 201) throw new Error(`Mini App sign-in: ${signIn.status} ${JSON.stringify(signIn.body)}`);
  miniAppSession = signIn.body.token;
}, 600_000);

afterAll(async () => {
  await target?.close();
});

describe('every endpoint of the OpenAPI document refuses callers without access', () => {
  it('walks the secured endpoints with no key, bad keys, missing scopes and an allow-list without the channel', async () => {
    // The allow-listed key may read channels[0] only; every request is about channels[1].
    const [allowed, other] = target.channels;
    const secured = operations.filter((o) => o.op.security === undefined || o.op.security.length > 0);
    expect(secured.length).toBeGreaterThanOrEqual(10);
    const badKeys = {
      malformed: 'tgp_not-a-key',
      unknown: `tgp_000000000000_${'A'.repeat(43)}`,
      'unknown secret of a real key': `${target.keys.all.slice(0, SECRET_AT)}${'B'.repeat(43)}`,
      revoked: target.keys.revoked,
      'forged Mini App session': `tgw_4242.9999999999.${'A'.repeat(43)}`,
      'Mini App session moved to another user': miniAppSession.replace(/^tgw_4242\./, 'tgw_4243.'),
    };
    const lacking = Object.fromEntries(
      await Promise.all(SCOPES.map(async (s) => [s, await target.key(SCOPES.filter((x) => x !== s))] as const)),
    );

    for (const { method, path } of secured) {
      const op = `${method} ${path}`;
      const needed = neededScopes(method, path);
      // The request itself is fine: the complete key gets its answer (and fills the answer cache).
      const ok = await requestFor(method, path, other);
      const control = await call(ok.method, ok.path, target.keys.all, ok.body);
      expect({ op, status: control.status }).toEqual({ op, status: control.status < 300 ? control.status : 'a 2xx' });

      const r = await requestFor(method, path, other);
      const noKey = await call(r.method, r.path, null, r.body);
      expectRefused(`${op} without a key`, noKey, 401, 'unauthorized');
      expect(noKey.headers.get('www-authenticate')).toMatch(/^Bearer/);
      for (const [kind, key] of Object.entries(badKeys))
        expectRefused(`${op} with a ${kind} key`, await call(r.method, r.path, key, r.body), 401, 'unauthorized');

      for (const scope of needed) {
        const a = await call(r.method, r.path, lacking[scope], r.body);
        expectRefused(`${op} without the ${scope} scope`, a, 403, 'forbidden');
        expect(a.body.error.details).toEqual({ scope });
      }
      // A Mini App session reads and exports, and does nothing else.
      for (const scope of needed.filter((s) => s !== 'read' && s !== 'export')) {
        const a = await call(r.method, r.path, miniAppSession, r.body);
        expectRefused(`${op} with a Mini App session`, a, 403, 'forbidden');
        expect(a.body.error.details).toEqual({ scope });
      }

      // The allow-list: routes about a channel say 403 for a channel outside it, existing or not;
      // share links of such a channel are as unknown as links that never existed; the list leaves it out.
      const limited = target.keys.oneChannel;
      if (path.includes('{id}')) {
        const a = await call(r.method, r.path, limited, r.body);
        expectRefused(`${op} outside the allow-list`, a, 403, 'forbidden');
        // Bot ids are positive: a bot route's unknown id is one.
        const unknownId = path.startsWith('/v1/bots/') ? '999999999' : '-100999999';
        const missing = await call(r.method, r.path.replace(other, unknownId), limited, r.body);
        expectRefused(`${op} for an unknown channel outside the allow-list`, missing, 403, 'forbidden');
        expect(missing.body.error.message.replace(unknownId, other)).toBe(a.body.error.message);
        // A Mini App session's allow-list is its user's grants: none here.
        if (needed.every((s) => s === 'read' || s === 'export'))
          expectRefused(
            `${op} with a Mini App session without grants`,
            await call(r.method, r.path, miniAppSession, r.body),
            403,
            'forbidden',
          );
      } else if (path.includes('{linkId}')) {
        const a = await call(r.method, r.path, limited, r.body);
        expectRefused(`${op} outside the allow-list`, a, 404, 'unknown_share_link');
        const unknown = await call(r.method, '/v1/share/000000000000', limited, r.body);
        expect(unknown.body.error.message.replace('000000000000', r.path.split('/').at(-1) ?? '')).toBe(
          a.body.error.message,
        );
        // Not revoked by the refused call: its owner still can.
        expect((await call(r.method, r.path, target.keys.all, r.body)).status).toBe(204);
      } else if (path === '/v1/channels') {
        const a = await call(r.method, r.path, limited);
        expect(a.status).toBe(200);
        expect({ total: a.body.meta.total, ids: a.body.data.map((c: { channel_id: string }) => c.channel_id) }).toEqual(
          {
            total: 1,
            ids: [allowed],
          },
        );
        const none = await call(r.method, r.path, miniAppSession);
        expect({ status: none.status, total: none.body.meta.total }).toEqual({ status: 200, total: 0 });
      } else if (path === '/v1/rankings') {
        // The ranking of a limited key holds its own channels only.
        const a = await call(r.method, r.path, limited);
        expect(a.status).toBe(200);
        const ids = a.body.data.map((c: { channel_id: string }) => c.channel_id);
        expect(ids).not.toContain(other);
      } else if (path === '/v1/events') {
        // Per item: an event of a bot outside the allow-list is refused, the batch is answered.
        const a = await call(r.method, r.path, limited, r.body);
        expect({ status: a.status, item: a.body.results?.[0]?.status }).toEqual({ status: 200, item: 'rejected' });
        expect(a.body.results[0].errors[0].field).toBe('bot_id');
      } else {
        throw new Error(`${op}: say how the channel allow-list applies to it`);
      }
    }
    recordSummary({
      section: 'security',
      what: 'API endpoints walked for access',
      count: secured.length,
      outcome: `${refusalsChecked} refusals checked (no key, bad/unknown/revoked key, forged Mini App session, missing scope, channel outside the allow-list): 401/403/404 in the error shape, no channel data`,
    });
  });

  it("share links: a link's charts are those of its sections only", async () => {
    const [channel] = target.channels;
    const made = await call(
      'POST',
      `/v1/channels/${channel}/share`,
      target.keys.all,
      JSON.stringify({ sections: ['overview'] }),
    );
    for (const name of ['growth', 'reach', 'views', 'anomalies', 'best-time'])
      expectRefused(
        `${name} chart of a link without its section`,
        await call('GET', `/v1/share/${made.body.token}/charts/${name}.json`, null),
        404,
        'chart_not_shared',
      );
  });

  it('share links: a tampered, malformed or revoked token reads nothing', async () => {
    const [channel] = target.channels;
    const link = await shareLink(channel);
    expect((await call('GET', `/v1/share/${link.token}`, null)).status).toBe(200);
    const [id, exp, sig] = link.token.split('.');
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    const tampered = {
      'first character of the signature': `${id}.${exp}.${flip(sig, 0)}`,
      'last character of the signature': `${id}.${exp}.${flip(sig, sig.length - 1)}`,
      'a later expiry': `${id}.${Number(exp) + 86_400}.${sig}`,
      'another id': `${flip(id, 0)}.${exp}.${sig}`,
    };
    // The link's charts answer as the link does.
    const chart = (token: string) => call('GET', `/v1/share/${token}/charts/growth.svg`, null);
    expect((await chart(link.token)).status).toBe(200);
    for (const [what, token] of Object.entries(tampered)) {
      expectRefused(
        `share token with ${what}`,
        await call('GET', `/v1/share/${token}`, null),
        401,
        'invalid_share_token',
      );
      expectRefused(`chart of a share token with ${what}`, await chart(token), 401, 'invalid_share_token');
    }
    expectRefused('malformed share token', await call('GET', '/v1/share/x.y.z', null), 401, 'invalid_share_token');
    expectRefused('chart of a malformed share token', await chart('x.y.z'), 401, 'invalid_share_token');
    expect((await call('DELETE', `/v1/share/${link.id}`, target.keys.all)).status).toBe(204);
    expectRefused('revoked share token', await call('GET', `/v1/share/${link.token}`, null), 404, 'share_link_gone');
    expectRefused('chart of a revoked share token', await chart(link.token), 404, 'share_link_gone');
  });

  it('API keys are kept as SHA-256 digests of their secrets, compared by id then digest', async () => {
    // The structural side of a constant-time check: the row is found by the token's public id, and
    // what is compared (with timingSafeEqual) is a fixed-length digest, never the secret itself.
    const { rows } = await target.control.pool.query<{ id: string; secret_hash: string }>(
      'SELECT id, secret_hash FROM api_keys',
    );
    const secrets = Object.values(target.keys).map((t) => t.slice(SECRET_AT));
    expect(rows.length).toBeGreaterThanOrEqual(4);
    for (const r of rows) {
      expect(r.secret_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(secrets).not.toContain(r.secret_hash);
    }
  });
});
