/**
 * The fake world of `npm run bench:mtproto` (bench/mtproto-requests.ts), and
 * how the data the collector holds compares with it.
 *
 * - {@link World}: channels posting at an even pace, each post with a true
 *   view curve views(age) = V∞ × (1 − exp(−age/τ)), forwards ≈ 1 % and one
 *   reaction emoji ≈ 2 % of views, served to channels.getMessages through
 *   `FakeTelegram.countersAt`; member counts drifting; the accounts members or
 *   not.
 * - {@link QualityBook}: the reads the collector published, sampled against
 *   the true counters (staleness, relative error by age band), beside the
 *   fixed poll tiers of commit e3d5b27 replayed on the same curves.
 */
import { Api } from 'telegram';
import * as ss from 'simple-statistics';
import { deriveSeed, Rng } from '../common/rng.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../common/index.ts';
import { FLAT_STRETCH, type FreshnessTarget } from '../ingest/mtproto/schedule.ts';
import type { RawEvent } from '../streams/contract/events.ts';
import { chartGraph, type FakeChannel, type FakeCounters, FakeTelegram } from '../test/support/fake-telegram.ts';

/** How a channel posts: evenly, `postsPerDay`, at its own phase. */
export interface Posting {
  name: string;
  describe: string;
  postsPerDay: number;
}

