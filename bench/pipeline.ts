/**
 * `npm run bench`: throughput and freshness of the whole pipeline, with the
 * raw ceilings of its two stores measured in the same run on the same data.
 *
 *   1. workload   simulated channels (counters-heavy), pre-encoded as the
 *                 publisher would send them
 *   2. JetStream  publish, then consume, the same messages on a scratch stream
 *   3. warehouse  bulk insert of the same rows into copies of the raw tables
 *   4. pipeline   the same messages through TG_RAW → processors → TG_DERIVED
 *                 → sinks → warehouse, until every consumer is idle, with 1
 *                 and with 2 `tgpulse worker` processes (processors + sinks),
 *                 each on a fresh NATS and warehouse; peak RSS of each process
 *   5. freshness  the next simulated hours of the same channels, paced at half
 *                 the measured rate; p50/p99 of (ingested_at − publish time)
 *                 of raw rows and of the post deltas derived from them. (The
 *                 events keep their simulated times: rewriting observed_at to
 *                 the wall clock would move the processors' event time eleven
 *                 months ahead and make them emit a week of empty windows.)
 *
 * Sizes: BENCH_CHANNELS (default 1000), BENCH_HOURS (simulated, default 12),
 * BENCH_WORKERS (default "1,2"), BENCH_RATE (events/s of the paced phase,
 * default half the last end-to-end rate), BENCH_TRACING=1 (the workers trace
 * every message and export over OTLP/HTTP to a receiver in this process, to
 * weigh tracing's cost against a run without it). Every process it starts is
 * stopped, also when it fails.
 */
import { jetstream, jetstreamManager, AckPolicy } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { setMaxListeners } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Simulator } from '../ingest/simulator/simulator.ts';
import type { RawEvent, TgEvent } from '../streams/contract/events.ts';
import { batchId } from '../streams/contract/ids.ts';
import { chunkPayloads, EventPublisher, groupBySubject } from '../streams/publisher.ts';
import { BatchPuller } from '../streams/puller.ts';
import { sleep } from '../common/retry.ts';
import { tableFor, toRow } from '../sinks/clickhouse/encoder.ts';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { startTestNats, tempDir, type TestNats } from '../test/support/nats.ts';
import { startPipeline, type TestPipeline } from '../test/support/pipeline.ts';
import { ensureCliBuilt } from '../test/support/cli.ts';
import { killRole, spawnRole, stopRole, warningSummary, type RoleProcess } from '../test/support/roles.ts';
import { readRunningWarehouse } from '../clickhouse/local-server/server.ts';
import type { Warehouse } from '../clickhouse/warehouse.ts';
import { quantileSorted } from 'simple-statistics';
import { HOUR_MS } from '../common/index.ts';

const CHANNELS = Number(process.env.BENCH_CHANNELS ?? 1000);
const HOURS = Number(process.env.BENCH_HOURS ?? 12);
/** Offered rate of the paced phase; by default half the measured end-to-end throughput, so queues stay short. */
const RATE_OVERRIDE = process.env.BENCH_RATE ? Number(process.env.BENCH_RATE) : null;
const PARTITIONS = 8;
/** Simulated hours after the end-to-end span, for the paced freshness phase (more than it can publish). */
const FRESH_HOURS = 3;
/** Worker processes (processors + sinks) of each end-to-end run, e.g. "1,2". */
const WORKER_COUNTS = (process.env.BENCH_WORKERS ?? '1,2').split(',').map((x) => Number(x.trim()));
/** Whether the workers trace (every root sampled, the worst case) to {@link otlpReceiver}. */
const TRACING = process.env.BENCH_TRACING === '1';

interface Message {
  subject: string;
  payload: Uint8Array;
  msgId: string;
  events: TgEvent[];
}

let peakRss = 0;
const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 200);

function line(label: string, value: string): void {
  process.stdout.write(`${label.padEnd(44)} ${value}\n`);
}
const rate = (n: number, ms: number) => `${Math.round((n / ms) * 1000).toLocaleString('en-US')}/s`;

function encode(events: RawEvent[]): Message[] {
  const out: Message[] = [];
  for (const [subject, group] of groupBySubject(events, PARTITIONS)) {
    for (const c of chunkPayloads(group, 256 * 1024))
      out.push({
        subject,
        payload: c.payload,
        msgId: batchId(
          subject,
          c.events.map((e) => e.id),
        ),
        events: c.events,
      });
  }
  return out;
}

interface Workload {
  messages: Message[];
  events: number;
  genMs: number;
}

/**
 * The workload: two simulated days of history are generated but not
 * published, so counters polling is in steady state; then `hours` for the
 * end-to-end runs and `tailHours` more of the same channels for freshness.
 */
