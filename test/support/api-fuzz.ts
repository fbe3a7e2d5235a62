/**
 * Hostile HTTP requests generated from the API's own OpenAPI document
 * (fast-check), and a raw HTTP client to send them: every operation, every
 * parameter with valid and hostile values, repeated and unknown parameters,
 * wrong methods, keys of every kind, huge headers, and bodies that are too
 * big, malformed or of the wrong type. Requests are plain data, so a failure
 * message can print the one that failed and a seed makes the run repeat.
 */
import { request, type Agent } from 'node:http';
import fc from 'fast-check';
import type { JsonSchema, OpenApiDocument, OpenApiOperation, OpenApiParameter } from './api-target.ts';
import { operationsOf } from './api-target.ts';

export interface FuzzRequest {
  method: string;
  /** Path and query as sent: already percent-encoded, or deliberately not. */
  url: string;
  headers: Record<string, string>;
  body?: string;
  /** The OpenAPI operation it was made from, e.g. `GET /v1/channels/{id}/growth`, or `extra`. */
  operation: string;
}

export interface FuzzAnswer {
  status: number;
  body: Buffer;
}

/** What the generator draws valid values from: the data and credentials of the running target. */
export interface FuzzWorld {
  channels: string[];
  /** Post ids that exist, by channel. */
  posts: Record<string, number[]>;
  keys: Record<string, string>;
  /** Valid share tokens (never revoked during the run). */
  shareTokens: string[];
  /** Share link ids the run may revoke. */
  linkIds: string[];
  /** Mini App initData the target's bot token signed, fresh at its clock. */
  initData: string[];
  /** The data's time span (ms). */
  start: number;
  end: number;
}

/** A value as it goes into a URL: text to percent-encode, or a raw fragment sent as it is. */
type UrlValue = { text: string } | { raw: string };

const text = (t: string): UrlValue => ({ text: t });
const raw = (r: string): UrlValue => ({ raw: r });

/** Numbers no parameter should take: the known 500s (1e309, 100 digits) and their relatives. */
const HOSTILE_NUMBERS = [
  '1e309',
  '-1e309',
  '1e308',
  'Infinity',
  '-Infinity',
  'NaN',
  '9'.repeat(100),
  `-${'9'.repeat(100)}`,
  '9007199254740993',
  '2147483648',
  '-1',
  '-0',
  '0',
  '1.5',
  '0.0000001',
  '1e2',
  '1E3',
  '0x10',
  '0b11',
  '0o7',
  ' 5',
  '5 ',
  '+5',
  '5abc',
  '1_000',
  '١٢٣',
  '',
];

/** Strings that have broken parsers, queries, templates or paths elsewhere. */
const HOSTILE_STRINGS = [
  "' OR 1=1 --",
  "'; DROP TABLE raw_posts; --",
  '{c:String}',
  '\\',
  '"',
  '<script>alert(1)</script>',
  '../../../../etc/passwd',
  '..',
  '.',
  '/',
  '__proto__',
  'constructor',
  'toString',
  'null',
  'undefined',
  'true',
  '[]',
  '{}',
  '%s%s%s%n',
  // A template placeholder, on purpose: it must reach the server as text.
  // biome-ignore lint/suspicious/noTemplateCurlyInString: hostile input
  '${7*7}',
  '{{7*7}}',
  '\u0000',
  '\r\n\r\nX-Injected: 1',
  '\u202e\u202d',
  '💥🔥',
  'Ωmega',
  '\ufeff',
  '\ud800',
  'Europe/../../etc',
  '2026-02-30',
  '2026-13-01',
  '9999-12-31T23:59:59Z',
  '0000-01-01',
  '2026-03-02T25:00:00Z',
  '1970-01-01',
  '2026-03-02T00:00:00+99:99',
];

/** Fragments sent unencoded: broken percent-escapes, invalid UTF-8, traversal in encoded form. */
const RAW_FRAGMENTS = [
  '%',
  '%z',
  '%zz',
  '%ff%fe',
  '%c0%ae%c0%ae',
  '%00',
  '%2e%2e%2f%2e%2e%2f',
  '..%2f..%2f',
  '%ed%a0%80',
  '%25',
  ';',
  '&',
  '=',
  '?',
  '[]',
  '%5B%5D',
];

