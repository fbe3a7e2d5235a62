/**
 * `npm run bench:mtproto`: how many MTProto requests the collector's schedule
 * costs, how many channels one account serves within the request budget we
 * assume Telegram tolerates, and how fresh and how right the counters it
 * holds are against the truth.
 *
 * The real {@link Collector} and {@link AccountSession} run over real gramjs
 * clients wired to the fake Telegram (test/support/fake-telegram.ts), against
 * an embedded control plane, on a virtual clock:
 *
 *   1. world     N channels posting at an even pace with a random phase each:
 *                "regular" = 50 posts over the 7 polled days (one every 3.4 h),
 *                "busy" = 50 posts a day (350 in the polled days). Every post
 *                has a true view curve that channels.getMessages answers with,
 *                member counts drift (bench/mtproto-world.ts). The account is
 *                a member of every channel ("joined": Telegram pushes each new
 *                post) or of none ("not joined", the default, since joining is
 *                off by default and an account may join only ~500 channels:
 *                Telegram pushes nothing, new posts come through the
 *                collector's periodic difference). Official stats on a share
 *                of the channels, every graph async.
 *   2. passes    the first pass (pts, backfill, members, stats) measured apart;
 *                a warm-up of BENCH_MTPROTO_WARMUP_HOURS, unmeasured, so every
 *                post was read at least twice and the 6 h band has cycled;
 *                then the measured windows, a collector pass every 60 s as
 *                `Collector.run` does with a 60 s tick.
 *   3. measures  requests per channel-hour by method; every 10 simulated
 *                minutes of a window, each post's staleness and the relative
 *                error of the views held, by age band, against the freshness
 *                targets, beside the fixed poll tiers of commit e3d5b27
 *                replayed on the same curves; how long a new post takes to be
 *                seen.
 *   4. runs      each world (regular and busy, joined and not) runs its first
 *                pass and warm-up without a budget, then a window without one
 *                (demand: what the schedule asks for, and from it the channels
 *                one account serves), then a window held to
 *                DEFAULT_RATE_LIMITS (one account serving 1,000 regular or
 *                400 busy channels). Check runs at the computed capacity are
 *                held to DEFAULT_RATE_LIMITS from the start. Each run is a
 *                child process of this file, two at a time
 *                (BENCH_MTPROTO_PARALLEL).
 *
 * The clock is a discrete-event one: a rate-limiter wait is a timer, and time
 * moves to the next timer only once every job is blocked on a timer (no
 * control-plane query in flight, no fake answer pending). Waiters that wake at
 * the same instant see the same clock, as real timers would. (The test
 * harness's clock, test/support/mtproto.ts, advances by each sleeper's wait in
 * turn, so N concurrent waiters move it N times too far: fine for a test of
 * one call, wrong for an account with hundreds of calls waiting. That is why
 * this bench wires the same parts itself.)
 *
 * Sizes: BENCH_MTPROTO_CHANNELS (1000), BENCH_MTPROTO_POSTS (50 over 7 days),
 * BENCH_MTPROTO_BUSY_POSTS_PER_DAY (50), BENCH_MTPROTO_BUSY_CHANNELS (400;
 * see the note printed), BENCH_MTPROTO_ACCOUNTS (1), BENCH_MTPROTO_WARMUP_HOURS
 * (7), BENCH_MTPROTO_HOURS (2, each measured window),
 * BENCH_MTPROTO_STATS_PERCENT (10), BENCH_MTPROTO_PARALLEL (2).
 */
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Pool } from 'pg';
import { Registry } from 'prom-client';
import { dieWithParent } from '../clickhouse/local-server/child.ts';
import { addAccount } from '../control/mtproto-accounts.ts';
import { openControlPlane } from '../control/postgres.ts';
import { encryptSession } from '../control/session-crypto.ts';
import { upsertChannel } from '../control/tracked-channels.ts';
import { AccountSession, DEFAULT_RATE_LIMITS, type RateLimits } from '../ingest/mtproto/account.ts';
import { Collector } from '../ingest/mtproto/collector.ts';
import { DEFAULT_COLLECTOR_SCHEDULE } from '../ingest/mtproto/config.ts';
import { CollectorMetrics } from '../ingest/mtproto/metrics.ts';
import { FLAT_GROWTH, FLAT_STRETCH, freshnessOf, IDS_PER_CALL, maxPollAge } from '../ingest/mtproto/schedule.ts';
import type { CollectorSchedule } from '../ingest/mtproto/work.ts';
import { silentLogger } from '../observability/log.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../common/index.ts';
import { FakeTelegram } from '../test/support/fake-telegram.ts';
import {
  BROADCAST_GRAPHS,
  E3D5B27_READ_AGES,
  E3D5B27_TIERS,
  type Posting,
  type Quality,
  QualityBook,
  TRUTH,
  World,
} from './mtproto-world.ts';

/** One collector pass per simulated minute. */
const TICK_MS = MINUTE_MS;
/** Leases outlive many passes; see the Collector's options in run(). */
const LEASE_TTL_MS = 30 * MINUTE_MS;
/** Data quality is sampled this often in the measured window. */
const SAMPLE_EVERY_MS = 10 * MINUTE_MS;
/** Days of posts the freshness targets cover (their oldest band). */
const POLLED_DAYS = maxPollAge(DEFAULT_COLLECTOR_SCHEDULE.freshness) / DAY_MS;
/** Methods an account calls for itself, not per channel. */
const PER_ACCOUNT_METHODS = new Set(['updates.GetState', 'users.GetUsers']);

function envInt(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new RangeError(`${name} must be an integer in ${min}..${max}, got ${raw}`);
  return value;
}

