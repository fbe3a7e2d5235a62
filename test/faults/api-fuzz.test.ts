/**
 * API fuzz: 10,000 requests generated from the OpenAPI document the server
 * serves (every operation, every parameter, hostile values, wrong methods,
 * huge headers and bodies, wrong content types, keys of every kind) against
 * the real API on data the real pipeline produced. None may get a 5xx, every
 * refusal must be in the API's one error shape, and every operation must
 * also have been answered 2xx at least once, so the fuzzer is known to reach
 * the handlers and not only the validation in front of them.
 *
 * The run is seeded (API_FUZZ_SEED overrides it); a failure lists the
 * requests that failed, so it can be replayed by hand.
 */
import { Agent } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordSummary } from '../support/fault-summary.ts';
import { describeRequest, type FuzzRequest, type FuzzWorld, inFlight, requestArb, send } from '../support/api-fuzz.ts';
import {
  type ApiTarget,
  isErrorShape,
  openApiDocument,
  type OpenApiDocument,
  operationsOf,
  startApiTarget,
} from '../support/api-target.ts';

const REQUESTS = 10_000;
const SEED = Number(process.env.API_FUZZ_SEED ?? 1414);
/** Requests in flight at once: enough to keep the server busy on 2 cores, few enough not to queue for long. */
const CONCURRENCY = 12;

let target: ApiTarget;
let doc: OpenApiDocument;
let world: FuzzWorld;

/** A share link over HTTP, as a client makes one: its token and id. */
async function share(channel: string): Promise<{ token: string; id: string }> {
  const res = await fetch(`${target.api.url}/v1/channels/${channel}/share`, {
    method: 'POST',
    headers: { authorization: `Bearer ${target.keys.all}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sections: ['overview', 'growth'] }),
  });
  const body = (await res.json()) as { token: string; id: string };
  if (res.status !== 201) throw new Error(`creating a share link: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

beforeAll(async () => {
  target = await startApiTarget({ channels: 2, days: 3, seed: 23 });
  doc = await openApiDocument(target.api.url);
  const rows = await target.data.pipe.warehouse.query<{ channel_id: string; posts: string[] }>(
    'SELECT channel_id, groupArray(20)(toString(post_id)) AS posts FROM raw_posts GROUP BY channel_id',
  );
  const gets = await Promise.all(target.channels.map(share));
  // A Mini App session of a user without grants: a key-like token that reads no channel.
  const session = await fetch(`${target.api.url}/v1/webapp/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ init_data: target.initData(42) }),
  });
  if (session.status !== 201) throw new Error(`Mini App sign-in: ${session.status} ${await session.text()}`);
  const { token: miniApp } = (await session.json()) as { token: string };
  const revocable = await Promise.all(target.channels.map(share));
  world = {
    channels: target.channels,
    posts: Object.fromEntries(rows.map((r) => [r.channel_id, r.posts.map(Number)])),
    keys: { ...target.keys, miniApp },
    shareTokens: gets.map((l) => l.token),
    linkIds: revocable.map((l) => l.id),
    initData: [target.initData(42), target.initData(43)],
    start: target.data.start,
    end: target.data.end,
  };
}, 600_000);

afterAll(async () => {
  await target?.close();
});

/** What an answer broke, or null when it is one the API may give. */
function violation(r: FuzzRequest, a: { status: number; body: Buffer; error?: string }): string | null {
  if (a.status === 0) return `no answer (${a.error})`;
  if (a.status >= 500) return `${a.status}: ${a.body.toString('utf8').slice(0, 200)}`;
  // HEAD answers and 304s carry no body.
  if (a.status < 400 || r.method === 'HEAD') return null;
  let body: unknown;
  try {
    body = JSON.parse(a.body.toString('utf8'));
  } catch {
    return `${a.status} not in the error shape: ${JSON.stringify(a.body.toString('utf8').slice(0, 120))}`;
  }
  return isErrorShape(body, a.status)
    ? null
    : `${a.status} not in the error shape: ${JSON.stringify(body).slice(0, 200)}`;
}

describe('API fuzz from the OpenAPI document', () => {
  it('the known 500s are 400s naming the parameter', async () => {
    const [c] = target.channels;
    for (const url of [
      `/v1/channels/${c}/posts/top?limit=1e309`,
      `/v1/channels/${c}/anomalies?limit=1e309`,
      `/v1/channels/${c}/anomalies?limit=${'9'.repeat(100)}`,
      `/v1/channels?offset=1e309`,
      `/v1/channels/${c}/charts/growth.svg?width=-1e309`,
      `/v1/channels/${c}/posts/1e309`,
    ]) {
      const res = await fetch(`${target.api.url}${url}`, { headers: { authorization: `Bearer ${target.keys.all}` } });
      const body = (await res.json()) as { error: { code: string; details: { parameter: string } } };
      expect({ url, status: res.status, code: body.error.code }).toEqual({
        url,
        status: 400,
        code: 'invalid_parameter',
      });
      expect(body.error.details.parameter).toMatch(/^(querystring\.(limit|offset|width)|params\.postId)$/);
    }
  });

  it(`${REQUESTS} generated requests: no 5xx, every refusal in the error shape, every operation reached`, async () => {
    const requests = fc.sample(requestArb(doc, world), { seed: SEED, numRuns: REQUESTS });
    const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const started = performance.now();
    const answers = await inFlight(requests, CONCURRENCY, (r) => send(target.api.url, agent, r));
    const seconds = (performance.now() - started) / 1000;
    agent.destroy();

    const failures: string[] = [];
    const byStatus = new Map<number, number>();
    const okByOperation = new Map<string, number>();
    const sentByOperation = new Map<string, number>();
    requests.forEach((r, i) => {
      const a = answers[i];
      byStatus.set(a.status, (byStatus.get(a.status) ?? 0) + 1);
      sentByOperation.set(r.operation, (sentByOperation.get(r.operation) ?? 0) + 1);
      if (a.status >= 200 && a.status < 300) okByOperation.set(r.operation, (okByOperation.get(r.operation) ?? 0) + 1);
      const v = violation(r, a);
      if (v !== null) failures.push(`#${i} ${describeRequest(r)} → ${v}`);
    });
    const serverErrors = answers.filter((a) => a.status >= 500).length;
    const statuses = [...byStatus]
      .sort(([a], [b]) => a - b)
      .map(([s, n]) => `${s}×${n}`)
      .join(' ');
    process.stdout.write(
      `API fuzz: ${requests.length} requests (seed ${SEED}) in ${seconds.toFixed(1)} s, ${CONCURRENCY} in flight; ${statuses}\n`,
    );
    recordSummary({
      section: 'fuzz',
      what: 'API requests fuzzed',
      count: requests.length,
      outcome: `from the OpenAPI document, seed ${SEED}; ${statuses}`,
      serverErrors,
    });

    expect(failures.slice(0, 30), `${failures.length} of ${requests.length} failed (seed ${SEED})`).toEqual([]);
    // Each operation of the document was tried often, and answered with data at least once.
    const operations = operationsOf(doc).map((o) => `${o.method} ${o.path}`);
    expect(operations.filter((o) => (sentByOperation.get(o) ?? 0) < 100)).toEqual([]);
    expect(operations.filter((o) => (okByOperation.get(o) ?? 0) === 0)).toEqual([]);
    // About a minute on 2 idle cores; far longer when the machine is shared.
  }, 900_000);
});