const hostileValue: fc.Arbitrary<UrlValue> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_NUMBERS).map(text) },
  { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_STRINGS).map(text) },
  { weight: 2, arbitrary: fc.constantFrom(...RAW_FRAGMENTS).map(raw) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }).map(text) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }).map(text) },
  // Long enough to pass a maxLength of 200 but stay under the URL limit, or to exceed it.
  { weight: 1, arbitrary: fc.constantFrom(201, 1500, 3000).map((n) => text('a'.repeat(n))) },
  { weight: 1, arbitrary: fc.double().map((d) => text(String(d))) },
  { weight: 1, arbitrary: fc.bigInt().map((n) => text(String(n))) },
);

/** Percent-encodes every byte but the unreserved ones (lone surrogates become U+FFFD, as in any UTF-8 encoder). */
export function encode(v: UrlValue): string {
  if ('raw' in v) return v.raw;
  let out = '';
  for (const byte of Buffer.from(v.text, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const TIME_ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kathmandu', 'Pacific/Chatham'];

/** A value the schema accepts, drawn from the target's real data where the parameter names it. */
function validValue(p: { name: string; schema: JsonSchema }, world: FuzzWorld, channel: string): fc.Arbitrary<string> {
  const s = p.schema;
  const choices = s.enum ?? s.anyOf?.flatMap((a) => a.enum ?? []);
  if (choices && choices.length > 0) return fc.constantFrom(...choices.map(String));
  switch (p.name) {
    case 'id':
      return fc.oneof(
        { weight: 5, arbitrary: fc.constant(channel) },
        { weight: 1, arbitrary: fc.constantFrom('-1001234567890', '1', '0', '-0', `-${'9'.repeat(20)}`) },
      );
    case 'postId':
    case 'post_id':
      return fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(...(world.posts[channel] ?? [1])).map(String) },
        { weight: 1, arbitrary: fc.integer({ min: 1, max: 2 ** 31 - 1 }).map(String) },
      );
    case 'file':
      return fc
        .tuple(
          fc.constantFrom('growth', 'reach', 'views', 'anomalies', 'best-time', 'post'),
          fc.constantFrom('svg', 'png', 'json'),
        )
        .map(([c, f]) => `${c}.${f}`);
    case 'token':
      return fc.constantFrom(...world.shareTokens);
    case 'linkId':
      return fc.constantFrom(...world.linkIds);
    case 'from':
    case 'to':
      return timeValue(world);
    case 'tz':
      return fc.constantFrom(...TIME_ZONES);
    case 'metric':
      return fc.constantFrom('views', 'forwards', 'reactions', 'subscribers_gained', 'posts', 'nope');
  }
  if (s.type === 'integer') {
    const min = s.minimum ?? -1000;
    const max = s.maximum ?? 1000;
    return fc.integer({ min, max: Math.min(max, min + 10_000) }).map(String);
  }
  return fc.string({ maxLength: s.maxLength ?? 20 });
}

/** A time inside or around the data, as the API accepts it: a date, a date-time or epoch milliseconds. */
function timeValue(world: FuzzWorld): fc.Arbitrary<string> {
  return fc
    .tuple(
      fc.integer({ min: world.start - 10 * 86_400_000, max: world.end + 2 * 86_400_000 }),
      fc.constantFrom('date', 'datetime', 'ms', 'offset'),
    )
    .map(([t, form]) => {
      const iso = new Date(t).toISOString();
      if (form === 'date') return iso.slice(0, 10);
      if (form === 'datetime') return iso;
      if (form === 'offset') return `${iso.slice(0, 19)}+05:30`;
      return String(t);
    });
}

/** A parameter's value: usually valid, often hostile. */
function paramValue(p: OpenApiParameter, world: FuzzWorld, channel: string): fc.Arbitrary<UrlValue> {
  return fc.oneof(
    { weight: 3, arbitrary: validValue(p, world, channel).map(text) },
    { weight: 2, arbitrary: hostileValue },
  );
}

/** The query string: each parameter present or not, sometimes repeated; sometimes unknown ones. */
function queryArb(params: OpenApiParameter[], world: FuzzWorld, channel: string): fc.Arbitrary<string> {
  const known = params
    .filter((p) => p.in === 'query')
    .map((p) =>
      fc.option(
        fc
          .tuple(paramValue(p, world, channel), rarely(paramValue(p, world, channel), 8))
          .map(([v, again]) => [`${p.name}=${encode(v)}`, ...(again ? [`${p.name}=${encode(again)}`] : [])]),
        { freq: 2 },
      ),
    );
  const unknown = rarely(
    fc
      .tuple(
        fc.constantFrom('foo', '__proto__', 'constructor', 'limit[]', 'a[b]', '', 'LIMIT', 'x'.repeat(300)),
        hostileValue,
      )
      .map(([k, v]) => [`${encode(text(k))}=${encode(v)}`]),
    6,
  );
  return fc.tuple(fc.tuple(...known), unknown, fc.boolean()).map(([parts, extra, shuffle]) => {
    const all = [...parts.flatMap((p) => p ?? []), ...(extra ?? [])];
    if (shuffle) all.reverse();
    return all.length ? `?${all.join('&')}` : '';
  });
}

/** The path with its parameters filled in. */
function pathArb(
  template: string,
  params: OpenApiParameter[],
  world: FuzzWorld,
  channel: string,
): fc.Arbitrary<string> {
  const names = [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
  const byName = new Map(params.filter((p) => p.in === 'path').map((p) => [p.name, p]));
  const values = names.map((n) =>
    paramValue(byName.get(n) ?? { in: 'path', name: n, schema: { type: 'string' } }, world, channel),
  );
  return fc.tuple(...values).map((vs) => names.reduce((path, n, i) => path.replace(`{${n}}`, encode(vs[i])), template));
}

/** Any character HTTP allows in a header value (the client refuses the others before sending). */
const headerChar = fc
  .integer({ min: 0x20, max: 0xfe })
  .filter((c) => c !== 0x7f)
  .map((c) => String.fromCharCode(c));

/** Who the request claims to be: every kind of key, in either header, or none. */
function credentialsArb(world: FuzzWorld): fc.Arbitrary<Record<string, string>> {
  const tokens = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...Object.values(world.keys)) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        `tgp_000000000000_${'A'.repeat(43)}`,
        `tgw_42.9999999999.${'A'.repeat(43)}`,
        'tgw_',
        'tgp_zzzz',
        'tgp__',
        "tgp_' OR 1=1 --",
        'null',
        'x'.repeat(300),
        'x'.repeat(7000),
      ),
    },
    { weight: 1, arbitrary: fc.string({ unit: headerChar, minLength: 1, maxLength: 60 }) },
  );
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant({}) },
    { weight: 6, arbitrary: tokens.map((t) => ({ authorization: `Bearer ${t}` })) },
    { weight: 2, arbitrary: tokens.map((t) => ({ 'x-api-key': t })) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', 'bearer  a b', 'Token abc').map((a) => ({
        authorization: a,
      })),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(tokens, tokens).map(([a, b]) => ({ authorization: `Bearer ${a}`, 'x-api-key': b })),
    },
  );
}