const CHANNELS = envInt('BENCH_MTPROTO_CHANNELS', 1000, 1, 100_000);
const POSTS = envInt('BENCH_MTPROTO_POSTS', 50, 1, 10_000);
const BUSY_POSTS_PER_DAY = envInt('BENCH_MTPROTO_BUSY_POSTS_PER_DAY', 50, 1, 10_000);
const BUSY_CHANNELS = envInt('BENCH_MTPROTO_BUSY_CHANNELS', 400, 1, 100_000);
const ACCOUNTS = envInt('BENCH_MTPROTO_ACCOUNTS', 1, 1, 100);
const WARMUP_HOURS = envInt('BENCH_MTPROTO_WARMUP_HOURS', 7, 0, 168);
const HOURS = envInt('BENCH_MTPROTO_HOURS', 2, 1, 168);
const STATS_PERCENT = envInt('BENCH_MTPROTO_STATS_PERCENT', 10, 0, 100);
/** Runs at a time, each in its own process (2: this machine's cores). */
const PARALLEL = envInt('BENCH_MTPROTO_PARALLEL', 2, 1, 16);

/** No budget at all: what the schedule asks for. */
const UNLIMITED: RateLimits = { default: 1e12, total: 1e12, methods: {} };

// ---- virtual clock ----------------------------------------------------------

/**
 * Time that moves only when the bench moves it: sleepers wait for an
 * instant; instants wake in time order, the sleepers of one instant together
 * and in the order they fell asleep, as real timers of one instant would.
 * Sleepers are grouped by instant because a starved account's herd of
 * waiters all pick the same one.
 */
class VirtualClock {
  now: number;
  /** Sleeps so far: the rate limiter's waits, and part of the activity signature. */
  scheduled = 0;
  readonly #sleepers = new Map<number, Array<() => void>>();
  /** Instants with sleepers, a min-heap. */
  readonly #instants: number[] = [];

  constructor(
    start: number,
    private readonly onMove: (now: number) => void,
  ) {
    this.now = start;
    onMove(start);
  }

  /** What AccountSession waits with. */
  readonly sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      this.scheduled++;
      const at = this.now + Math.max(0, ms);
      const group = this.#sleepers.get(at);
      if (group) group.push(resolve);
      else {
        this.#sleepers.set(at, [resolve]);
        heapPush(this.#instants, at);
      }
    });

  moveTo(t: number): void {
    if (t > this.now) {
      this.now = t;
      this.onMove(t);
    }
  }

  /** Whether anyone sleeps. */
  waiting(): boolean {
    return this.#instants.length > 0;
  }

  /** Wakes the sleepers of the earliest instant before `limit`; false when there is none. */
  wakeNext(limit = Number.POSITIVE_INFINITY): boolean {
    const at = this.#instants[0];
    if (at === undefined || at >= limit) return false;
    heapPop(this.#instants);
    this.moveTo(at);
    const group = this.#sleepers.get(at)!;
    this.#sleepers.delete(at);
    for (const wake of group) wake();
    return true;
  }
}

function heapPush(h: number[], v: number): void {
  h.push(v);
  for (let i = h.length - 1; i > 0; ) {
    const parent = (i - 1) >> 1;
    if (h[parent] <= h[i]) break;
    [h[i], h[parent]] = [h[parent], h[i]];
    i = parent;
  }
}

function heapPop(h: number[]): void {
  const last = h.pop()!;
  if (!h.length) return;
  h[0] = last;
  for (let i = 0; ; ) {
    const l = 2 * i + 1;
    const r = l + 1;
    let m = i;
    if (l < h.length && h[l] < h[m]) m = l;
    if (r < h.length && h[r] < h[m]) m = r;
    if (m === i) break;
    [h[i], h[m]] = [h[m], h[i]];
    i = m;
  }
}

// ---- measurements -----------------------------------------------------------

/** Requests by method and by account (plain data: it crosses from a run's process as JSON). */
interface Tally {
  byMethod: Map<string, number>;
  byAccount: Map<string, number>;
  total: number;
}

function tally(requests: ReadonlyArray<{ className: string; account: string }> = []): Tally {
  const t: Tally = { byMethod: new Map(), byAccount: new Map(), total: 0 };
  count(t, requests);
  return t;
}

function count(t: Tally, requests: ReadonlyArray<{ className: string; account: string }>): void {
  for (const r of requests) {
    t.byMethod.set(r.className, (t.byMethod.get(r.className) ?? 0) + 1);
    t.byAccount.set(r.account, (t.byAccount.get(r.account) ?? 0) + 1);
    t.total++;
  }
}