/** Graph fields of stats.BroadcastStats; we assume Telegram sends every one async (the costliest case). */
export const BROADCAST_GRAPHS = [
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

/** The true counters' shape: reach and curve time constant per channel, a multiplier per post. */
export const TRUTH = {
  reach: [0.05, 0.4],
  tauHours: [3, 12],
  postSigma: 0.5,
  forwardsShare: 0.01,
  reactionShare: 0.02,
  emoji: '👍',
  /** Member drift per hour, as a share of the members (a random sign, lognormal around it). */
  membersDriftPerHour: 0.0005,
} as const;

/** Sub-streams of a channel's random numbers. */
enum Stream {
  Channel = 1,
  Posts = 2,
}

/** A post that appeared during the run, and the update Telegram would push for it. */
export interface NewPost {
  channel: FakeChannel;
  postId: number;
  dateMs: number;
  update: Api.Updates;
}

/** A channel of the world, its true counters and what the collector published of them. */
export interface WorldChannel {
  fake: FakeChannel;
  everyMs: number;
  nextPostMs: number;
  /** V∞ of a post with multiplier 1 (members × reach). */
  vinfBase: number;
  tauMs: number;
  postRng: Rng;
  /** By post id: date (ms), V∞. */
  dateMs: number[];
  vinf: number[];
  /** By post id, from the collector's events: last read (ms), views held, first read (ms). */
  lastRead: number[];
  held: number[];
  firstRead: number[];
  /** By post id: its pts change (getChannelDifference answers the change's message). */
  changeOf: Array<FakeChannel['changes'][number]>;
  /** Lowest post id that may still be younger than the polled age. */
  oldest: number;
  membersBase: number;
  membersPerMs: number;
}

/** Channels with a posting history over the polled days, and posts arriving as time goes on. */
export class World {
  readonly tg = new FakeTelegram();
  readonly channels: WorldChannel[] = [];
  readonly #byId = new Map<string, WorldChannel>();
  readonly startMs: number;

  constructor(opts: {
    channels: number;
    posting: Posting;
    statsShare: number;
    seed: number;
    joined: boolean;
    polledDays: number;
    /** Start on a multiple of this (a pass), so periodic jobs fall on passes exactly. */
    alignMs: number;
  }) {
    const alignS = opts.alignMs / 1000;
    this.tg.now = Math.floor(this.tg.now / alignS) * alignS;
    const now = this.tg.now * 1000;
    this.startMs = now;
    const everyMs = DAY_MS / opts.posting.postsPerDay;
    for (let i = 0; i < opts.channels; i++) {
      const rng = new Rng(deriveSeed(opts.seed, i, Stream.Channel));
      const members = 1000 + Math.floor(rng.next() * 100_000);
      const fake = this.tg.addChannel({
        id: String(1_100_000_000 + i),
        title: `Bench ${i}`,
        members,
        canViewStats: rng.next() < opts.statsShare,
        member: opts.joined,
      });
      if (fake.canViewStats) withAsyncGraphs(fake, now);
      const sign = rng.next() < 0.5 ? -1 : 1;
      const ch: WorldChannel = {
        fake,
        everyMs,
        nextPostMs: now - opts.polledDays * DAY_MS + rng.next() * everyMs,
        vinfBase: members * rng.uniform(TRUTH.reach[0], TRUTH.reach[1]),
        tauMs: rng.uniform(TRUTH.tauHours[0], TRUTH.tauHours[1]) * HOUR_MS,
        postRng: new Rng(deriveSeed(opts.seed, i, Stream.Posts)),
        dateMs: [],
        vinf: [],
        lastRead: [],
        held: [],
        firstRead: [],
        changeOf: [],
        oldest: 1,
        membersBase: members,
        membersPerMs: (sign * members * TRUTH.membersDriftPerHour * rng.lognormal(0, 0.5)) / HOUR_MS,
      };
      this.channels.push(ch);
      this.#byId.set(fake.id, ch);
      // History up to now: getHistory answers a post as stored, so it carries the views of the world's start.
      for (; ch.nextPostMs <= now; ch.nextPostMs += everyMs) this.#post(ch, ch.nextPostMs, now);
    }
    this.tg.countersAt = (channelId, msg, nowSec) => {
      const ch = this.#byId.get(channelId);
      return ch ? countersOf(ch, msg.id, nowSec * 1000) : {};
    };
    quickAnswers(this.tg, (channelId, pts) => this.#refreshAfter(channelId, pts));
  }

  /** Adds a post dated `dateMs` whose stored counters are the true ones at `storedAt`. */
  #post(ch: WorldChannel, dateMs: number, storedAt: number): Api.Message {
    const date = Math.floor(dateMs / 1000);
    const id = ch.dateMs.length === 0 ? 1 : ch.dateMs.length;
    ch.dateMs[id] = date * 1000;
    ch.vinf[id] = ch.vinfBase * ch.postRng.lognormal(0, TRUTH.postSigma);
    const c = countersOf(ch, id, storedAt);
    const msg = ch.fake.addPost({ id, date, text: 'post', ...c });
    if (msg.id !== id) throw new Error(`bench world: post id ${msg.id} where ${id} was expected`);
    ch.changeOf[id] = ch.fake.changes[ch.fake.changes.length - 1];
    return msg;
  }

  /** Posts what is due by `t` (with the views of its posting time) and moves member counts; returns the new posts. */
  advance(t: number): NewPost[] {
    const out: NewPost[] = [];
    for (const ch of this.channels) {
      ch.fake.members = Math.max(1, Math.round(ch.membersBase + ch.membersPerMs * (t - this.startMs)));
      for (; ch.nextPostMs <= t; ch.nextPostMs += ch.everyMs) {
        const msg = this.#post(ch, ch.nextPostMs, ch.nextPostMs);
        const change = ch.fake.changes[ch.fake.changes.length - 1];
        // Only this channel in `chats`: FakeTelegram.push would attach every channel of the world.
        const update = new Api.Updates({
          updates: [change.update],
          users: [],
          chats: [ch.fake.entity()],
          date: this.tg.now,
          seq: 0,
        });
        out.push({ channel: ch.fake, postId: msg.id, dateMs: msg.date * 1000, update });
      }
    }
    return out;
  }

  /**
   * Brings the stored copy of the posts after `pts` (what getChannelDifference
   * is about to answer) to their true counters: Telegram answers current
   * counts, the fake the post as stored.
   */
  #refreshAfter(channelId: string, pts: number): void {
    const ch = this.#byId.get(channelId);
    if (!ch) return;
    const at = this.tg.now * 1000;
    for (let id = ch.dateMs.length - 1; id >= 1; id--) {
      const change = ch.changeOf[id];
      if (!change || change.pts <= pts) break;
      const old = ch.fake.posts.get(id);
      if (!old) continue;
      const msg = ch.fake.withCounters(old, countersOf(ch, id, at));
      ch.fake.posts.set(id, msg);
      change.message = msg;
    }
  }

  channel(id: string): WorldChannel | undefined {
    return this.#byId.get(id);
  }

  /** Records the reads in events the collector published: `post_counters`, and `post` events' counters. */
  noteReads(events: readonly RawEvent[]): void {
    for (const e of events) {
      if (e.kind === 'post_counters') this.#read(e.channel_id, e.data.post_id, e.observed_at, e.data.views);
      else if (e.kind === 'post') this.#read(e.channel_id, e.data.post_id, e.observed_at, e.data.counters.views);
    }
  }

  #read(channelId: string, postId: number, at: number, views: number): void {
    const ch = this.#byId.get(channelId);
    if (!ch || ch.dateMs[postId] === undefined) return;
    if (!(ch.lastRead[postId] > at)) {
      ch.lastRead[postId] = at;
      ch.held[postId] = views;
    }
    if (ch.firstRead[postId] === undefined) ch.firstRead[postId] = at;
  }
}