/** `arb` about once in `oneIn` draws, else null. */
function rarely<T>(arb: fc.Arbitrary<T>, oneIn: number): fc.Arbitrary<T | null> {
  return fc.oneof({ weight: 1, arbitrary: arb }, { weight: oneIn - 1, arbitrary: fc.constant(null) });
}

/** Headers besides the key: representation, revalidation, and sometimes far too many or too large ones. */
const otherHeadersArb: fc.Arbitrary<Record<string, string>> = fc
  .tuple(
    rarely(fc.constantFrom('text/csv', 'application/json', 'image/png', '*/*', 'text/csv;q=0, */*', '\u00ff'), 3).map(
      (v) => ['accept', v] as const,
    ),
    rarely(fc.constantFrom('*', '"abc"', 'W/"x", "y"', ',,,'), 10).map((v) => ['if-none-match', v] as const),
    rarely(fc.constantFrom('https://evil.example', 'null'), 10).map((v) => ['origin', v] as const),
    rarely(fc.constantFrom('gzip', 'br', 'identity;q=0', 'x'), 10).map((v) => ['accept-encoding', v] as const),
    rarely(
      fc.constantFrom(1_000, 8_000, 17_000, 70_000).map((n) => 'a'.repeat(n)),
      20,
    ).map((v) => ['x-filler', v] as const),
    rarely(fc.constantFrom('bytes=0-0', 'bytes=-1'), 20).map((v) => ['range', v] as const),
    rarely(fc.integer({ min: 50, max: 300 }), 30),
  )
  .map(([...pairs]) => {
    const many = pairs.pop() as number | null;
    const headers: Record<string, string> = {};
    for (const [k, v] of pairs as Array<readonly [string, string | null]>) if (v !== null) headers[k] = v;
    for (let i = 0; i < (many ?? 0); i++) headers[`x-h${i}`] = 'v';
    return headers;
  });

/** A custom bot event as `POST /v1/events` takes it (the channels stand for bots), at a time around the data. */
function botEventArb(world: FuzzWorld): fc.Arbitrary<Record<string, unknown>> {
  return fc.record({
    bot_id: fc.constantFrom(...world.channels),
    user_id: fc.oneof(fc.integer({ min: 1, max: 1_000_000 }), fc.constant(null)),
    event: fc.constantFrom('start', 'click', 'buy'),
    properties: fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string({ maxLength: 20 }), fc.integer()), {
      maxKeys: 3,
    }),
    event_time: fc.integer({ min: world.end - 2 * 86_400_000, max: world.end }),
  });
}

