/**
 * `npm run bench:mtproto`: how many MTProto requests the collector's polling
 * schedule costs, and how many channels one account keeps fresh within the
 * request budget we assume Telegram tolerates.
 *
 * The real {@link Collector} and {@link AccountSession} run over real gramjs
 * clients wired to the fake Telegram (test/support/fake-telegram.ts), against
 * an embedded control plane, on a virtual clock:
 *
 *   1. world     N channels posting at an even pace with a random phase each:
 *                "regular" = 50 posts over the 7 polled days (one every 3.4 h),
 *                "busy" = 50 posts a day (so 50 in any 24 h, 350 in the polled
 *                window); new posts keep arriving and are pushed to the
 *                accounts as Telegram pushes them to members. Official stats
 *                on a share of the channels, every graph async.
 *   2. passes    the first pass (pts, backfill, members, stats, first poll)
 *                measured apart, then a steady window of simulated hours with a
 *                collector pass every 60 s, as `Collector.run` does with a
 *                60 s tick.
 *   3. runs      demand (no budget: what the schedule asks for), budget (the
 *                account held to DEFAULT_RATE_LIMITS: what it achieves, and the
 *                backlog when it cannot keep up), and a check run at the
 *                computed capacity.
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
 * BENCH_MTPROTO_BUSY_POSTS_PER_DAY (50), BENCH_MTPROTO_BUSY_CHANNELS (100;
 * see the note printed), BENCH_MTPROTO_ACCOUNTS (1), BENCH_MTPROTO_HOURS (2),
 * BENCH_MTPROTO_STATS_PERCENT (10), BENCH_MTPROTO_PRIME (1: start the steady
 * window with each post's last poll where a week-long run would have left it).
 */
import { Rng } from '../common/rng.ts';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pool } from 'pg';
import { Registry } from 'prom-client';
import { Api } from 'telegram';
import { addAccount } from '../control/mtproto-accounts.ts';
import { openControlPlane } from '../control/postgres.ts';
import { encryptSession } from '../control/session-crypto.ts';
import { upsertChannel } from '../control/tracked-channels.ts';
import { AccountSession, DEFAULT_RATE_LIMITS, type RateLimits } from '../ingest/mtproto/account.ts';
import { Collector } from '../ingest/mtproto/collector.ts';
import { DEFAULT_COLLECTOR_SCHEDULE } from '../ingest/mtproto/config.ts';
import { CollectorMetrics } from '../ingest/mtproto/metrics.ts';
import {
  DEFAULT_POLL_TIERS,
  lastPollBy,
  maxPollAge,
  nextPollAt,
  pollsOverLife,
  type PollTier,
} from '../ingest/mtproto/schedule.ts';
import type { CollectorSchedule } from '../ingest/mtproto/work.ts';
import { silentLogger } from '../observability/log.ts';
import type { RawEvent } from '../streams/contract/events.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../common/index.ts';
import { chartGraph, FakeTelegram, type FakeChannel } from '../test/support/fake-telegram.ts';
import * as ss from 'simple-statistics';

/** One collector pass per simulated minute. */
const TICK_MS = MINUTE_MS;
/** Days of posts the poll schedule covers (its oldest tier). */
const POLLED_DAYS = maxPollAge(DEFAULT_POLL_TIERS) / DAY_MS;
/** Graph fields of stats.BroadcastStats; we assume Telegram sends every one async (the costliest case). */
const BROADCAST_GRAPHS = [
  'growthGraph',
  'followersGraph',
  'muteGraph',
  'topHoursGraph',
  'interactionsGraph',
  'ivInteractionsGraph',
  'viewsBySourceGraph',
  'newFollowersBySourceGraph',
  'languagesGraph',
  'reactionsByEmotionGraph',
  'storyInteractionsGraph',
  'storyReactionsByEmotionGraph',
] as const;
/** Methods an account calls for itself, not per channel. */
const PER_ACCOUNT_METHODS = new Set(['updates.GetState', 'users.GetUsers']);
const IDS_PER_CALL = 100;

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
const BUSY_CHANNELS = envInt('BENCH_MTPROTO_BUSY_CHANNELS', Math.min(CHANNELS, 100), 1, 100_000);
const ACCOUNTS = envInt('BENCH_MTPROTO_ACCOUNTS', 1, 1, 100);
const HOURS = envInt('BENCH_MTPROTO_HOURS', 2, 1, 168);
const STATS_PERCENT = envInt('BENCH_MTPROTO_STATS_PERCENT', 10, 0, 100);
const PRIME = envInt('BENCH_MTPROTO_PRIME', 1, 0, 1) === 1;

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