/** True views of a post at `at`. */
export function viewsAt(ch: WorldChannel, id: number, at: number): number {
  const age = Math.max(0, at - ch.dateMs[id]);
  return Math.round(ch.vinf[id] * (1 - Math.exp(-age / ch.tauMs)));
}

function countersOf(ch: WorldChannel, id: number, at: number): FakeCounters {
  if (ch.dateMs[id] === undefined) return {};
  const views = viewsAt(ch, id, at);
  const reactions = Math.round(views * TRUTH.reactionShare);
  return {
    views,
    forwards: Math.round(views * TRUTH.forwardsShare),
    reactions: reactions > 0 ? { [TRUTH.emoji]: reactions } : {},
  };
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

// ---- the "before" reference: fixed poll tiers -------------------------------

/**
 * The poll schedule of commit e3d5b27 (ingest/mtproto/schedule.ts there):
 * posts younger than `maxAgeMs` polled every `everyMs`.
 */
export const E3D5B27_TIERS: ReadonlyArray<{ maxAgeMs: number; everyMs: number }> = [
  { maxAgeMs: 1 * HOUR_MS, everyMs: 5 * MINUTE_MS },
  { maxAgeMs: 6 * HOUR_MS, everyMs: 15 * MINUTE_MS },
  { maxAgeMs: 1 * DAY_MS, everyMs: 30 * MINUTE_MS },
  { maxAgeMs: 3 * DAY_MS, everyMs: 2 * HOUR_MS },
  { maxAgeMs: 7 * DAY_MS, everyMs: 6 * HOUR_MS },
];

/**
 * Ages at which the e3d5b27 schedule reads a post, read exactly on schedule
 * from its date: its rule was "due once now − last read ≥ the interval at the
 * post's current age", so a read at age a is followed by one at a + interval,
 * or later when that age falls in a slower tier.
 */
export const E3D5B27_READ_AGES: readonly number[] = (() => {
  const every = (age: number) => E3D5B27_TIERS.find((t) => age < t.maxAgeMs)?.everyMs ?? null;
  const ages = [0];
  for (let last = 0; ; ) {
    let step = every(last);
    let next: number | null = null;
    while (step !== null) {
      const then = every(last + step);
      if (then === null) break;
      if (then <= step) {
        next = last + step;
        break;
      }
      step = then;
    }
    if (next === null) return ages;
    ages.push(next);
    last = next;
  }
})();

/** The age of the e3d5b27 schedule's last read of a post now `age` old. */
function e3d5b27LastRead(age: number): number {
  let lo = 0;
  let hi = E3D5B27_READ_AGES.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (E3D5B27_READ_AGES[mid] <= age) lo = mid;
    else hi = mid - 1;
  }
  return E3D5B27_READ_AGES[lo];
}

// ---- data quality -------------------------------------------------------------

interface BandSamples {
  label: string;
  maxAgeMs: number;
  targetMs: number;
  staleness: number[];
  error: number[];
  before: number[];
  within: number;
  withinFlat: number;
}

/** A band's figures over the window. */
export interface BandQuality {
  label: string;
  targetMs: number;
  samples: number;
  staleness: [number, number];
  error: [number, number];
  before: [number, number];
  withinTarget: number;
  withinFlat: number;
}

/** What the samples of a run say. */
export interface Quality {
  samples: number;
  bands: BandQuality[];
  /** Post date → first read, posts dated in the window that were read; and those not read by its end. */
  discovery: { p50: number; p95: number; max: number; read: number; unread: number };
  /** Posts dated before the window, still younger than the polled age at its end, never read by then. */
  neverRead: number;
}

/**
 * Samples the collector's data against the truth: every `everyMs` of the
 * window, every world post younger than the polled age gives its staleness
 * (now − last read, its age while never read) and its relative error
 * ((true views − views held) / true views; a post never read holds 0).
 */
export class QualityBook {
  readonly #bands: BandSamples[];
  readonly #maxAgeMs: number;
  samples = 0;