/** Counts control-plane queries and transactions, and the wall time during which at least one was in flight. */
function countingPool(pool: Pool): { pool: Pool; stats: { queries: number; transactions: number; busyMs: number } } {
  const stats = { queries: 0, transactions: 0, busyMs: 0 };
  let inflight = 0;
  let since = 0;
  const started = () => {
    if (inflight++ === 0) since = performance.now();
  };
  const ended = () => {
    if (--inflight === 0) stats.busyMs += performance.now() - since;
  };
  const proxy = new Proxy(pool, {
    get(target, prop) {
      if (prop === 'query') {
        return (...args: unknown[]) => {
          stats.queries++;
          started();
          const p = (target.query as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          p.then(ended, ended);
          return p;
        };
      }
      if (prop === 'connect') {
        // A checked-out client (a transaction) counts as in flight until it is released.
        return async () => {
          stats.transactions++;
          started();
          const client = await target.connect().catch((err: unknown) => {
            ended();
            throw err;
          });
          const release = client.release;
          client.release = (err?: Error | boolean) => {
            client.release = release;
            ended();
            return release.call(client, err);
          };
          return client;
        };
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { pool: proxy, stats };
}

// ---- one run ----------------------------------------------------------------

/** A measured window of a run: its length and the account's budget in it. */
interface WindowSpec {
  name: string;
  limits: RateLimits;
  hours: number;
}

interface RunSpec {
  title: string;
  posting: Posting;
  channels: number;
  accounts: number;
  /** The accounts are members of every channel (pushes), or of none (the periodic difference). */
  joined: boolean;
  /** The measured windows, one after the other; the first pass and the warm-up run under the first one's budget. */
  windows: WindowSpec[];
  seed: number;
}

/** How the collector itself sees its posts at the end (what `tgpulse status` reports). */
interface CollectorView {
  channels: number;
  /** Channels with every polled post within its allowance. */
  freshChannels: number;
  posts: number;
  /** Polled posts past their allowance. */
  late: number;
  /** The worst staleness as a multiple of its allowance. */
  worst: number;
}

interface WindowResult {
  spec: WindowSpec;
  steady: Tally;
  wallMs: number;
  /** Post counters read in the window (post_counters events). */
  reads: number;
  quality: Quality;
  /** At the window's end. */
  view: CollectorView;
  /** Rate-limiter waits in the window. */
  waits: number;
  control: { queries: number; transactions: number; busyMs: number };
}

interface RunResult {
  spec: RunSpec;
  firstPass: Tally;
  firstPassVirtualMs: number;
  firstPassWallMs: number;
  warmupWallMs: number;
  windows: WindowResult[];
  firstPassControl: { queries: number; transactions: number; busyMs: number };
  warmupControl: { queries: number; transactions: number; busyMs: number };
  setupWallMs: number;
  /** Over the whole run. */
  rateLimitedWaits: number;
  jobFailures: number;
  rssAfter: number;
  peakRss: number;
}

/** Runs the real collector over a fresh world and control plane; see the file comment. */
async function run(spec: RunSpec): Promise<RunResult> {
  const setupStart = performance.now();
  const schedule: CollectorSchedule = DEFAULT_COLLECTOR_SCHEDULE;
  const world = new World({
    channels: spec.channels,
    posting: spec.posting,
    statsShare: STATS_PERCENT / 100,
    seed: spec.seed,
    joined: spec.joined,
    polledDays: POLLED_DAYS,
    alignMs: TICK_MS,
  });
  const { tg } = world;
  const clock = new VirtualClock(tg.now * 1000, (now) => (tg.now = Math.floor(now / 1000)));
  // PGlite writes through the file system on every query: a RAM-backed folder keeps the disk out of the figures.
  const dataDir = await mkdtemp(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'tgpulse-bench-mtproto-'));
  const control = await openControlPlane({ driver: 'embedded', path: join(dataDir, 'pglite') });
  const counted = countingPool(control.pool);
  const registry = new Registry();
  const metrics = new CollectorMetrics(registry);
  // The budget the sessions read at each call: the windows change it in place.
  const limits: RateLimits = structuredClone(spec.windows[0].limits);
  const labels: string[] = [];
  const accounts: AccountSession[] = [];
  let activity = 0;
  let recording = false;
  let reads = 0;
  try {
    const key = randomBytes(32);
    for (let i = 0; i < spec.accounts; i++) {
      const label = `bench-${i}`;
      const stored = await addAccount(control.pool, {
        phone: `+1555${String(1_000_000 + spec.seed * 100 + i)}`,
        sealSession: (id) => encryptSession('fake-session', key, id),
        userId: String(1000 + i),
      });
      const client = await tg.client({ account: label });
      labels.push(label);
      // No metrics on the sessions: a starved account's limiter waits run into the tens of millions and prom-client's
      // label lookups would dominate the bench; the clock counts the waits instead.
      accounts.push(
        new AccountSession({
          accountId: stored.id,
          client,
          limits,
          log: silentLogger,
          clock: () => clock.now,
          sleep: clock.sleep,
        }),
      );
    }
    for (const ch of world.channels) {
      const f = ch.fake;
      await upsertChannel(control.pool, {
        channelId: f.id,
        username: null,
        title: f.title,
        accessHash: f.accessHash,
        canViewStats: f.canViewStats,
        statsDc: null,
        members: f.members,
      });
    }
    const collector = new Collector({
      holder: `bench-${spec.seed}`,
      accounts,
      control: counted.pool,
      emit: async (job, events) => {
        activity++;
        world.noteReads(events);
        if (recording && job === 'counters') reads += events.length;
      },
      deadLetter: async () => {
        activity++;
      },
      schedule,
      // Renewed every LEASE_TTL_MS / 3: leases never lapse, and the control plane does not renew
      // a thousand leases every simulated minute (it dominated the bench's time; no Telegram request depends on it).
      leaseTtlMs: LEASE_TTL_MS,
      channelsPerAccount: Math.ceil(spec.channels / spec.accounts),
      tickMs: TICK_MS,
      log: silentLogger,
      metrics,
      clock: () => clock.now,
    });
    const setupWallMs = performance.now() - setupStart;

    /** Resolves once nothing can move without the clock: no query in flight, no answer pending, nothing new for a few turns. */
    const quiesce = async (): Promise<void> => {
      const signature = () => `${tg.requests.length}:${clock.scheduled}:${activity}`;
      let seen = signature();
      for (let quiet = 0; quiet < 3; ) {
        await new Promise((resolve) => setImmediate(resolve));
        const now = signature();
        const pgBusy = control.pool.totalCount - control.pool.idleCount + control.pool.waitingCount > 0;
        if (pgBusy || now !== seen) {
          quiet = 0;
          seen = now;
        } else quiet++;
      }
    };
    /** Lets the world run up to `t` (exclusive), waking sleepers in time order. */
    const runUntil = async (t: number): Promise<void> => {
      for (;;) {
        await quiesce();
        if (!clock.wakeNext(t)) break;
      }
      clock.moveTo(t);
    };

    /** The world posts and drifts up to `t`; Telegram pushes each new post to the accounts that are members. */
    const publish = (t: number): void => {
      for (const post of world.advance(t)) {
        for (const label of labels) if (post.channel.isMember(label)) tg.push(label, post.update);
      }
    };

    // First pass: every channel's first jobs, until all of them finished; the world keeps posting meanwhile.
    const firstStart = clock.now;
    const firstWall = performance.now();
    await collector.step();
    let idle = false;
    void collector.idle().then(() => (idle = true));
    for (let nextTick = firstStart + TICK_MS; ; ) {
      await quiesce();
      if (idle) break;
      if (clock.wakeNext(nextTick)) continue;
      if (!clock.waiting())
        throw new Error('the first pass is stuck: collector jobs wait on something other than the clock');
      clock.moveTo(nextTick);
      publish(nextTick);
      nextTick += TICK_MS;
    }
    const firstPass = tally(tg.requests.splice(0));
    const firstPassVirtualMs = clock.now - firstStart;
    const firstPassWallMs = performance.now() - firstWall;
    const firstPassControl = { ...counted.stats };

    // Warm-up, unmeasured: a pass every tick, new posts pushed (or not) before it.
    const warmStart = Math.ceil((clock.now + 1) / TICK_MS) * TICK_MS;
    const windowStart = warmStart + WARMUP_HOURS * HOUR_MS;
    const warmWall = performance.now();
    for (let t = warmStart; t < windowStart; t += TICK_MS) {
      await runUntil(t);
      tg.requests.length = 0;
      publish(t);
      await collector.step();
    }
    await runUntil(windowStart);
    tg.requests.length = 0;
    const warmupWallMs = performance.now() - warmWall;

    const warmupControl = { ...counted.stats };

    // The measured windows: the same passes, counted and sampled.
    const windows: WindowResult[] = [];
    let from = windowStart;
    for (const w of spec.windows) {
      Object.assign(limits, structuredClone(w.limits));
      const book = new QualityBook(schedule.freshness);
      const steady = tally();
      const end = from + w.hours * HOUR_MS;
      const wall = performance.now();
      const waitsBefore = clock.scheduled;
      const controlBefore = { ...counted.stats };
      reads = 0;
      recording = true;
      for (let t = from; t < end; t += TICK_MS) {
        await runUntil(t);
        count(steady, tg.requests.splice(0));
        if ((t - from) % SAMPLE_EVERY_MS === 0) book.sample(world, t);
        publish(t);
        await collector.step();
      }
      await runUntil(end);
      count(steady, tg.requests.splice(0));
      recording = false;
      const view: CollectorView = { channels: 0, freshChannels: 0, posts: 0, late: 0, worst: 0 };
      for (const work of collector.works.values()) {
        const f = freshnessOf(work.posts.values(), work.curve, end, schedule.freshness);
        view.channels++;
        if (f.withinTarget === f.posts) view.freshChannels++;
        view.posts += f.posts;
        view.late += f.posts - f.withinTarget;
        view.worst = Math.max(view.worst, f.worst);
      }
      windows.push({
        spec: w,
        steady,
        wallMs: performance.now() - wall,
        reads,
        quality: book.result(world, from, end),
        view,
        waits: clock.scheduled - waitsBefore,
        control: {
          queries: counted.stats.queries - controlBefore.queries,
          transactions: counted.stats.transactions - controlBefore.transactions,
          busyMs: counted.stats.busyMs - controlBefore.busyMs,
        },
      });
      from = end;
    }
    const jobFailures = ((await metrics.jobFailures.get()).values ?? []).reduce((n, v) => n + v.value, 0);
    return {
      spec,
      firstPass,
      firstPassVirtualMs,
      firstPassWallMs,
      warmupWallMs,
      windows,
      firstPassControl,
      warmupControl,
      setupWallMs,
      rateLimitedWaits: clock.scheduled,
      jobFailures,
      rssAfter: process.memoryUsage().rss,
      peakRss: 0,
    };
  } finally {
    // Jobs still waiting on the virtual clock are left unresolved; nothing else holds the process.
    for (const a of accounts) await FakeTelegram.close(a.client);
    await control.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

// ---- budget arithmetic --------------------------------------------------------

/** Per-method limit per hour under `limits`. */
function limitPerHour(limits: RateLimits, method: string): number {
  return (limits.methods[method] ?? limits.default) * 60;
}

interface Capacity {
  channels: number;
  binding: string;
  rows: Array<{ method: string; limitPerHour: number; perChannelHour: number; channels: number }>;
}

/**
 * Channels one account serves within `limits`, given each method's demand per
 * channel-hour and the account's own calls per hour.
 */
function capacity(
  perChannelHour: ReadonlyMap<string, number>,
  perAccountHour: ReadonlyMap<string, number>,
  limits: RateLimits,
): Capacity {
  const rows: Capacity['rows'] = [];
  let total = 0;
  for (const [method, d] of perChannelHour) {
    if (d <= 0) continue;
    total += d;
    const limit = limitPerHour(limits, method);
    rows.push({
      method,
      limitPerHour: limit,
      perChannelHour: d,
      channels: Math.max(0, (limit - (perAccountHour.get(method) ?? 0)) / d),
    });
  }
  const own = [...perAccountHour.values()].reduce((a, b) => a + b, 0);
  rows.sort((a, b) => a.channels - b.channels);
  rows.push({
    method: 'all methods (total)',
    limitPerHour: limits.total * 60,
    perChannelHour: total,
    channels: Math.max(0, (limits.total * 60 - own) / total),
  });
  const binding = rows.reduce((a, b) => (b.channels < a.channels ? b : a));
  return { channels: Math.floor(binding.channels), binding: binding.method, rows };
}

/**
 * Demand per channel-hour by method, from a run's first window: its calls,
 * plus the first pass's stats calls spread over the stats interval.
 */
function demandOf(
  r: RunResult,
  schedule: CollectorSchedule,
): { perChannel: Map<string, number>; perAccount: Map<string, number> } {
  const perChannel = new Map<string, number>();
  const perAccount = new Map<string, number>();
  const w = r.windows[0];
  for (const [method, n] of w.steady.byMethod) {
    if (PER_ACCOUNT_METHODS.has(method)) perAccount.set(method, n / w.spec.hours / r.spec.accounts);
    else if (!method.startsWith('stats.')) perChannel.set(method, n / w.spec.hours / r.spec.channels);
  }
  // The window is shorter than the stats interval: one stats run per channel, as the first pass made, every statsEveryMs.
  for (const [method, n] of r.firstPass.byMethod) {
    if (method.startsWith('stats.'))
      perChannel.set(method, (perChannel.get(method) ?? 0) + n / r.spec.channels / (schedule.statsEveryMs / HOUR_MS));
  }
  return { perChannel, perAccount };
}

/** Post reads per channel-hour the freshness targets need on paper, what the e3d5b27 tiers read, and what was measured. */
function printOnPaper(label: string, posting: Posting, schedule: CollectorSchedule, runs: RunResult[]): void {
  let from = 0;
  let perPost = 0;
  for (const t of schedule.freshness) {
    perPost += (t.maxAgeMs - from) / t.staleMs;
    from = t.maxAgeMs;
  }
  const reads = (posting.postsPerDay * perPost) / 24;
  const before = (posting.postsPerDay * E3D5B27_READ_AGES.length) / 24;
  process.stdout.write(
    `${label}: post reads on paper (${fmt(posting.postsPerDay, 2)} posts a day × reads per post over its ${POLLED_DAYS} days / 24)\n`,
  );
  line(
    '  at the freshness targets, none stretched',
    `${fmt(reads, 1)} reads per channel-h (${fmt(perPost)} per post); full calls of ${IDS_PER_CALL} ids would need ${fmt(reads / IDS_PER_CALL, 2)}`,
  );
  line(
    '  e3d5b27 tiers',
    `${fmt(before, 1)} reads per channel-h (${E3D5B27_READ_AGES.length} per post), each read in a getMessagesViews and a getMessagesReactions call`,
  );
  for (const r of runs) {
    const w = r.windows[0];
    const calls = w.steady.byMethod.get('channels.GetMessages') ?? 0;
    const perCh = (n: number) => n / w.spec.hours / r.spec.channels;
    line(
      `  measured, ${r.spec.joined ? 'joined' : 'not joined'}`,
      `${fmt(perCh(w.reads), 1)} reads per channel-h in ${fmt(perCh(calls), 2)} getMessages calls (${fmt(w.reads / Math.max(1, calls), 1)} ids per call)`,
    );
  }
}

// ---- printing -----------------------------------------------------------------

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const mins = (ms: number) => (ms < HOUR_MS ? `${fmt(ms / MINUTE_MS, 1)} min` : `${fmt(ms / HOUR_MS, 1)} h`);
const pct = (x: number, digits = 1) => `${fmt(100 * x, digits)}%`;
function line(label: string, value: string): void {
  process.stdout.write(`${label.padEnd(46)} ${value}\n`);
}
function heading(text: string): void {
  process.stdout.write(`\n== ${text} ==\n`);
}
const controlLine = (
  c: { queries: number; transactions: number; busyMs: number },
  channelHours: number,
  wallMs: number,
) =>
  `${fmt(c.queries)} queries + ${fmt(c.transactions)} transactions (${fmt((c.queries + c.transactions) / channelHours, 1)} per channel-hour), in flight ${fmt(c.busyMs / 1000, 1)} s of ${fmt(wallMs / 1000, 1)} s wall`;

function printQuality(q: Quality): void {
  const postSamples = q.bands.reduce((n, b) => n + b.samples, 0);
  process.stdout.write(
    `data quality against the true counters: every ${SAMPLE_EVERY_MS / MINUTE_MS} min of the window (${q.samples} samples, ${fmt(postSamples)} post-samples)\n`,
  );
  const cols = (cells: string[]) =>
    `  ${cells[0].padEnd(10)}${cells[1].padStart(8)}${cells[2].padStart(9)}${cells[3].padStart(22)}${cells[4].padStart(10)}${cells[5].padStart(9)}${cells[6].padStart(20)}${cells[7].padStart(22)}\n`;
  process.stdout.write(
    cols([
      'age band',
      'target',
      'posts',
      'staleness p50 / p95',
      '≤ target',
      `≤ ${FLAT_STRETCH}×`,
      'views error p50/p95',
      'e3d5b27 tiers p50/p95',
    ]),
  );
  for (const b of q.bands) {
    process.stdout.write(
      cols([
        b.label,
        mins(b.targetMs),
        fmt(b.samples / Math.max(1, q.samples)),
        `${mins(b.staleness[0])} / ${mins(b.staleness[1])}`,
        pct(b.withinTarget),
        pct(b.withinFlat),
        `${pct(b.error[0], 2)} / ${pct(b.error[1], 2)}`,
        `${pct(b.before[0], 2)} / ${pct(b.before[1], 2)}`,
      ]),
    );
  }
  const d = q.discovery;
  line(
    'new posts: date -> first read (p50 / p95 / max)',
    `${mins(d.p50)} / ${mins(d.p95)} / ${mins(d.max)} over ${fmt(d.read)} posts of the window; ${fmt(d.unread)} not read by its end`,
  );
  line(
    'older posts never read (lost)',
    `${fmt(q.neverRead)} (dated before the window, younger than ${POLLED_DAYS} days)`,
  );
}

function printWindow(r: RunResult, w: WindowResult): void {
  const { spec } = r;
  const held = w.spec.limits !== UNLIMITED;
  const hours = w.spec.hours;
  process.stdout.write(
    `-- ${w.spec.name}: ${hours} h window, ${fmt(w.wallMs / 1000, 1)} s wall (requests per hour per account; per channel-hour) --\n`,
  );
  const perHour = (n: number) => n / hours / spec.accounts;
  for (const [m, n] of [...w.steady.byMethod].sort((a, b) => b[1] - a[1])) {
    const limit = held ? `   (limit ${fmt(limitPerHour(w.spec.limits, m))}/h)` : '';
    line(`  ${m}`, `${fmt(perHour(n)).padStart(9)} /h   ${fmt(n / hours / spec.channels, 2).padStart(7)}${limit}`);
  }
  const totalLimit = held ? `   (limit ${fmt(w.spec.limits.total * 60)}/h)` : '';
  line(
    '  total',
    `${fmt(perHour(w.steady.total)).padStart(9)} /h   ${fmt(w.steady.total / hours / spec.channels, 2).padStart(7)}${totalLimit}`,
  );
  const calls = w.steady.byMethod.get('channels.GetMessages') ?? 0;
  line(
    'post reads in the window',
    `${fmt(w.reads)} in ${fmt(calls)} channels.GetMessages calls (${fmt(w.reads / Math.max(1, calls), 1)} ids per call)`,
  );
  printQuality(w.quality);
  const v = w.view;
  line(
    "the collector's own view at the end",
    `${fmt(v.freshChannels)} of ${fmt(v.channels)} channels with every post within its allowance; ${fmt(v.late)} of ${fmt(v.posts)} posts past it (worst ${Number.isFinite(v.worst) ? `${fmt(v.worst, 2)}×` : 'a post never read'})`,
  );
  line('rate-limiter waits in the window', fmt(w.waits));
  line('control plane in the window', controlLine(w.control, spec.channels * hours, w.wallMs));
}

function printRun(r: RunResult): void {
  const { spec } = r;
  heading(spec.title);
  line(
    'world',
    `${fmt(spec.channels)} channels, ${spec.posting.describe}, ${spec.accounts} account(s) ${spec.joined ? 'joined to every channel' : 'joined to none'}, stats on ${STATS_PERCENT}%`,
  );
  line('setup (world, control plane, accounts, channels)', `${fmt(r.setupWallMs / 1000, 1)} s wall`);
  const fp = r.firstPass;
  line(
    `first pass (${spec.windows[0].name})`,
    `${fmt(fp.total)} requests (${fmt(fp.total / spec.channels, 2)} per channel), ${mins(r.firstPassVirtualMs)} simulated, ${fmt(r.firstPassWallMs / 1000, 1)} s wall`,
  );
  for (const [m, n] of [...fp.byMethod].sort((a, b) => b[1] - a[1])) line(`  ${m}`, fmt(n));
  const fc = r.firstPassControl;
  line(
    '  control plane (embedded PGlite)',
    controlLine(fc, spec.channels, r.firstPassWallMs).replace('channel-hour', 'channel'),
  );
  line('warm-up (unmeasured)', `${WARMUP_HOURS} h simulated, ${fmt(r.warmupWallMs / 1000, 1)} s wall`);
  const wc = r.warmupControl;
  line(
    '  control plane',
    controlLine(
      {
        queries: wc.queries - fc.queries,
        transactions: wc.transactions - fc.transactions,
        busyMs: wc.busyMs - fc.busyMs,
      },
      spec.channels * WARMUP_HOURS,
      r.warmupWallMs,
    ),
  );
  for (const w of r.windows) printWindow(r, w);
  line('rate-limiter waits (whole run) / failed jobs', `${fmt(r.rateLimitedWaits)} / ${fmt(r.jobFailures)}`);
  line('RSS after the run / peak', `${fmt(r.rssAfter / 2 ** 20)} / ${fmt(r.peakRss / 2 ** 20)} MiB`);
}

function printCapacity(label: string, r: RunResult, schedule: CollectorSchedule): Capacity {
  const { perChannel, perAccount } = demandOf(r, schedule);
  const cap = capacity(perChannel, perAccount, DEFAULT_RATE_LIMITS);
  process.stdout.write(`${label}: measured demand per channel-hour against DEFAULT_RATE_LIMITS (one account)\n`);
  for (const row of cap.rows) {
    const mark = row.method === cap.binding ? '  <- binding' : '';
    line(
      `  ${row.method}`,
      `${fmt(row.perChannelHour, 2).padStart(7)} per channel-h, limit ${fmt(row.limitPerHour).padStart(6)}/h -> ${fmt(Math.floor(row.channels)).padStart(6)} channels${mark}`,
    );
  }
  line(`  per-account calls`, [...perAccount].map(([m, n]) => `${m} ${fmt(n, 1)}/h`).join(', ') || 'none');
  line(`  => channels one account serves`, `${fmt(cap.channels)} (bound by ${cap.binding})`);
  return cap;
}

function printAssumptions(): void {
  const l = DEFAULT_RATE_LIMITS;
  const s = DEFAULT_COLLECTOR_SCHEDULE;
  const methods = Object.entries(l.methods)
    .map(([m, n]) => `${m} ${n}`)
    .join(', ');
  const targets = s.freshness.map((t) => `${mins(t.staleMs)} < ${mins(t.maxAgeMs)}`).join(', ');
  const tiers = E3D5B27_TIERS.map((t) => `${mins(t.everyMs)} < ${mins(t.maxAgeMs)}`).join(', ');
  const n = s.nets;
  process.stdout.write(`
Assumptions
  - Telegram publishes no request limits for user (MTProto) accounts. Its error reference only says that
    FLOOD_WAIT_X (420) means "wait X seconds" once a method was called too often; the thresholds are
    undocumented, vary by method and account, and are learnt from FLOOD_WAITs in practice. Heavy
    messages.getHistory and counter reads, and bursts of contacts.resolveUsername, are the calls collectors
    commonly report FLOOD_WAITs on.
  - So the budget is ours: DEFAULT_RATE_LIMITS (ingest/mtproto/account.ts) holds each account to
    ${l.default}/min per method, ${l.total}/min over all methods, and less for heavy or sensitive calls (${methods}).
    That is one call every 2 s per method and one every 0.5 s overall: a pace a person's client reaches while
    scrolling, well below what triggers waits in practice, leaving headroom for pushes and retries.
    "Serves" means the demand per hour fits every one of these limits.
  - Schedule: DEFAULT_COLLECTOR_SCHEDULE. Counters have freshness targets by post age (${targets};
    older posts are not read); a post whose views flattened (expected growth over its target < ${pct(FLAT_GROWTH, 0)}) may go
    up to ${FLAT_STRETCH}× its target. When any post of a channel is due, one channels.getMessages call reads it, filled up
    to ${IDS_PER_CALL} ids with the posts closest to due: views, forwards, replies and reactions in one call.
  - Safety nets adapt: member snapshots (channels.getFullChannel) are spaced by how fast the member count moves
    (${mins(n.membersFloorMs)} .. ${mins(n.membersCeilingMs)}); a joined channel gets no periodic updates.getChannelDifference (pushes, and a pts
    check in a member snapshot at least every ${mins(n.confirmMs)}, replace it); a channel not joined gets one from ${mins(n.differenceFloorMs)},
    growing ×1.5 while empty up to ${mins(n.differenceCeilingMs)}. Stats every ${mins(s.statsEveryMs)}, keep-alive every ${mins(s.keepAliveEveryMs)} per account.
  - Membership: joined = the account is a member of every channel and Telegram pushes each new post to it;
    not joined (the default: joining is off, and an account may be a member of ~500 channels at most) = nothing
    is pushed. Joined runs above ~500 channels on one account are what-ifs.
  - Truth: each channel has V∞ = members × reach (reach uniform ${TRUTH.reach[0]}–${TRUTH.reach[1]}) and τ uniform ${TRUTH.tauHours[0]}–${TRUTH.tauHours[1]} h;
    each post views(age) = V∞ × m × (1 − exp(−age/τ)) with m = exp(N(0, ${TRUTH.postSigma})), forwards ${pct(TRUTH.forwardsShare, 0)} and one reaction
    emoji ${pct(TRUTH.reactionShare, 0)} of views. getMessages and getChannelDifference answer the true counters at the time of the
    call; a pushed post carries those of its posting (0 views); getHistory those of the world's start (the first
    pass reads it). Members drift by ~${pct(TRUTH.membersDriftPerHour, 2)}/h of the count per channel (a random sign and size).
  - Fidelity traded for time: channels.getMessages is answered from the fake's world without its serialization
    round trip, and a channel difference lists only its own channel in \`chats\` (the fake lists every channel:
    O(channels²)); leases are renewed every ${mins(LEASE_TTL_MS / 3)} rather than every pass. No Telegram request depends on these.
  - Runs: each world (profile × membership) runs its first pass and warm-up without a budget, then a ${HOURS} h window
    without a budget (its demand: requests per channel-hour, capacity), then ${HOURS} h held to DEFAULT_RATE_LIMITS (one account
    serving that many channels). Check runs at the computed capacity are held to DEFAULT_RATE_LIMITS from the start.
  - Data quality: every ${SAMPLE_EVERY_MS / MINUTE_MS} min of a window, every post younger than ${POLLED_DAYS} days: staleness = now − its last
    read (a post_counters event, or the counters of a post event), its age while never read; error = (true views −
    views held) / true views (a post never read holds 0). Beside it the fixed poll tiers of commit e3d5b27
    (${tiers}), each post read exactly on schedule from its date, on the same curves.
  - Official stats: ${STATS_PERCENT}% of channels; every one of the ${BROADCAST_GRAPHS.length} broadcast graphs comes async (one
    stats.loadAsyncGraph each), the costliest case, plus stats.getMessageStats and getMessagePublicForwards
    for the ${s.topPostsForStats} top recent posts. A window (${HOURS} h) is shorter than the stats interval: stats are counted from
    the first pass, which runs each stats channel once, spread over ${mins(s.statsEveryMs)}.
  - The first pass reads every post at once; ${WARMUP_HOURS} h of unmeasured passes follow, so every post was read at least
    twice and the ${mins(s.freshness[s.freshness.length - 1].staleMs)} band has cycled before the first window.
  - The world's history covers the ${POLLED_DAYS} polled days; backfill (${s.backfillDays} days by default) of an older channel
    reads one getHistory page per 100 posts more in its first passes.
`);
}

// ---- runs in child processes ------------------------------------------------------

/** Maps survive JSON as tagged entry lists. */
const toJson = (_key: string, value: unknown) => {
  if (value instanceof Map) return { $map: [...value] };
  if (value === UNLIMITED) return { $unlimited: true };
  if (typeof value === 'number' && !Number.isFinite(value)) return { $number: String(value) };
  return value;
};
const fromJson = (_key: string, value: unknown) => {
  if (value && typeof value === 'object' && '$map' in value) return new Map(value.$map as Array<[unknown, unknown]>);
  if (value && typeof value === 'object' && '$unlimited' in value) return UNLIMITED;
  if (value && typeof value === 'object' && '$number' in value) return Number(value.$number);
  return value;
};

/** Live child processes, for the peak RSS of the whole bench. */
const children = new Set<number>();

function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * Runs one world in a child process (this file, with BENCH_MTPROTO_RUN set):
 * runs share nothing, and a 2-core machine runs two at once.
 */
function inChild(spec: RunSpec): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    // A run dies with the bench (pdeathsig), also when the bench fails on another run or is killed.
    const [cmd, ...prefix] = [...dieWithParent(), process.execPath];
    const child = spawn(cmd, [...prefix, ...process.execArgv, fileURLToPath(import.meta.url)], {
      env: { ...process.env, BENCH_MTPROTO_RUN: JSON.stringify(spec, toJson) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    if (child.pid !== undefined) children.add(child.pid);
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (child.pid !== undefined) children.delete(child.pid);
      if (code === 0) resolve(JSON.parse(out, fromJson) as RunResult);
      else reject(new Error(`run "${spec.title}" ended with ${signal ?? `exit code ${code}`}`));
    });
  });
}

/** Runs `specs`, `PARALLEL` at a time, longest first; results in the order given. */
async function runAll(specs: RunSpec[]): Promise<RunResult[]> {
  const cost = (s: RunSpec) => s.channels * s.posting.postsPerDay ** 0.6 * (s.joined ? 1 : 1.1);
  const order = specs.map((_, i) => i).sort((a, b) => cost(specs[b]) - cost(specs[a]));
  const out: RunResult[] = new Array(specs.length);
  const worker = async () => {
    for (let i = order.shift(); i !== undefined; i = order.shift()) out[i] = await inChild(specs[i]);
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, specs.length) }, worker));
  return out;
}

/** The child's side: one run, its result as JSON on stdout. */
async function runOne(json: string): Promise<void> {
  let peakRss = 0;
  const timer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 200);
  const result = await run(JSON.parse(json, fromJson) as RunSpec);
  clearInterval(timer);
  result.peakRss = Math.max(peakRss, result.rssAfter);
  process.stdout.write(JSON.stringify(result, toJson));
  // Jobs left waiting on the virtual clock hold nothing, but say so plainly.
  process.exit(0);
}