// ---- the fake world -----------------------------------------------------------

/** How a channel posts: evenly, `postsPerDay`, at its own phase. */
interface Posting {
  name: string;
  describe: string;
  postsPerDay: number;
}

/** A post that appeared during the run, and its push. */
interface NewPost {
  channelId: string;
  postId: number;
  dateMs: number;
  update: Api.Updates;
}

interface WorldChannel {
  fake: FakeChannel;
  everyMs: number;
  nextPostMs: number;
}

/** Channels with a posting history over the polled days, and posts arriving as time goes on. */
class World {
  readonly tg = new FakeTelegram();
  readonly channels: WorldChannel[] = [];

  constructor(opts: { channels: number; posting: Posting; statsShare: number; seed: number }) {
    const rng = new Rng(opts.seed);
    const rnd = () => rng.next();
    // Start on a pass boundary, so periodic jobs fall on passes exactly (no window-edge drift).
    this.tg.now = Math.floor(this.tg.now / (TICK_MS / 1000)) * (TICK_MS / 1000);
    const now = this.tg.now * 1000;
    const everyMs = DAY_MS / opts.posting.postsPerDay;
    for (let i = 0; i < opts.channels; i++) {
      const fake = this.tg.addChannel({
        id: String(1_100_000_000 + i),
        title: `Bench ${i}`,
        members: 1000 + Math.floor(rnd() * 100_000),
        canViewStats: rnd() < opts.statsShare,
      });
      if (fake.canViewStats) withAsyncGraphs(fake, now);
      // Evenly spaced posts with a random phase, from the start of the polled window up to now.
      let t = now - POLLED_DAYS * DAY_MS + rnd() * everyMs;
      for (; t <= now; t += everyMs) fake.addPost({ date: Math.floor(t / 1000), text: 'post', views: 100 });
      this.channels.push({ fake, everyMs, nextPostMs: t });
    }
  }

  /** Posts what is due by `t`; returns them with the update Telegram would push for each. */
  postUntil(t: number): NewPost[] {
    const out: NewPost[] = [];
    for (const ch of this.channels) {
      for (; ch.nextPostMs <= t; ch.nextPostMs += ch.everyMs) {
        const msg = ch.fake.addPost({ date: Math.floor(ch.nextPostMs / 1000), text: 'post', views: 100 });
        const change = ch.fake.changes[ch.fake.changes.length - 1];
        // Only this channel in `chats`: FakeTelegram.push would attach every channel of the world.
        const update = new Api.Updates({
          updates: [change.update],
          users: [],
          chats: [ch.fake.entity()],
          date: this.tg.now,
          seq: 0,
        });
        out.push({ channelId: ch.fake.id, postId: msg.id, dateMs: msg.date * 1000, update });
      }
    }
    return out;
  }

  /** A post's date (ms), or null once the world has no such post. */
  dateOf(channelId: string, postId: number): number | null {
    const msg = this.tg.channels.get(channelId)?.posts.get(postId);
    return msg ? msg.date * 1000 : null;
  }
}

/** Every broadcast graph as an async token with a 30-day daily series behind it. */
function withAsyncGraphs(ch: FakeChannel, now: number): void {
  const days = Array.from({ length: 30 }, (_, i) => now - (30 - i) * DAY_MS);
  for (const field of BROADCAST_GRAPHS) {
    const token = `${ch.id}:${field}`;
    ch.graphs.set(field, new Api.StatsGraphAsync({ token }));
    ch.asyncGraphs.set(token, chartGraph(days, { y0: { name: 'Value', values: days.map((_, i) => 100 + i) } }));
  }
}