/** A Mini App sign-in: initData the target signed, or a forged, repeated or hostile string in its place. */
function signInBodyArb(world: FuzzWorld): fc.Arbitrary<string> {
  const signed = fc.constantFrom(...world.initData);
  const refused = fc.oneof(
    signed.map((d) => d.replace(/hash=[0-9a-f]{4}/, 'hash=0000')),
    signed.map((d) => `${d}&auth_date=1`),
    signed.map((d) => d.replace(/(^|&)hash=[^&]*/, '')),
    fc.constantFrom('hash=', `hash=${'0'.repeat(64)}`, '%', '&&&', '=&=', `user=${'%7B'.repeat(1000)}`),
    fc.string({ maxLength: 300 }),
  );
  return fc
    .oneof({ weight: 3, arbitrary: signed }, { weight: 2, arbitrary: refused })
    .map((initData) => JSON.stringify({ init_data: initData }));
}

/** A request body that matches the schema, or one that must be refused. */
function bodyArb(
  schema: JsonSchema | undefined,
  world: FuzzWorld,
): fc.Arbitrary<{ body: string; type: string } | null> {
  // The report sections the schema lists (a body sent to an operation without one still gets some).
  const listed = schema?.properties?.sections?.items?.anyOf?.flatMap((a) => a.enum ?? []).map(String) ?? [];
  const sections = listed.length > 0 ? listed : ['overview'];
  const valid =
    schema?.type === 'array'
      ? fc.array(botEventArb(world), { minLength: 1, maxLength: 5 }).map((b) => JSON.stringify(b))
      : schema?.properties?.init_data
        ? signInBodyArb(world)
        : fc
            .record(
              {
                from: timeValue(world),
                to: timeValue(world),
                sections: fc.subarray(sections, { minLength: 1 }),
                ttl_seconds: fc.integer({ min: 60, max: 90 * 86_400 }),
              },
              { requiredKeys: [] },
            )
            .map((b) => JSON.stringify(b));
  const hostile = fc.oneof(
    fc.constantFrom(
      '{"ttl_seconds":1e309}',
      '{"ttl_seconds":-1e309}',
      '{"ttl_seconds":1.5}',
      `{"ttl_seconds":${'9'.repeat(100)}}`,
      '{"ttl_seconds":"60"}',
      '{"__proto__":{"admin":true}}',
      '{"constructor":{"prototype":{"admin":true}}}',
      '{"sections":["overview","overview"]}',
      '{"sections":[]}',
      '{"sections":"overview"}',
      '{"from":null}',
      '{"from":"2026-03-02","from":"x"}',
      '{"unknown":1}',
      '[]',
      '"text"',
      'null',
      '{',
      '{"a":',
      '\u0000',
      '\ufeff{}',
      '',
    ),
    fc.constantFrom(2_000, 20_000).map((depth) => '['.repeat(depth) + ']'.repeat(depth)),
    fc.constantFrom(17_000, 200_000, 1_100_000).map((n) => JSON.stringify({ from: 'a'.repeat(n) })),
    fc.json({ maxDepth: 3 }),
  );
  const types = fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'application/json; charset=utf-16',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/xml',
    '',
  );
  const any = fc.oneof(
    { weight: 3, arbitrary: fc.record({ body: valid, type: fc.constant('application/json') }) },
    { weight: 3, arbitrary: fc.record({ body: hostile, type: fc.constant('application/json') }) },
    { weight: 2, arbitrary: fc.record({ body: fc.oneof(valid, hostile), type: types }) },
  );
  // Operations with a body mostly get one (sometimes none); the others now and then.
  return schema
    ? fc.oneof({ weight: 6, arbitrary: any }, { weight: 1, arbitrary: fc.constant(null) })
    : rarely(any, 10);
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'];

/** One operation's requests: its own method mostly, another one sometimes. */
function operationArb(method: string, path: string, op: OpenApiOperation, world: FuzzWorld): fc.Arbitrary<FuzzRequest> {
  const params = op.parameters ?? [];
  const schema = op.requestBody?.content['application/json']?.schema;
  return fc
    .constantFrom(...world.channels)
    .chain((channel) =>
      fc.record({
        method: fc.oneof(
          { weight: 6, arbitrary: fc.constant(method) },
          { weight: 1, arbitrary: fc.constantFrom(...METHODS) },
        ),
        path: pathArb(path, params, world, channel),
        query: queryArb(params, world, channel),
        credentials: credentialsArb(world),
        headers: otherHeadersArb,
        body: bodyArb(schema, world),
      }),
    )
    .map((r) => ({
      method: r.method,
      url: r.path + r.query,
      headers: {
        ...r.headers,
        ...r.credentials,
        ...(r.body ? (r.body.type ? { 'content-type': r.body.type } : {}) : {}),
      },
      ...(r.body ? { body: r.body.body } : {}),
      operation: `${method} ${path}`,
    }));
}