async function main(): Promise<void> {
  const wallStart = performance.now();
  let peakRss = 0;
  const rssTimer = setInterval(() => {
    let sum = process.memoryUsage().rss;
    for (const pid of children) sum += rssOf(pid);
    peakRss = Math.max(peakRss, sum);
  }, 200);
  const schedule = DEFAULT_COLLECTOR_SCHEDULE;
  const regular: Posting = {
    name: 'regular',
    postsPerDay: POSTS / POLLED_DAYS,
    describe: `${POSTS} posts over ${POLLED_DAYS} days (one every ${fmt((POLLED_DAYS * 24) / POSTS, 1)} h)`,
  };
  const busy: Posting = {
    name: 'busy',
    postsPerDay: BUSY_POSTS_PER_DAY,
    describe: `${BUSY_POSTS_PER_DAY} posts a day (${BUSY_POSTS_PER_DAY * POLLED_DAYS} in the polled ${POLLED_DAYS} days)`,
  };
  process.stdout.write(
    `tgpulse bench:mtproto: ${fmt(CHANNELS)} regular and ${fmt(BUSY_CHANNELS)} busy channels, ${ACCOUNTS} account(s), ` +
      `${WARMUP_HOURS} h warm-up then ${HOURS} h measured without a budget and ${HOURS} h held to DEFAULT_RATE_LIMITS, ` +
      `a pass every ${TICK_MS / 1000} s, ${PARALLEL} runs at a time, node ${process.version}\n`,
  );
  printAssumptions();

  const membership = (joined: boolean) => (joined ? 'joined' : 'not joined');
  const demandThenHeld: WindowSpec[] = [
    { name: 'no budget (demand)', limits: UNLIMITED, hours: HOURS },
    { name: 'then held to DEFAULT_RATE_LIMITS', limits: DEFAULT_RATE_LIMITS, hours: HOURS },
  ];
  const world = (posting: Posting, channels: number, joined: boolean, seed: number): RunSpec => ({
    title: `${posting.name}, ${membership(joined)}, ${fmt(channels)} channels: ${posting.describe}`,
    posting,
    channels,
    accounts: ACCOUNTS,
    joined,
    windows: demandThenHeld,
    seed,
  });
  // The same seed for joined and not joined: the same channels and curves.
  const [regularJoined, regularAlone, busyJoined, busyAlone] = await runAll([
    world(regular, CHANNELS, true, 1),
    world(regular, CHANNELS, false, 1),
    world(busy, BUSY_CHANNELS, true, 2),
    world(busy, BUSY_CHANNELS, false, 2),
  ]);
  for (const r of [regularJoined, regularAlone, busyJoined, busyAlone]) printRun(r);
  process.stdout.write(
    `\n  note: busy case on ${fmt(BUSY_CHANNELS)} channels: the fake world holds every post as gramjs TL objects (~4 KB each with its pts change),\n` +
      `  ${fmt(BUSY_CHANNELS * BUSY_POSTS_PER_DAY * POLLED_DAYS)} posts here. Per-channel demand does not depend on the count when there is no budget\n` +
      `  (channels share nothing but the account); BENCH_MTPROTO_BUSY_CHANNELS sets it.\n`,
  );

  heading('capacity: channels one account serves (from the windows without a budget)');
  printCapacity('regular, joined', regularJoined, schedule);
  const capRegular = printCapacity('regular, not joined', regularAlone, schedule);
  printOnPaper('regular', regular, schedule, [regularJoined, regularAlone]);
  printCapacity('busy, joined', busyJoined, schedule);
  const capBusy = printCapacity('busy, not joined', busyAlone, schedule);
  printOnPaper('busy', busy, schedule, [busyJoined, busyAlone]);

  const checks = (
    [
      [capRegular, regular, 3],
      [capBusy, busy, 4],
    ] as const
  )
    .filter(([cap]) => cap.channels >= 1)
    .map(
      ([cap, posting, seed]): RunSpec => ({
        title: `check: ${posting.name}, not joined, at the computed capacity, ${fmt(cap.channels)} channels on one account held to DEFAULT_RATE_LIMITS from the start`,
        posting,
        channels: cap.channels,
        accounts: 1,
        joined: false,
        windows: [{ name: 'held to DEFAULT_RATE_LIMITS', limits: DEFAULT_RATE_LIMITS, hours: HOURS }],
        seed,
      }),
    );
  for (const r of await runAll(checks)) printRun(r);

  clearInterval(rssTimer);
  heading('the bench itself');
  line('wall time', `${fmt((performance.now() - wallStart) / 1000, 1)} s`);
  line('peak RSS (this process and its runs together)', `${fmt(peakRss / 2 ** 20)} MiB`);
}

const child = process.env.BENCH_MTPROTO_RUN;
(child ? runOne(child) : main()).catch((err) => {
  process.stderr.write(`bench:mtproto failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