  constructor(targets: readonly FreshnessTarget[]) {
    let from = 0;
    this.#bands = targets.map((t) => {
      const band = {
        label: `${span(from)}–${span(t.maxAgeMs)}`,
        maxAgeMs: t.maxAgeMs,
        targetMs: t.staleMs,
        staleness: [],
        error: [],
        before: [],
        within: 0,
        withinFlat: 0,
      };
      from = t.maxAgeMs;
      return band;
    });
    this.#maxAgeMs = from;
  }

  sample(world: World, now: number): void {
    this.samples++;
    for (const ch of world.channels) {
      while (ch.oldest < ch.dateMs.length && now - ch.dateMs[ch.oldest] >= this.#maxAgeMs) ch.oldest++;
      for (let id = ch.oldest; id < ch.dateMs.length; id++) {
        const date = ch.dateMs[id];
        if (date > now) break;
        const age = now - date;
        const band = this.#bands.find((b) => age < b.maxAgeMs)!;
        const last = ch.lastRead[id];
        const stale = last === undefined ? age : now - last;
        band.staleness.push(stale);
        if (stale <= band.targetMs) band.within++;
        if (stale <= FLAT_STRETCH * band.targetMs) band.withinFlat++;
        const truth = viewsAt(ch, id, now);
        if (truth <= 0) continue;
        band.error.push((truth - (ch.held[id] ?? 0)) / truth);
        band.before.push((truth - viewsAt(ch, id, date + e3d5b27LastRead(age))) / truth);
      }
    }
  }

  /** The figures, with discovery latency of the posts dated in [from, to). */
  result(world: World, from: number, to: number): Quality {
    const q = (xs: number[]): [number, number] => (xs.length ? [ss.quantile(xs, 0.5), ss.quantile(xs, 0.95)] : [0, 0]);
    const latency: number[] = [];
    let unread = 0;
    let neverRead = 0;
    for (const ch of world.channels) {
      for (let id = ch.dateMs.length - 1; id >= 1 && to - ch.dateMs[id] < this.#maxAgeMs; id--) {
        const date = ch.dateMs[id];
        if (date >= to) continue;
        const first = ch.firstRead[id];
        const read = first !== undefined && first < to;
        if (date < from) {
          if (!read) neverRead++;
        } else if (read) latency.push(first - date);
        else unread++;
      }
    }
    return {
      samples: this.samples,
      bands: this.#bands.map((b) => ({
        label: b.label,
        targetMs: b.targetMs,
        samples: b.staleness.length,
        staleness: q(b.staleness),
        error: q(b.error),
        before: q(b.before),
        withinTarget: b.within / Math.max(1, b.staleness.length),
        withinFlat: b.withinFlat / Math.max(1, b.staleness.length),
      })),
      discovery: {
        p50: latency.length ? ss.quantile(latency, 0.5) : 0,
        p95: latency.length ? ss.quantile(latency, 0.95) : 0,
        max: latency.length ? ss.max(latency) : 0,
        read: latency.length,
        unread,
      },
      neverRead,
    };
  }
}

function span(ms: number): string {
  if (ms === 0) return '0';
  if (ms < HOUR_MS) return `${ms / MINUTE_MS} min`;
  if (ms < DAY_MS) return `${ms / HOUR_MS} h`;
  return `${ms / DAY_MS} d`;
}

/**
 * Two shortcuts in the fake's answers, for the bench's time (not its figures):
 *
 * - channels.getMessages is answered as the fake answers it (each stored post
 *   with `countersAt`'s counters, MessageEmpty for an id it lacks) but handed
 *   over without the fake's serialization round trip. With calls filled up to
 *   100 ids that round trip was about 40 % of the bench's CPU.
 * - getChannelDifference: the fake lists every channel of its world in the
 *   answer's `chats` (O(channels²) over a run); Telegram lists the chats its
 *   messages mention, here the channel itself. And the fake answers a post
 *   as stored (0 views for a new one) where Telegram gives current counts:
 *   `beforeDifference` brings the posts about to be answered up to date.
 *
 * Anything else, and any channel the world does not hold, goes to the fake.
 */
function quickAnswers(tg: FakeTelegram, beforeDifference: (channelId: string, pts: number) => void): void {
  const all = tg.channels;
  const answer = tg.answer.bind(tg);
  tg.answer = (state, dcId, account) => {
    const r = state.request;
    if (r instanceof Api.channels.GetMessages && r.channel instanceof Api.InputChannel && r.id.length <= 100) {
      const ch = all.get(r.channel.channelId.toString());
      if (ch && !ch.unavailable && r.channel.accessHash.toString() === ch.accessHash) {
        tg.requests.push({ className: r.className, dcId, account, request: r });
        state.resolve(tg.messagesOf(ch, r.id));
        return;
      }
    }
    if (r instanceof Api.updates.GetChannelDifference && r.channel instanceof Api.InputChannel) {
      const id = r.channel.channelId.toString();
      const ch = all.get(id);
      beforeDifference(id, r.pts);
      Reflect.set(tg, 'channels', new Map(ch ? [[id, ch]] : []));
      try {
        answer(state, dcId, account);
      } finally {
        Reflect.set(tg, 'channels', all);
      }
      return;
    }
    answer(state, dcId, account);
  };
}