function workload(
  seed: number,
  channels: number,
  hours: number,
  tailHours: number,
): { main: Workload; tail: Workload } {
  const t0 = performance.now();
  const start = Date.UTC(2026, 0, 1);
  const split = start + (48 + hours) * HOUR_MS;
  const sim = new Simulator({
    seed,
    channels,
    start,
    durationMs: (48 + hours + tailHours) * HOUR_MS,
    anomalies: 'none',
  });
  sim.step(start + 48 * HOUR_MS); // history before the measured span: generated, not published
  const main: Workload = { messages: [], events: 0, genMs: 0 };
  const tail: Workload = { messages: [], events: 0, genMs: 0 };
  for (const tick of sim.ticks()) {
    const flat = tick.batches.flat() as RawEvent[];
    const part = tick.from < split ? main : tail;
    part.events += flat.length;
    part.messages.push(...encode(flat));
  }
  main.genMs = performance.now() - t0;
  return { main, tail };
}

async function jetstreamCeiling(url: string, messages: Message[], events: number): Promise<void> {
  const nc = await connect({ servers: url });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'BENCH', subjects: ['bench.>'] });
  const js = jetstream(nc);
  const pub = new EventPublisher(js, {
    partitions: PARTITIONS,
    maxBatchBytes: 256 * 1024,
    maxInflight: 512,
    stream: 'BENCH',
  });
  let t = performance.now();
  for (const m of messages) await pub.publishRaw(`bench.${m.subject}`, m.payload, m.msgId);
  await pub.flush();
  const pubMs = performance.now() - t;
  line('JetStream publish (same messages)', `${rate(messages.length, pubMs)} msgs, ${rate(events, pubMs)} events`);
  await jsm.consumers.add('BENCH', { durable_name: 'bench', ack_policy: AckPolicy.Explicit, max_ack_pending: 100_000 });
  const ac = new AbortController();
  setMaxListeners(100, ac.signal);
  const puller = new BatchPuller(await js.consumers.get('BENCH', 'bench'), {
    maxBatch: 1000,
    maxWaitMs: 20,
    signal: ac.signal,
  });
  await puller.start();
  t = performance.now();
  let n = 0;
  while (n < messages.length) {
    const batch = await puller.next();
    for (const m of batch) m.ack();
    n += batch.length;
  }
  const subMs = performance.now() - t;
  ac.abort();
  line(
    'JetStream consume + ack (same messages)',
    `${rate(messages.length, subMs)} msgs, ${rate(events, subMs)} events`,
  );
  await jsm.streams.delete('BENCH');
  await nc.close();
}

/** Peak resident memory of a process so far (VmHWM), MiB; null once it is gone. */
function peakRssMiB(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : null;
  } catch {
    return null;
  }
}

/** CPU seconds (user + system) a process has used so far; null once it is gone. */
function cpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    // Fields 14 and 15 of /proc/<pid>/stat, after the parenthesised command name.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return null;
  }
}
/** USER_HZ: 100 on every Linux this runs on. */
const CLOCK_TICKS = 100;

/** The processes of a stage by name, for RSS and CPU figures. */
function stageProcesses(s: Stage): Array<[string, number | undefined]> {
  return [
    ...s.workers.map((x, i): [string, number | undefined] => [`worker ${i}`, x.child.pid]),
    ['nats-server', s.nats.process.pid],
    ['warehouse', readRunningWarehouse(s.pipe.config.dataDir)?.pid],
    ['bench (publisher)', process.pid],
  ];
}

/** Counts what the workers export, without decoding it (the bench process's CPU is measured too). */
interface OtlpReceiver {
  url: string;
  requests: number;
  bytes: number;
  close(): void;
}

let receiver: OtlpReceiver | null = null;

async function otlpReceiver(): Promise<OtlpReceiver> {
  const counts = { requests: 0, bytes: 0 };
  const server = createServer((req, res) => {
    counts.requests++;
    req.on('data', (c: Buffer) => (counts.bytes += c.length));
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    get requests() {
      return counts.requests;
    },
    get bytes() {
      return counts.bytes;
    },
    close: () => server.close(),
  };
}

interface Stage {
  nats: TestNats;
  pipe: TestPipeline;
  workers: RoleProcess[];
}

/** A fresh NATS and warehouse with `n` `tgpulse worker` processes (processors and sinks) on them. */
async function startStage(n: number): Promise<Stage> {
  const nats = await startTestNats();
  const pipe = await startPipeline({ natsUrl: nats.url, dataDir: tempDir('bench') });
  const env: Record<string, string> = {
    TGPULSE_NATS_URL: nats.url,
    TGPULSE_DATA_DIR: pipe.config.dataDir,
    TGPULSE_LOG_LEVEL: 'warn',
  };
  if (receiver)
    Object.assign(env, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.url, OTEL_TRACES_SAMPLER: 'always_on' });
  return { nats, pipe, workers: Array.from({ length: n }, () => spawnRole('worker', [], env)) };
}