// ---- measurements -----------------------------------------------------------

/** Requests by method and by account. */
class Tally {
  readonly byMethod = new Map<string, number>();
  readonly byAccount = new Map<string, number>();
  total = 0;

  add(requests: ReadonlyArray<{ className: string; account: string }>): void {
    for (const r of requests) {
      this.byMethod.set(r.className, (this.byMethod.get(r.className) ?? 0) + 1);
      this.byAccount.set(r.account, (this.byAccount.get(r.account) ?? 0) + 1);
      this.total++;
    }
  }

  get(method: string): number {
    return this.byMethod.get(method) ?? 0;
  }
}

/** How late each poll came against the schedule, and which posts are overdue. */
class PollLedger {
  /** Due time of each post's next poll, by `channel:post`. */
  readonly #due = new Map<string, { dateMs: number; dueMs: number | null }>();
  /** Lateness of each poll while recording (ms). */
  readonly lateness: number[] = [];
  recording = false;
  polls = 0;
  calls = 0;

  constructor(private readonly tiers: readonly PollTier[]) {}

  /** A post became known to the world at `at`: its first poll is due then. */
  arrived(channelId: string, postId: number, dateMs: number, at: number): void {
    this.#due.set(`${channelId}:${postId}`, { dateMs, dueMs: at });
  }

  /** The post was last polled at `last` (priming or a poll outside the window). */
  polledAt(channelId: string, postId: number, dateMs: number, last: number): void {
    this.#due.set(`${channelId}:${postId}`, { dateMs, dueMs: nextPollAt(last, dateMs, this.tiers) });
  }

  /** One counters call's snapshots. */
  observe(
    events: readonly RawEvent[],
    readAt: number,
    dateOf: (channelId: string, postId: number) => number | null,
  ): void {
    if (this.recording && events.length) this.calls++;
    for (const e of events) {
      if (e.kind !== 'post_counters') continue;
      const key = `${e.channel_id}:${e.data.post_id}`;
      const entry = this.#due.get(key);
      const dateMs = entry?.dateMs ?? dateOf(e.channel_id, e.data.post_id);
      if (dateMs === null) continue;
      if (this.recording) {
        this.polls++;
        if (entry?.dueMs != null) this.lateness.push(Math.max(0, readAt - entry.dueMs));
      }
      this.#due.set(key, { dateMs, dueMs: nextPollAt(readAt, dateMs, this.tiers) });
    }
  }

