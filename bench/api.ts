/**
 * `npm run bench:api`: latency and throughput of the read-only REST API on
 * the local warehouse server (over the ClickHouse HTTP protocol, as in
 * `tgpulse up`) on simulated channels.
 *
 *   1. data      BENCH_API_CHANNELS × BENCH_API_DAYS written into the raw and
 *                derived tables by INSERT … SELECT (bench/api-data.ts); the
 *                materialized views fill the serving tables as in production
 *   2. cold      answer cache off, every request for a random channel (and
 *                post): each one reaches the warehouse
 *   3. warm      answer cache on (60 s), 20 channels, warmed up first
 *   4. limits    each endpoint at one connection (query cost without queueing,
 *                warehouse time per request), and the warehouse's own ceiling
 *                at the same concurrency (SELECT 1, a one-channel lookup)
 *
 * Load comes from autocannon in a child process, so the client does not
 * share the server's event loop (it does share the machine's cores).
 * Latencies are per request, measured by the client; p95 is computed from
 * every response (autocannon's own histogram stops at p97.5).
 *
 * Sizes: BENCH_API_CHANNELS (default 1000), BENCH_API_DAYS (90, at most 400),
 * BENCH_API_SECONDS per endpoint and mode (10), BENCH_API_CONNECTIONS (64).
 * BENCH_API_KEEP=1 keeps the generated data folder (a local warehouse) and prints its path;
 * BENCH_API_DATA=<path> reuses such a folder instead of generating (the
 * API's clock is then shifted so the data ends at the current hour).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { startApiServer, type ApiServer } from '../api/server.ts';
import { migrate } from '../clickhouse/migrate.ts';
import { LocalWarehouse } from '../clickhouse/local-server/server.ts';
import { silentLogger, type Logger } from '../observability/log.ts';
import type { Warehouse } from '../clickhouse/warehouse.ts';
import { createApiKey } from '../control/api-keys.ts';
import { openControlPlane } from '../control/postgres.ts';
import { freshTestControl } from '../control/testing.ts';
import { DAY_MS, HOUR_MS } from '../common/index.ts';
import { generateData, readTargets, servingSizes, settleMerges, type Targets } from './api-data.ts';
import { openWarehouse } from '../clickhouse/open.ts';

/** The argument that makes this file the load generator (child process) instead of the bench. */
const LOAD_ROLE = '--load-generator';
/** Channels of the warm mode: few enough that every answer stays cached. */
const WARM_CHANNELS = 20;
/** The cold target (the seed system's API target); warm answers should take under 10 ms. */
const TARGET_P95_MS = 200;

function envInt(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new RangeError(`${name} must be an integer in ${min}..${max}, got ${raw}`);
  return value;
}

// ---- load generator (child process) ----------------------------------------

/** One measurement the bench asks the load generator for. */
interface LoadJob {
  url: string;
  token: string;
  /** Each request takes one of these at random. */
  paths: string[];
  connections: number;
  seconds: number;
}

/** A non-2xx answer, kept to show what went wrong. */
interface FailedRequest {
  status: number;
  path: string;
  body: string;
}

interface LoadResult {
  /** Client-side latency of every response (ms). */
  latencies: Float64Array;
  non2xx: number;
  /** Connection errors and timeouts. */
  errors: number;
  seconds: number;
  sampleError: FailedRequest | null;
}

type LoadReply = { ok: true; result: LoadResult } | { ok: false; error: string };

/** autocannon's per-connection context: the path of the request in flight (one at a time without pipelining). */
interface PathContext {
  path?: string;
}