async function stopStage(s: Stage): Promise<void> {
  for (const w of s.workers) {
    const code = await stopRole(w);
    if (code !== 0) process.stderr.write(`worker exited with ${code}: ${w.output().slice(-2000)}\n`);
  }
  await s.pipe.close();
  await s.nats.stop();
}

/** Publishes the whole workload with the workers running and waits until every consumer is idle. */
async function endToEnd(s: Stage, w: Workload): Promise<number> {
  // Timing starts once every worker consumes (all consumers exist and are idle), not while they start.
  await s.pipe.waitIdle(120_000);
  const cpuBefore = stageProcesses(s).map(([, pid]) => cpuSeconds(pid) ?? 0);
  const t = performance.now();
  for (const m of w.messages) await s.pipe.publisher.publishRaw(m.subject, m.payload, m.msgId);
  await s.pipe.publisher.flush();
  const publishedMs = performance.now() - t;
  await s.pipe.waitIdle(1_800_000);
  const e2eMs = performance.now() - t - 600; // waitIdle needs two quiet checks 300 ms apart
  const cpu = stageProcesses(s).map(
    ([name, pid], i) => `${name} ${((cpuSeconds(pid) ?? 0) - cpuBefore[i]).toFixed(1)}`,
  );
  const [rows] = await s.pipe.warehouse.query<{
    raw: string;
    raw_ids: string;
    deltas: string;
    delta_ids: string;
    aggs: string;
    trends: string;
    dead: string;
  }>(
    `SELECT (SELECT count() FROM raw_post_counters) AS raw, (SELECT uniqExact(id) FROM raw_post_counters) AS raw_ids,
            (SELECT count() FROM post_deltas) AS deltas, (SELECT uniqExact(id) FROM post_deltas) AS delta_ids,
            (SELECT count() FROM window_aggs) AS aggs, (SELECT count() FROM trends) AS trends,
            (SELECT toString(groupArray((reason, c))) FROM (SELECT reason, count() AS c FROM dead_letters GROUP BY reason)) AS dead`,
  );
  const n = (x: string) => Number(x).toLocaleString('en-US');
  line(
    `end to end, ${s.workers.length} worker process(es)`,
    `${rate(w.events, e2eMs)} events (${(e2eMs / 1000).toFixed(1)} s; publishing took ${(publishedMs / 1000).toFixed(1)} s)`,
  );
  line(
    '  rows written (distinct ids)',
    `raw_post_counters ${n(rows.raw)} (${n(rows.raw_ids)}), post_deltas ${n(rows.deltas)} (${n(rows.delta_ids)}), window_aggs ${n(rows.aggs)}, trends ${n(rows.trends)}, dead letters ${rows.dead}`,
  );
  line(
    '  CPU seconds during the run',
    `${cpu.join(', ')} (of ${((availableParallelism() * e2eMs) / 1000).toFixed(1)} on ${availableParallelism()} cores)`,
  );
  if (receiver) {
    line(
      '  traces exported',
      `${receiver.requests} OTLP requests, ${(receiver.bytes / 2 ** 20).toFixed(1)} MiB so far`,
    );
  }
  const warnings = warningSummary(s.workers);
  if (warnings) line('  worker warnings (last 20 kB of output)', warnings);
  return (w.events / e2eMs) * 1000;
}