  /** Posts still within the polled age whose poll is late by more than one pass at `now`. */
  backlog(now: number): { posts: number; oldestMs: number } {
    let posts = 0;
    let oldestMs = 0;
    const maxAge = maxPollAge(this.tiers);
    for (const { dateMs, dueMs } of this.#due.values()) {
      if (dueMs === null || now - dateMs >= maxAge) continue;
      const late = now - dueMs;
      if (late > TICK_MS) {
        posts++;
        oldestMs = Math.max(oldestMs, late);
      }
    }
    return { posts, oldestMs };
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

interface RunSpec {
  title: string;
  posting: Posting;
  channels: number;
  accounts: number;
  limits: RateLimits;
  hours: number;
  seed: number;
}

interface RunResult {
  spec: RunSpec;
  firstPass: Tally;
  firstPassVirtualMs: number;
  firstPassWallMs: number;
  steady: Tally;
  steadyHours: number;
  steadyWallMs: number;
  ledger: PollLedger;
  backlog: { posts: number; oldestMs: number };
  trackedPosts: number;
  control: { queries: number; transactions: number; busyMs: number };
  firstPassControl: { queries: number; transactions: number; busyMs: number };
  setupWallMs: number;
  rateLimitedWaits: number;
  jobFailures: number;
  rssAfter: number;
}

/** Runs the real collector over a fresh world and control plane; see the file comment. */
async function run(spec: RunSpec): Promise<RunResult> {
  const setupStart = performance.now();
  const world = new World({
    channels: spec.channels,
    posting: spec.posting,
    statsShare: STATS_PERCENT / 100,
    seed: spec.seed,
  });
  const { tg } = world;
  const clock = new VirtualClock(tg.now * 1000, (now) => (tg.now = Math.floor(now / 1000)));
  // PGlite writes through the file system on every query: a RAM-backed folder keeps the disk out of the figures.
  const dataDir = await mkdtemp(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'tgpulse-bench-mtproto-'));
  const control = await openControlPlane({ driver: 'embedded', path: join(dataDir, 'pglite') });
  const counted = countingPool(control.pool);
  const registry = new Registry();
  const metrics = new CollectorMetrics(registry);
  const schedule: CollectorSchedule = DEFAULT_COLLECTOR_SCHEDULE;
  const ledger = new PollLedger(schedule.pollTiers);
  const labels: string[] = [];
  const accounts: AccountSession[] = [];
  let activity = 0;
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
          limits: spec.limits,
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
      emit: async (job, events, readAt) => {
        activity++;
        if (job === 'counters') ledger.observe(events, readAt, (c, p) => world.dateOf(c, p));
      },
      deadLetter: async () => {
        activity++;
      },
      schedule,
      // Longer than a pass, so leases never lapse between the passes of this 60 s tick.
      leaseTtlMs: 3 * TICK_MS,
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

    /** The world posts up to `t`; Telegram pushes each post to every account. */
    const publish = (t: number): void => {
      for (const post of world.postUntil(t)) {
        ledger.arrived(post.channelId, post.postId, post.dateMs, t);
        for (const label of labels) tg.push(label, post.update);
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
    const firstPass = new Tally();
    firstPass.add(tg.requests.splice(0));
    const firstPassVirtualMs = clock.now - firstStart;
    const firstPassWallMs = performance.now() - firstWall;
    const firstPassControl = { ...counted.stats };

    // The ledger learns every known post's schedule; priming moves the collector's poll times where a long run would have them.
    const primeAt = Math.ceil((clock.now + 1) / TICK_MS) * TICK_MS;
    for (const work of collector.works.values()) {
      for (const p of work.posts.values()) {
        if (PRIME) p.lastPolledMs = lastPollBy(p.dateMs, primeAt, schedule.pollTiers);
        if (p.lastPolledMs !== null) ledger.polledAt(work.channel.channelId, p.postId, p.dateMs, p.lastPolledMs);
      }
    }

    // Steady window: a pass every tick, new posts pushed before it.
    await runUntil(primeAt);
    tg.requests.splice(0);
    const steady = new Tally();
    const end = primeAt + spec.hours * HOUR_MS;
    const steadyWall = performance.now();
    ledger.recording = true;
    for (let t = primeAt; t < end; t += TICK_MS) {
      await runUntil(t);
      steady.add(tg.requests.splice(0));
      publish(t);
      await collector.step();
    }
    await runUntil(end);
    steady.add(tg.requests.splice(0));
    ledger.recording = false;
    const steadyWallMs = performance.now() - steadyWall;
    const backlog = ledger.backlog(end);
    const trackedPosts = [...collector.works.values()].reduce((n, w) => n + w.posts.size, 0);
    const rateLimitedWaits = clock.scheduled;
    const jobFailures = ((await metrics.jobFailures.get()).values ?? []).reduce((n, v) => n + v.value, 0);
    return {
      spec,
      firstPass,
      firstPassVirtualMs,
      firstPassWallMs,
      steady,
      steadyHours: spec.hours,
      steadyWallMs,
      ledger,
      backlog,
      trackedPosts,
      control: counted.stats,
      firstPassControl,
      setupWallMs,
      rateLimitedWaits,
      jobFailures,
      rssAfter: process.memoryUsage().rss,
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

/** Demand per channel-hour by method, from a run: steady calls, plus the first pass's stats calls spread over the stats interval. */
function demandOf(
  r: RunResult,
  schedule: CollectorSchedule,
): { perChannel: Map<string, number>; perAccount: Map<string, number> } {
  const perChannel = new Map<string, number>();
  const perAccount = new Map<string, number>();
  const hours = r.steadyHours;
  for (const [method, n] of r.steady.byMethod) {
    if (PER_ACCOUNT_METHODS.has(method)) perAccount.set(method, n / hours / r.spec.accounts);
    else if (!method.startsWith('stats.')) perChannel.set(method, n / hours / r.spec.channels);
  }
  // The steady window is shorter than the stats interval: one stats run per channel, as the first pass made, every statsEveryMs.
  for (const [method, n] of r.firstPass.byMethod) {
    if (method.startsWith('stats.'))
      perChannel.set(method, (perChannel.get(method) ?? 0) + n / r.spec.channels / (schedule.statsEveryMs / HOUR_MS));
  }
  return { perChannel, perAccount };
}

/**
 * The schedule on paper: post polls per channel-hour from pollsOverLife, as
 * calls with perfect batching (100 ids a call, the issue's formula) and with
 * none (a call per post poll), plus the fixed jobs.
 */
function analytic(
  postsPerDay: number,
  schedule: CollectorSchedule,
  statsShare: number,
): Array<[string, number, number]> {
  const postPolls = (postsPerDay * pollsOverLife(schedule.pollTiers)) / 24;
  const batched = postPolls / IDS_PER_CALL;
  const statsRun = 1 + BROADCAST_GRAPHS.length + 2 * schedule.topPostsForStats;
  return [
    ['messages.GetMessagesViews', batched, postPolls],
    ['messages.GetMessagesReactions', batched, postPolls],
    ['updates.GetChannelDifference', HOUR_MS / schedule.differenceEveryMs, HOUR_MS / schedule.differenceEveryMs],
    ['channels.GetFullChannel', HOUR_MS / schedule.membersEveryMs, HOUR_MS / schedule.membersEveryMs],
    [
      'stats.* (share × calls per run / interval)',
      (statsShare * statsRun) / (schedule.statsEveryMs / HOUR_MS),
      (statsShare * statsRun) / (schedule.statsEveryMs / HOUR_MS),
    ],
  ];
}

// ---- printing -----------------------------------------------------------------

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const mins = (ms: number) => (ms < HOUR_MS ? `${fmt(ms / MINUTE_MS, 1)} min` : `${fmt(ms / HOUR_MS, 1)} h`);
function line(label: string, value: string): void {
  process.stdout.write(`${label.padEnd(46)} ${value}\n`);
}
function heading(text: string): void {
  process.stdout.write(`\n== ${text} ==\n`);
}
function quantile(values: number[], q: number): number {
  return values.length ? ss.quantile(values, q) : 0;
}

function printRun(r: RunResult, opts: { budget: boolean }): void {
  const { spec } = r;
  heading(spec.title);
  line(
    'world',
    `${fmt(spec.channels)} channels, ${spec.posting.describe}, ${spec.accounts} account(s), stats on ${STATS_PERCENT}%`,
  );
  line('setup (world, control plane, accounts, channels)', `${fmt(r.setupWallMs / 1000, 1)} s wall`);
  const fp = r.firstPass;
  line(
    'first pass',
    `${fmt(fp.total)} requests (${fmt(fp.total / spec.channels, 2)} per channel), ${mins(r.firstPassVirtualMs)} simulated, ${fmt(r.firstPassWallMs / 1000, 1)} s wall`,
  );
  for (const [m, n] of [...fp.byMethod].sort((a, b) => b[1] - a[1])) line(`  ${m}`, fmt(n));
  const perHour = (n: number) => n / r.steadyHours / spec.accounts;
  process.stdout.write(`steady state, ${r.steadyHours} h (requests per hour per account; per channel-hour)\n`);
  for (const [m, n] of [...r.steady.byMethod].sort((a, b) => b[1] - a[1])) {
    const limit = opts.budget ? `   (limit ${fmt(limitPerHour(spec.limits, m))}/h)` : '';
    line(
      `  ${m}`,
      `${fmt(perHour(n)).padStart(9)} /h   ${fmt(n / r.steadyHours / spec.channels, 2).padStart(7)}${limit}`,
    );
  }
  const totalLimit = opts.budget ? `   (limit ${fmt(spec.limits.total * 60)}/h)` : '';
  line(
    '  total',
    `${fmt(perHour(r.steady.total)).padStart(9)} /h   ${fmt(r.steady.total / r.steadyHours / spec.channels, 2).padStart(7)}${totalLimit}`,
  );
  const lat = r.ledger.lateness;
  line(
    'post polls in the window',
    `${fmt(r.ledger.polls)} post reads in ${fmt(r.ledger.calls)} getMessagesViews calls (${fmt(r.ledger.polls / Math.max(1, r.ledger.calls), 1)} ids per call)`,
  );
  line(
    'poll lateness vs schedule (p50 / p95 / max)',
    `${mins(quantile(lat, 0.5))} / ${mins(quantile(lat, 0.95))} / ${mins(lat.length ? Math.max(...lat) : 0)}   (${fmt((100 * lat.filter((l) => l <= TICK_MS).length) / Math.max(1, lat.length), 1)}% within one pass)`,
  );
  line(
    'backlog at the end (polls late > 1 pass)',
    `${fmt(r.backlog.posts)} of ${fmt(r.trackedPosts)} tracked posts; oldest ${mins(r.backlog.oldestMs)} overdue`,
  );
  line('rate-limiter waits / failed jobs', `${fmt(r.rateLimitedWaits)} / ${fmt(r.jobFailures)}`);
  line('RSS after the run', `${fmt(r.rssAfter / 2 ** 20)} MiB`);
  const fc = r.firstPassControl;
  line(
    'control plane (embedded PGlite), first pass',
    `${fmt(fc.queries)} queries + ${fmt(fc.transactions)} transactions (${fmt((fc.queries + fc.transactions) / spec.channels, 1)} per channel), in flight ${fmt(fc.busyMs / 1000, 1)} s of ${fmt(r.firstPassWallMs / 1000, 1)} s wall`,
  );
  const sq = r.control.queries - fc.queries;
  const st = r.control.transactions - fc.transactions;
  line(
    'control plane, after the first pass',
    `${fmt(sq)} queries + ${fmt(st)} transactions (${fmt((sq + st) / spec.channels / r.steadyHours, 1)} per channel-hour), in flight ${fmt((r.control.busyMs - fc.busyMs) / 1000, 1)} s of ${fmt(r.steadyWallMs / 1000, 1)} s wall`,
  );
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
  line(`  => channels one account keeps fresh`, `${fmt(cap.channels)} (bound by ${cap.binding})`);
  return cap;
}

function printAnalytic(label: string, posting: Posting, schedule: CollectorSchedule, measured: RunResult): void {
  const rows = analytic(posting.postsPerDay, schedule, STATS_PERCENT / 100);
  const postPolls = (posting.postsPerDay * pollsOverLife(schedule.pollTiers)) / 24;
  process.stdout.write(
    `${label}: analytic cross-check (pollsOverLife ${fmt(pollsOverLife(schedule.pollTiers), 1)} polls per post × ${fmt(posting.postsPerDay, 2)} posts/day = ${fmt(postPolls, 1)} post polls per channel-hour)\n`,
  );
  const { perChannel } = demandOf(measured, schedule);
  for (const [method, batched, unbatched] of rows) {
    const m = method.startsWith('stats.')
      ? [...perChannel].filter(([k]) => k.startsWith('stats.')).reduce((a, [, v]) => a + v, 0)
      : (perChannel.get(method) ?? 0);
    line(
      `  ${method}`,
      `${fmt(batched, 2).padStart(7)} .. ${fmt(unbatched, 2).padStart(7)} per channel-h on paper, measured ${fmt(m, 2)}`,
    );
  }
  const lowViews = rows[0][1];
  const fixed = rows.slice(2).reduce((a, r) => a + r[1], 0);
  const views = perChannel.get('messages.GetMessagesViews') ?? 0;
  line(
    '  channels per account on paper',
    `${fmt(Math.floor(limitPerHour(DEFAULT_RATE_LIMITS, 'messages.GetMessagesViews') / Math.max(lowViews, 1e-9)))} with 100 ids a call; ` +
      `${fmt(Math.floor(limitPerHour(DEFAULT_RATE_LIMITS, 'messages.GetMessagesViews') / postPolls))} with one id a call; total-bound ${fmt(Math.floor((DEFAULT_RATE_LIMITS.total * 60) / (2 * lowViews + fixed)))} at best`,
  );
  line(
    '  measured ids per views call',
    `${fmt(postPolls / Math.max(views, 1e-9), 1)} (post polls per channel-h / measured views calls per channel-h)`,
  );
}

function printAssumptions(): void {
  const l = DEFAULT_RATE_LIMITS;
  const methods = Object.entries(l.methods)
    .map(([m, n]) => `${m} ${n}`)
    .join(', ');
  process.stdout.write(`
Assumptions
  - Telegram publishes no request limits for user (MTProto) accounts. Its error reference only says that
    FLOOD_WAIT_X (420) means "wait X seconds" once a method was called too often; the thresholds are
    undocumented, vary by method and account, and are learnt from FLOOD_WAITs in practice. Heavy
    messages.getHistory and messages.getMessagesViews use, and bursts of contacts.resolveUsername, are the
    calls collectors commonly report FLOOD_WAITs on.
  - So the budget is ours: DEFAULT_RATE_LIMITS (ingest/mtproto/account.ts) holds each account to
    ${l.default}/min per method, ${l.total}/min over all methods, and less for heavy or sensitive calls (${methods}).
    That is one call every 2 s per method and one every 0.5 s overall: a pace a person's client reaches while
    scrolling, well below what triggers waits in practice, leaving headroom for pushes and retries.
    "Keeps fresh" means the demand per hour fits every one of these limits.
  - Posting: evenly spaced posts, a random phase per channel; new posts are pushed to the account (Telegram
    pushes channel posts to members). Counters are read with messages.getMessagesViews + getMessagesReactions
    (100 ids a call, one channel per call), the schedule being DEFAULT_COLLECTOR_SCHEDULE (poll tiers
    5 min < 1 h, 15 min < 6 h, 30 min < 1 d, 2 h < 3 d, 6 h < 7 d; members and difference every 15 min,
    stats every 6 h, keep-alive every 15 min per account).
  - Official stats: ${STATS_PERCENT}% of channels; every one of the ${BROADCAST_GRAPHS.length} broadcast graphs comes async (one
    stats.loadAsyncGraph each), the costliest case, plus stats.getMessageStats and getMessagePublicForwards
    for the ${DEFAULT_COLLECTOR_SCHEDULE.topPostsForStats} top recent posts.
  - The steady window (${HOURS} h) is shorter than the stats interval (6 h): stats are counted from the first
    pass, which runs each stats channel once, spread over 6 h.${
      PRIME
        ? `
  - The first pass polls every post at once; a collector that has run for a week has its posts' polls spread
    over their intervals. Before the window each post's last poll is set where its schedule puts it
    (BENCH_MTPROTO_PRIME=0 measures the window right after the first pass instead).`
        : ''
    }
  - The world's history covers the ${POLLED_DAYS} polled days; backfill (${DEFAULT_COLLECTOR_SCHEDULE.backfillDays} days by default) of an older channel
    reads one getHistory page per 100 posts more in its first passes.
`);
}

async function main(): Promise<void> {
  const wallStart = performance.now();
  let peakRss = 0;
  const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 200);
  const schedule = DEFAULT_COLLECTOR_SCHEDULE;
  const regular: Posting = {
    name: 'regular',
    postsPerDay: POSTS / POLLED_DAYS,
    describe: `${POSTS} posts over ${POLLED_DAYS} days (one every ${fmt((POLLED_DAYS * 24) / POSTS, 1)} h)`,
  };
  const busy: Posting = {
    name: 'busy',
    postsPerDay: BUSY_POSTS_PER_DAY,
    describe: `${BUSY_POSTS_PER_DAY} posts a day (${BUSY_POSTS_PER_DAY} in the last 24 h, ${BUSY_POSTS_PER_DAY * POLLED_DAYS} in the polled ${POLLED_DAYS} days)`,
  };
  process.stdout.write(
    `tgpulse bench:mtproto: ${fmt(CHANNELS)} channels, ${ACCOUNTS} account(s), ${HOURS} simulated hours after the first pass, a pass every ${TICK_MS / 1000} s, node ${process.version}\n`,
  );
  printAssumptions();

  const demand = await run({
    title: `regular, no budget (demand): ${regular.describe}`,
    posting: regular,
    channels: CHANNELS,
    accounts: ACCOUNTS,
    limits: UNLIMITED,
    hours: HOURS,
    seed: 1,
  });
  printRun(demand, { budget: false });
  const busyDemand = await run({
    title: `busy, no budget (demand): ${busy.describe}`,
    posting: busy,
    channels: BUSY_CHANNELS,
    accounts: ACCOUNTS,
    limits: UNLIMITED,
    hours: HOURS,
    seed: 2,
  });
  printRun(busyDemand, { budget: false });
  if (BUSY_CHANNELS !== CHANNELS) {
    process.stdout.write(
      `  note: busy case on ${fmt(BUSY_CHANNELS)} channels, not ${fmt(CHANNELS)}: the fake world holds every post as gramjs TL objects (~4 KB each with its pts change),\n` +
        `  so ${fmt(CHANNELS * BUSY_POSTS_PER_DAY * POLLED_DAYS)} posts would take ~${fmt((CHANNELS * BUSY_POSTS_PER_DAY * POLLED_DAYS * 4) / 1024 / 1024, 1)} GB. Per-channel demand does not depend on the count\n` +
        `  when there is no budget (channels share nothing but the account); BENCH_MTPROTO_BUSY_CHANNELS=${CHANNELS} runs it in full.\n`,
    );
  }

  heading('capacity: channels one account keeps fresh');
  const capRegular = printCapacity('regular', demand, schedule);
  printAnalytic('regular', regular, schedule, demand);
  const capBusy = printCapacity('busy', busyDemand, schedule);
  printAnalytic('busy', busy, schedule, busyDemand);

  const starved = await run({
    title: `regular, ${fmt(CHANNELS)} channels on ${ACCOUNTS} account(s) held to DEFAULT_RATE_LIMITS`,
    posting: regular,
    channels: CHANNELS,
    accounts: ACCOUNTS,
    limits: DEFAULT_RATE_LIMITS,
    hours: HOURS,
    seed: 1,
  });
  printRun(starved, { budget: true });
  for (const [cap, posting, seed] of [
    [capRegular, regular, 3],
    [capBusy, busy, 4],
  ] as const) {
    if (cap.channels < 1) continue;
    const check = await run({
      title: `check: ${posting.name} at the computed capacity, ${fmt(cap.channels)} channels on one account held to DEFAULT_RATE_LIMITS`,
      posting,
      channels: cap.channels,
      accounts: 1,
      limits: DEFAULT_RATE_LIMITS,
      hours: HOURS,
      seed,
    });
    printRun(check, { budget: true });
  }

  clearInterval(rssTimer);
  heading('the bench itself');
  line('wall time', `${fmt((performance.now() - wallStart) / 1000, 1)} s`);
  line('peak RSS', `${fmt(peakRss / 2 ** 20)} MiB`);
}

main().catch((err) => {
  process.stderr.write(`bench:mtproto failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