async function runLoad(job: LoadJob): Promise<LoadResult> {
  const latencies: number[] = [];
  let non2xx = 0;
  let sampleError: FailedRequest | null = null;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: job.url,
        connections: job.connections,
        duration: job.seconds,
        // Chart rendering under 64 connections queues for seconds; a timeout would hide that as an error.
        timeout: 60,
        headers: { authorization: `Bearer ${job.token}` },
        requests: [
          {
            method: 'GET',
            setupRequest: (req, context) => {
              const path = job.paths[Math.floor(Math.random() * job.paths.length)];
              (context as PathContext).path = path;
              return { ...req, path };
            },
            onResponse: (status, body, context) => {
              if ((status < 200 || status > 299) && sampleError === null) {
                sampleError = { status, path: (context as PathContext).path ?? '?', body: body.slice(0, 600) };
              }
            },
          },
        ],
      },
      (err: unknown, r: autocannon.Result) => (err ? reject(err) : resolve(r)),
    );
    instance.on('response', (_client, status, _bytes, ms) => {
      latencies.push(ms);
      if (status < 200 || status > 299) non2xx++;
    });
  });
  return {
    latencies: Float64Array.from(latencies),
    non2xx,
    errors: result.errors,
    seconds: result.duration,
    sampleError,
  };
}

function loadGeneratorMain(): void {
  process.on('message', (job: LoadJob) => {
    runLoad(job).then(
      (result) => process.send?.({ ok: true, result } satisfies LoadReply),
      (err: unknown) =>
        process.send?.({
          ok: false,
          error: err instanceof Error ? (err.stack ?? err.message) : String(err),
        } satisfies LoadReply),
    );
  });
  // The parent waits for this: a message sent before the listener exists would be lost.
  process.send?.('ready');
}

/** The next message of a child process; rejects if it exits first. */
function nextMessage<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`the load generator exited (${code}) without answering`));
    child.once('exit', onExit);
    child.once('message', (message: T) => {
      child.off('exit', onExit);
      resolve(message);
    });
  });
}

/** The child process running autocannon, one job at a time. */
class LoadGenerator {
  private constructor(readonly child: ChildProcess) {}

  static async start(): Promise<LoadGenerator> {
    // fork passes this process's execArgv (--import tsx) on, so the child runs this same file.
    const child = fork(fileURLToPath(import.meta.url), [LOAD_ROLE], { serialization: 'advanced' });
    await nextMessage<'ready'>(child);
    return new LoadGenerator(child);
  }

  async run(job: LoadJob): Promise<LoadResult> {
    const reply = nextMessage<LoadReply>(this.child);
    this.child.send(job);
    const r = await reply;
    if (!r.ok) throw new Error(`load generator: ${r.error}`);
    return r.result;
  }

  close(): void {
    this.child.disconnect();
  }
}

// ---- measuring the server ---------------------------------------------------

/**
 * Counts the warehouse calls the API makes and the wall time during which at
 * least one is in flight (queries of one request run in parallel, so summing
 * their durations would overstate it).
 */
class QueryMeter {
  queries = 0;
  busyMs = 0;
  #inFlight = 0;
  #busySince = 0;