async function main(): Promise<void> {
  // The workers run the compiled CLI, as `./tgpulse` does.
  ensureCliBuilt();
  process.stdout.write(
    `tgpulse bench: ${CHANNELS} channels, ${HOURS} simulated hours, ${PARTITIONS} partitions, node ${process.version}\n`,
  );
  const { main: w, tail } = workload(1, CHANNELS, HOURS, FRESH_HOURS);
  line(
    'workload',
    `${w.events.toLocaleString('en-US')} events in ${w.messages.length.toLocaleString('en-US')} messages (${(w.events / w.messages.length).toFixed(1)} events/msg)`,
  );
  line('simulator generation + encoding', rate(w.events, w.genMs));

  const stages: Stage[] = [];
  if (TRACING) receiver = await otlpReceiver();
  line('tracing in the workers', TRACING ? `on, every message sampled, OTLP/HTTP to ${receiver!.url}` : 'off');
  // However the bench ends, nothing it started stays behind.
  const cleanup = async () => {
    receiver?.close();
    for (const s of stages) for (const r of s.workers) await killRole(r);
    for (const s of stages) await s.pipe.close().catch(() => undefined);
    for (const s of stages) await s.nats.stop().catch(() => undefined);
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  try {
    const first = await startStage(0);
    stages.push(first);
    await jetstreamCeiling(first.nats.url, w.messages, w.events);
    await warehouseCeiling(first.pipe.warehouse, w);
    await stopStage(first);
    stages.splice(stages.indexOf(first), 1);

    let lastRate = 0;
    for (const n of WORKER_COUNTS) {
      const s = await startStage(n);
      stages.push(s);
      lastRate = await endToEnd(s, w);
      line(
        '  peak RSS',
        stageProcesses(s)
          .slice(0, -1)
          .map(([name, pid]) => `${name} ${peakRssMiB(pid)} MiB`)
          .join(', '),
      );
      if (n !== WORKER_COUNTS[WORKER_COUNTS.length - 1]) {
        await stopStage(s);
        stages.splice(stages.indexOf(s), 1);
      }
    }
    await freshness(stages[stages.length - 1], lastRate, tail);
    line('peak RSS of the bench process', `${Math.round(peakRss / 1024 / 1024)} MiB`);
    clearInterval(rssTimer);
    for (const s of [...stages]) {
      await stopStage(s);
      stages.splice(stages.indexOf(s), 1);
    }
  } finally {
    clearInterval(rssTimer);
    await cleanup();
  }
}

/** The warehouse's own insert ceiling: the same rows, bulk-inserted into copies of their tables. */
async function warehouseCeiling(wh: Warehouse, w: Workload): Promise<void> {
  const rowsByTable = new Map<string, Record<string, unknown>[]>();
  for (const m of w.messages)
    for (const e of m.events) {
      const table = tableFor(e.kind);
      let rows = rowsByTable.get(table);
      if (!rows) rowsByTable.set(table, (rows = []));
      rows.push(toRow(e));
    }
  const t = performance.now();
  let rowsInserted = 0;
  for (const [table, rows] of rowsByTable) {
    await wh.exec(`CREATE TABLE bench_${table} AS ${table}`);
    for (let i = 0; i < rows.length; i += 50_000) {
      await wh.insertRows(`bench_${table}`, rows.slice(i, i + 50_000));
      rowsInserted += Math.min(50_000, rows.length - i);
    }
  }
  line('warehouse bulk insert (same rows, 50k/insert)', `${rate(rowsInserted, performance.now() - t)} rows`);
}

/**
 * Freshness: the channels' next simulated hours, published at half the
 * measured rate (or BENCH_RATE) for 20 s; the lag of a row is its ingested_at
 * minus the wall time its raw message was published.
 */
async function freshness(s: Stage, measuredRate: number, tail: Workload): Promise<void> {
  const RATE = RATE_OVERRIDE ?? Math.max(1000, Math.round(measuredRate / 2));
  const publishedAt = new Map<string, number>();
  let from = Infinity;
  const t = performance.now();
  let sent = 0;
  for (const m of tail.messages) {
    if (sent >= RATE * 20) break;
    const wait = t + (sent / RATE) * 1000 - performance.now();
    if (wait > 1) await sleep(wait);
    const now = Date.now();
    for (const e of m.events) {
      publishedAt.set(e.id, now);
      from = Math.min(from, e.event_time);
    }
    await s.pipe.publisher.publishRaw(m.subject, m.payload, m.msgId);
    sent += m.events.length;
  }
  await s.pipe.publisher.flush();
  await s.pipe.waitIdle(600_000);
  for (const [label, sql] of [
    [
      'freshness raw (publish → queryable)',
      'SELECT id AS raw_id, toUnixTimestamp64Milli(ingested_at) AS at FROM raw_post_counters WHERE event_time >= fromUnixTimestamp64Milli({from:Int64})',
    ],
    [
      'freshness derived post_delta',
      'SELECT source_id AS raw_id, toUnixTimestamp64Milli(ingested_at) AS at FROM post_deltas WHERE event_time >= fromUnixTimestamp64Milli({from:Int64})',
    ],
  ] as const) {
    const rows = await s.pipe.warehouse.query<{ raw_id: string; at: string }>(sql, { from });
    const lags = rows
      .flatMap((r) => (publishedAt.has(r.raw_id) ? [Number(r.at) - publishedAt.get(r.raw_id)!] : []))
      .sort((a, b) => a - b);
    const q = (p: number) => (lags.length ? quantileSorted(lags, p) : NaN);
    line(
      label,
      `p50 ${q(0.5)} ms, p99 ${q(0.99)} ms over ${lags.length.toLocaleString('en-US')} rows at ${RATE.toLocaleString('en-US')} events/s offered (${sent.toLocaleString('en-US')} events)`,
    );
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