/** Paths outside the document: the hidden ops and web app routes, unknown ones, traversal and junk. */
const EXTRA_PATHS = [
  '/index.html',
  '/assets/index-1a2b.js',
  '/assets/nothing.js',
  '/assets/../index.html',
  '/assets/..%2f..%2fetc%2fpasswd',
  '/assets/%2e%2e/%2e%2e/metrics',
  '/assets/index-1a2b.js%00.css',
  '/healthz',
  '/readyz',
  '/metrics',
  '/docs',
  '/docs/openapi.json',
  '/',
  '//',
  '/v1',
  '/v1/',
  '/v1/channels/',
  '/v1/channels//overview',
  '/v1/channels/1/../../docs',
  '/v1/channels/%2e%2e/%2e%2e/metrics',
  '/v1/channels/..%2f..%2fetc%2fpasswd/overview',
  '/v1/channels/1%00/overview',
  '/v1/channels/1/overview/',
  '/v1/channels/1/overview.csv',
  '/v1/channels/1/sources.csv',
  '/v1/share/',
  '/v1/share/a.b.c',
  '/telegram/webhook',
  '/%ff',
  '/v1/channels?limit=1e309&limit=1e309',
  `/v1/${'a'.repeat(3000)}`,
  '*',
];

function extraArb(world: FuzzWorld): fc.Arbitrary<FuzzRequest> {
  return fc
    .record({
      method: fc.constantFrom(...METHODS, 'TRACE', 'PROPFIND'),
      url: fc.constantFrom(...EXTRA_PATHS),
      credentials: credentialsArb(world),
      headers: otherHeadersArb,
    })
    .map((r) => ({
      method: r.method,
      url: r.url,
      headers: { ...r.headers, ...r.credentials },
      operation: 'extra',
    }));
}

/** Requests over every operation of the document (uniformly) and the paths outside it. */
export function requestArb(doc: OpenApiDocument, world: FuzzWorld): fc.Arbitrary<FuzzRequest> {
  const ops = operationsOf(doc).map(({ method, path, op }) => operationArb(method, path, op, world));
  return fc.oneof({ weight: 20, arbitrary: fc.oneof(...ops) }, { weight: 1, arbitrary: extraArb(world) });
}

/** Sends one request over a raw HTTP connection; transport failures come back as status 0 with the error. */
export function send(baseUrl: string, agent: Agent, r: FuzzRequest): Promise<FuzzAnswer & { error?: string }> {
  const url = new URL(baseUrl);
  return new Promise((resolve) => {
    let settled = false;
    const done = (a: FuzzAnswer & { error?: string }) => {
      if (settled) return;
      settled = true;
      resolve(a);
    };
    try {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          method: r.method,
          path: r.url,
          headers: r.body === undefined ? r.headers : { ...r.headers, 'content-length': Buffer.byteLength(r.body) },
          agent,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => done({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
          res.on('error', (err) =>
            done({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), error: err.message }),
          );
        },
      );
      // The server may answer (413, 431) and close before a large body is written: the answer counts.
      req.on('error', (err) => done({ status: 0, body: Buffer.alloc(0), error: err.message }));
      req.end(r.body);
    } catch (err) {
      done({ status: 0, body: Buffer.alloc(0), error: `client refused: ${(err as Error).message}` });
    }
  });
}

/** Runs `work` over `items` with at most `concurrency` in flight, in order of the items. */
export async function inFlight<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return results;
}

/** A request as a failure message shows it: method, URL and headers cut short, body size. */
export function describeRequest(r: FuzzRequest): string {
  const headers = Object.entries(r.headers)
    .map(([k, v]) => `${k}: ${v.length > 60 ? `${v.slice(0, 60)}…(${v.length})` : v}`)
    .slice(0, 6)
    .join('; ');
  const url = r.url.length > 200 ? `${r.url.slice(0, 200)}…(${r.url.length})` : r.url;
  const body = r.body === undefined ? '' : ` body ${r.body.length} B: ${JSON.stringify(r.body.slice(0, 80))}`;
  return `${r.method} ${url} [${headers}]${body}`;
}