  wrap(wh: Warehouse): Warehouse {
    const query = async <T>(sql: string, params?: Record<string, unknown>): Promise<T[]> => {
      this.queries++;
      if (this.#inFlight++ === 0) this.#busySince = performance.now();
      try {
        return await wh.query<T>(sql, params);
      } finally {
        if (--this.#inFlight === 0) this.busyMs += performance.now() - this.#busySince;
      }
    };
    return {
      driver: wh.driver,
      query,
      exec: (sql, params) => wh.exec(sql, params),
      insertRows: (table, rows, opts) => wh.insertRows(table, rows, opts),
      startInsert: (table) => wh.startInsert(table),
      sendInsert: (insert, opts) => wh.sendInsert(insert, opts),
      ping: () => wh.ping(),
      close: () => wh.close(),
    };
  }

  reset(): void {
    this.queries = 0;
    this.busyMs = 0;
  }

  /**
   * Resolves once no query has been in flight for three checks 100 ms apart.
   * autocannon stops at its deadline with requests still queued in the
   * server; they must finish before the next run, or it inherits their load.
   * A request between two queries is running JavaScript, which holds the
   * timers back, so a check cannot fall into that gap.
   */
  async idle(): Promise<void> {
    for (let quiet = 0; quiet < 3; ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      quiet = this.#inFlight === 0 ? quiet + 1 : 0;
    }
  }
}

/**
 * What the API logs at error level: the cause of each 5xx, which the answer
 * itself does not tell. Everything below error level is dropped, as with
 * the silent logger.
 */
class ErrorLog {
  readonly logger: Logger;
  /** First URL and count per distinct error message. */
  #byMessage = new Map<string, { url: string; count: number }>();

  constructor() {
    this.logger = pino({ level: 'error' }, { write: (entry: string) => this.#record(entry) });
  }

  #record(entry: string): void {
    const e = JSON.parse(entry) as { msg?: string; url?: string; err?: { type?: string; message?: string } };
    const message = e.err ? `${e.err.type ?? 'Error'}: ${e.err.message ?? ''}` : (e.msg ?? entry);
    const seen = this.#byMessage.get(message);
    if (seen) seen.count++;
    else this.#byMessage.set(message, { url: e.url ?? '?', count: 1 });
  }

  /** Print what was logged since the last call, and forget it. */
  flush(): void {
    for (const [message, { url, count }] of this.#byMessage)
      out(`  server logged ${count}× ${message.slice(0, 400)} (first on ${url})`);
    this.#byMessage.clear();
  }
}

/** What one request asks about. */
interface Target {
  channel: string;
  post: number;
  /** Page of the channel listing. */
  page: number;
}

interface Endpoint {
  label: string;
  path(t: Target): string;
}

/** The endpoints measured, with `from` fixed to whole hours so that warm requests repeat the same URLs. */
function endpoints(now: number): Endpoint[] {
  const ago = (days: number) => new Date(Math.floor((now - days * DAY_MS) / HOUR_MS) * HOUR_MS).toISOString();
  const channel = (label: string, rest: (t: Target) => string): Endpoint => ({
    label,
    path: (t) => `/v1/channels/${t.channel}${rest(t)}`,
  });
  return [
    { label: '/channels?limit=100', path: (t) => `/v1/channels?limit=100&offset=${t.page * 100}` },
    channel('/{id}/overview', () => '/overview'),
    channel('/{id}/growth?granularity=day', () => '/growth?granularity=day'),
    channel('/{id}/growth?granularity=hour&from=-7d', () => `/growth?granularity=hour&from=${ago(7)}`),
    channel('/{id}/reach?granularity=week&from=-90d', () => `/reach?granularity=week&from=${ago(90)}`),
    channel('/{id}/posts/top?metric=engagement', () => '/posts/top?metric=engagement&limit=10'),
    channel('/{id}/posts/{postId}', (t) => `/posts/${t.post}`),
    channel('/{id}/sources', () => '/sources'),
    channel('/{id}/trending', () => '/trending'),
    channel('/{id}/anomalies?from=-90d', () => `/anomalies?from=${ago(90)}`),
    channel('/{id}/best-time?from=-90d&tz=Europe/Berlin', () => `/best-time?from=${ago(90)}&tz=Europe/Berlin`),
    channel('/{id}/growth.csv?granularity=day', () => '/growth.csv?granularity=day'),
    channel('/{id}/charts/growth.svg', () => '/charts/growth.svg'),
    channel('/{id}/charts/views.png', () => '/charts/views.png'),
  ];
}

/** Cold: every channel with each of its sample posts. Warm: WARM_CHANNELS channels spread over the ids, one post each. */
function targetsOf(t: Targets, mode: 'cold' | 'warm'): Target[] {
  const pages = Math.ceil(t.channels.length / 100);
  if (mode === 'cold')
    return t.channels.flatMap((channel, i) => t.posts[i].map((post) => ({ channel, post, page: i % pages })));
  const n = Math.min(WARM_CHANNELS, t.channels.length);
  return Array.from({ length: n }, (_, j) => {
    const i = Math.floor((j * t.channels.length) / n);
    return { channel: t.channels[i], post: t.posts[i][0], page: j % pages };
  });
}

/** Figures of one endpoint under load. */
interface Figures {
  requests: number;
  rps: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  non2xx: number;
  errors: number;
  sampleError: FailedRequest | null;
}

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

function figuresOf(r: LoadResult): Figures {
  const sorted = r.latencies.slice().sort();
  return {
    requests: r.latencies.length,
    rps: r.latencies.length / r.seconds,
    mean: r.latencies.reduce((sum, x) => sum + x, 0) / r.latencies.length,
    p50: quantile(sorted, 0.5),
    p95: quantile(sorted, 0.95),
    p99: quantile(sorted, 0.99),
    non2xx: r.non2xx,
    errors: r.errors,
    sampleError: r.sampleError,
  };
}

// ---- output -----------------------------------------------------------------

function out(text: string): void {
  process.stdout.write(`${text}\n`);
}

function line(label: string, value: string): void {
  out(`${label.padEnd(44)} ${value}`);
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const msText = (n: number) => (Number.isNaN(n) ? '-' : n < 10 ? n.toFixed(1) : int(n));

/** A table: first column left-aligned, the others right-aligned. */
function printTable(head: string[], rows: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  out(fmt(head));
  for (const r of rows) out(fmt(r));
}

function printFigures(rows: Array<[string, Figures]>): void {
  printTable(
    ['endpoint', 'answers', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'non-2xx', 'errors', `p95<${TARGET_P95_MS}`],
    rows.map(([label, f]) => [
      label,
      int(f.requests),
      f.rps < 100 ? f.rps.toFixed(1) : int(f.rps),
      msText(f.p50),
      msText(f.p95),
      msText(f.p99),
      int(f.non2xx),
      int(f.errors),
      f.p95 < TARGET_P95_MS ? 'yes' : 'no',
    ]),
  );
  for (const [label, f] of rows) {
    if (f.sampleError)
      out(
        `  ${label}: ${f.non2xx} non-2xx, e.g. ${f.sampleError.status} on ${f.sampleError.path}: ${f.sampleError.body}`,
      );
  }
}

// ---- the bench --------------------------------------------------------------

/** The warehouse the bench reads, fresh or reused, and how to let go of it. */
interface BenchData {
  wh: Warehouse;
  targets: Targets;
  release(): Promise<void>;
}

async function prepareData(channels: number, days: number, keep: boolean, reuse: string | null): Promise<BenchData> {
  // The API reads the local warehouse server over HTTP, as in `tgpulse up`.
  const dataDir = reuse ?? mkdtempSync(join(tmpdir(), 'tgpulse-bench-api-'));
  const server = await LocalWarehouse.start({
    dataDir,
    database: 'tgpulse',
    httpPort: 0,
    nativePort: 0,
    log: silentLogger,
  });
  const wh = await openWarehouse({ driver: 'local', dataDir, database: 'tgpulse', httpPort: 0, nativePort: 0 });
  const release = async () => {
    await wh.close();
    await server.stop();
  };
  await migrate(wh);
  if (reuse !== null) {
    const targets = await readTargets(wh);
    line(
      'data (reused)',
      `${reuse}: ${int(targets.channels.length)} channels × ${targets.days} days ending ${new Date(targets.end).toISOString()}`,
    );
    return { wh, targets, release };
  }
  const end = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
  const report = await generateData(wh, { channels, days, end }, (done) => {
    if (process.stdout.isTTY) process.stdout.write(`\r  generating: ${done}/${channels} channels`);
  });
  if (process.stdout.isTTY) process.stdout.write('\r');
  line('data generation (INSERT … SELECT + views)', `${(report.ms / 1000).toFixed(1)} s`);
  for (const [name, ms] of report.byStatement) line(`  ${name}`, `${(ms / 1000).toFixed(1)} s`);
  const targets = await readTargets(wh);
  return {
    wh,
    targets,
    async release() {
      await release();
      if (!keep) rmSync(dataDir, { recursive: true, force: true });
      else line('data kept at', `${dataDir} (reuse: BENCH_API_DATA=${dataDir})`);
    },
  };
}

async function printSizes(wh: Warehouse): Promise<void> {
  const settledMs = await settleMerges(wh);
  line('waited for background merges', `${(settledMs / 1000).toFixed(1)} s`);
  const sizes = await servingSizes(wh);
  printTable(
    ['serving table', 'rows', 'distinct', 'parts', 'MiB'],
    sizes.map((s) => [
      s.table,
      int(s.rows),
      s.distinct === null ? '' : int(s.distinct),
      String(s.parts),
      (s.bytes / 2 ** 20).toFixed(1),
    ]),
  );
}

/**
 * The warehouse's own ceiling at the bench's concurrency, so that the API's
 * figures read as ratios: `SELECT 1` (the round trip) and a one-channel point
 * lookup on a serving table, each from `connections` concurrent callers.
 */
async function warehouseCeiling(wh: Warehouse, t: Targets, connections: number, seconds: number): Promise<void> {
  const calls: Array<[string, (channel: string) => Promise<unknown>]> = [
    ['SELECT 1', () => wh.query('SELECT 1')],
    [
      "one channel's latest day (channel_daily FINAL)",
      (c) =>
        wh.query('SELECT * FROM channel_daily FINAL WHERE channel_id = {c:String} ORDER BY window_start DESC LIMIT 1', {
          c,
        }),
    ],
  ];
  const rows: string[][] = [];
  for (const [label, call] of calls) {
    const latencies: number[] = [];
    const until = performance.now() + seconds * 1000;
    let i = 0;
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (performance.now() < until) {
          const channel = t.channels[i++ % t.channels.length];
          const t0 = performance.now();
          await call(channel);
          latencies.push(performance.now() - t0);
        }
      }),
    );
    const sorted = Float64Array.from(latencies).sort();
    rows.push([
      label,
      (latencies.length / seconds).toFixed(0),
      msText(quantile(sorted, 0.5)),
      msText(quantile(sorted, 0.95)),
      msText(quantile(sorted, 0.99)),
    ]);
  }
  printTable(['query', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms'], rows);
}

async function main(): Promise<void> {
  const channels = envInt('BENCH_API_CHANNELS', 1000, 1, 1_000_000);
  // At most the API's maxRangeDays; also keeps monthly-partitioned inserts far below max_partitions_per_insert_block (100).
  const days = envInt('BENCH_API_DAYS', 90, 2, 400);
  const seconds = envInt('BENCH_API_SECONDS', 10, 1, 3600);
  const connections = envInt('BENCH_API_CONNECTIONS', 64, 1, 10_000);
  const keep = process.env.BENCH_API_KEEP === '1';
  const reuse = process.env.BENCH_API_DATA || null;

  let peakRss = 0;
  const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 200);
  out(
    `tgpulse API bench: ${int(channels)} channels × ${days} days, ${seconds} s per endpoint, ${connections} connections, node ${process.version}, ${availableParallelism()} cores, load average ${loadavg()[0].toFixed(1)}`,
  );

  const data = await prepareData(channels, days, keep, reuse);
  line('RSS with the data open', `${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB`);
  // Resources in the order they were opened; closed in reverse, also when a step fails.
  const opened: Array<() => unknown> = [() => data.release()];
  try {
    await printSizes(data.wh);
    const { targets } = data;
    // Reused data ends in the past: shift the API's clock so "the last 30 days" still covers it.
    const clockShift = Math.max(0, Math.floor(Date.now() / HOUR_MS) * HOUR_MS - targets.end);
    if (clockShift > 0) line('API clock shifted back by', `${(clockShift / HOUR_MS).toFixed(0)} h`);
    const now = () => Date.now() - clockShift;

    const testControl = await freshTestControl('embedded');
    opened.push(() => testControl.dispose());
    const control = await openControlPlane(testControl.config);
    opened.push(() => control.close());
    const { token } = await createApiKey(control.pool, {
      name: 'bench',
      scopes: ['read', 'export', 'share'],
      ratePerMinute: 1_000_000,
    });
    const meter = new QueryMeter();
    const warehouse = meter.wrap(data.wh);
    const errors = new ErrorLog();
    const start = (cacheSeconds: number) =>
      startApiServer({
        warehouse,
        control,
        controlConfig: testControl.config,
        config: {
          host: '127.0.0.1',
          port: 0,
          ratePerMinute: 1_000_000,
          cacheSeconds,
          maxRangeDays: 400,
          corsOrigins: [],
        },
        log: errors.logger,
        registry: new Registry(),
        now,
      });
    // Two API servers on one warehouse connection: the answer cache is per server.
    const cold = await start(0);
    opened.push(() => cold.close());
    const warm = await start(60);
    opened.push(() => warm.close());
    const load = await LoadGenerator.start();
    opened.push(() => load.close());
    const eps = endpoints(now());
    const pathsOf = (ep: Endpoint, mode: 'cold' | 'warm') => [
      ...new Set(targetsOf(targets, mode).map((t) => ep.path(t))),
    ];
    const measure = async (server: ApiServer, paths: string[], conns: number, secs: number) => {
      const result = await load.run({ url: server.url, token, paths, connections: conns, seconds: secs });
      await meter.idle();
      return figuresOf(result);
    };

    out(
      `\ncold: answer cache off, random channel of ${int(targets.channels.length)} per request, ${connections} connections`,
    );
    const coldRows: Array<[string, Figures]> = [];
    for (const ep of eps) coldRows.push([ep.label, await measure(cold, pathsOf(ep, 'cold'), connections, seconds)]);
    printFigures(coldRows);
    errors.flush();

    out(
      `\nwarm: answer cache on (60 s), ${Math.min(WARM_CHANNELS, targets.channels.length)} channels warmed up first, ${connections} connections`,
    );
    const warmRows: Array<[string, Figures]> = [];
    for (const ep of eps) {
      const paths = pathsOf(ep, 'warm');
      // Right before its own run, so no answer expires during it (runs up to 60 s).
      for (const p of paths)
        await (await fetch(`${warm.url}${p}`, { headers: { authorization: `Bearer ${token}` } })).arrayBuffer();
      warmRows.push([ep.label, await measure(warm, paths, connections, seconds)]);
    }
    printFigures(warmRows);
    errors.flush();

    const seqSeconds = Math.max(2, Math.ceil(seconds / 2));
    out(
      `\nlimits: each endpoint at 1 connection for ${seqSeconds} s (cache off), against the ${connections}-connection cold run`,
    );
    const rows: string[][] = [];
    for (const [i, ep] of eps.entries()) {
      meter.reset();
      const single = await measure(cold, pathsOf(ep, 'cold'), 1, seqSeconds);
      const requests = single.requests;
      const loaded = coldRows[i][1];
      rows.push([
        ep.label,
        msText(single.p50),
        msText(single.mean),
        msText(meter.busyMs / requests),
        (meter.queries / requests).toFixed(1),
        single.rps.toFixed(1),
        loaded.rps.toFixed(1),
        `×${(loaded.rps / single.rps).toFixed(2)}`,
      ]);
    }
    printTable(
      [
        'endpoint',
        'c=1 p50 ms',
        'c=1 mean ms',
        'warehouse ms/req',
        'queries/req',
        'c=1 req/s',
        `c=${connections} req/s`,
        'speed-up',
      ],
      rows,
    );
    errors.flush();
    out(
      `\nthe warehouse's own ceiling: ${connections} concurrent callers for ${seqSeconds} s each (@clickhouse/client over HTTP)`,
    );
    await warehouseCeiling(data.wh, targets, connections, seqSeconds);

    out('');
    const met = (rows: Array<[string, Figures]>) =>
      `${rows.filter(([, f]) => f.p95 < TARGET_P95_MS).length} of ${rows.length}`;
    line(`endpoints with p95 < ${TARGET_P95_MS} ms`, `cold ${met(coldRows)}, warm ${met(warmRows)}`);
    line('load average (1 min) at the end', loadavg()[0].toFixed(1));
    line(
      'non-2xx answers',
      `cold ${int(coldRows.reduce((s, [, f]) => s + f.non2xx, 0))}, warm ${int(warmRows.reduce((s, [, f]) => s + f.non2xx, 0))}`,
    );
  } finally {
    line(
      'peak RSS of the bench process (API and load bookkeeping; the warehouse server is a process of its own)',
      `${Math.round(peakRss / 2 ** 20)} MiB`,
    );
    clearInterval(rssTimer);
    for (const close of opened.reverse()) await close();
  }
}

if (process.argv[2] === LOAD_ROLE) {
  loadGeneratorMain();
} else {
  main().catch((err) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
