/**
 * One simulated channel as a collector would see it: posts appear, a poller
 * reads their cumulative counters on an age-dependent schedule, a members
 * snapshot is taken every few minutes and official statistics once a day.
 *
 * The state machine only moves forward in simulated time and emits batches in
 * the order its actions happen. Hot paths avoid closures and per-event
 * temporaries beyond the event objects themselves, because the benchmark
 * needs hundreds of thousands of events per second from one core.
 */
import {
  type ChannelMembersEvent,
  type ChannelStatsEvent,
  type PostCountersEvent,
  type PostDeletedEvent,
  type PostEvent,
  type Source,
  SCHEMA_VERSION,
  eventId,
} from '../../streams/contract/index.ts';
import {
  burstMembers,
  isQuiet,
  labelOf,
  scheduleDay,
  viewMultiplier,
  type AnomalyLabel,
  type ScheduledAnomaly,
} from './anomalies.ts';
import { expectedViews, localHour, postContent, RngStream, type ChannelProfile } from './model.ts';
import { deriveSeed, Rng } from '../../common/index.ts';
import { DAY_MS, HOUR_MS, SECOND_MS } from '../../common/index.ts';

/**
 * A batch as published: events of one kind for one channel, all observed at
 * the same instant (one NATS message).
 */
export type SimBatch =
  | PostEvent[]
  | PostCountersEvent[]
  | ChannelMembersEvent[]
  | ChannelStatsEvent[]
  | PostDeletedEvent[];

/** Posts younger than `maxAgeMs` are polled every `everyMs`; older than the last band, never. */
export interface PollBand {
  maxAgeMs: number;
  everyMs: number;
}

/** What every channel of a run shares (validated by the simulator). */
export interface ChannelRunConfig {
  rootSeed: number;
  start: number;
  /** Exclusive end of simulated time; Infinity for an open-ended run. */
  end: number;
  /** Ascending by `maxAgeMs`. */
  pollBands: readonly PollBand[];
  membersEveryMs: number;
  maxBatchSize: number;
  source: Source;
  /** Default schedule drawn per day, or nothing beyond `planned`. */
  drawAnomalies: boolean;
  anomalyRate: number;
  warmupMs: number;
}

/** Chance per poll that somebody withdraws a reaction from a post. */
const REACTION_WITHDRAWAL_CHANCE = 0.01;

/** Mutable state of one post while it is still polled. */
class LivePost {
  /** Exact (fractional) cumulative counters; events report their floor. */
  views = 0;
  forwards = 0;
  replies = 0;
  /** Views expected at the last observation (without anomaly extras). */
  expected = 0;
  lastObservedAt: number;
  nextPollAt: number;
  /** Floors reported last time, for the daily statistics. */
  reportedViews = 0;
  reportedForwards = 0;
  readonly reactions: Float64Array;

  constructor(
    readonly postId: number,
    readonly date: number,
    readonly finalViews: number,
    readonly tauMs: number,
    readonly deleteAt: number,
    readonly emojiWeights: Float64Array,
  ) {
    this.lastObservedAt = date;
    this.nextPollAt = date + 1;
    this.reactions = new Float64Array(emojiWeights.length);
  }
}

/** Per-UTC-day sums for the daily statistics (two slots: the day being reported and the next). */
class DailyTotals {
  readonly day = [-1, -1];
  readonly joined = [0, 0];
  readonly left = [0, 0];
  readonly views = [0, 0];
  readonly shares = [0, 0];
  readonly lastMembers = [-1, -1];

  slot(t: number): number {
    const day = Math.floor(t / DAY_MS);
    const s = day & 1;
    if (this.day[s] !== day) {
      this.day[s] = day;
      this.joined[s] = 0;
      this.left[s] = 0;
      this.views[s] = 0;
      this.shares[s] = 0;
      this.lastMembers[s] = -1;
    }
    return s;
  }
}

/**
 * The generator of one channel's events.
 *
 * ```ts
 * const ch = new ChannelSim(profile, config, []);
 * const out: SimBatch[] = [];
 * ch.emitUntil(config.start + HOUR_MS, out);
 * ```
 */
export class ChannelSim {
  readonly profile: ChannelProfile;
  readonly #cfg: ChannelRunConfig;
  readonly #postsRng: Rng;
  readonly #countersRng: Rng;
  readonly #membersRng: Rng;
  readonly #channelId: string;

  /** Planted anomalies of this channel, ascending by start. */
  readonly #anomalies: ScheduledAnomaly[];
  #scheduledThroughDay = -1;
  #lastAnomalyEnd = -Infinity;

  #members: number;
  #lastMembersAt: number;
  #nextPostId: number;
  #live: LivePost[] = [];
  readonly #daily = new DailyTotals();

  /** Publication times drawn for hours up to `#postsPlannedUntil`, not yet published. */
  #postQueue: number[] = [];
  #postQueueHead = 0;
  #postsPlannedUntil: number;

  #nextPollAt: number;
  readonly #pollEveryMs: number;
  readonly #maxPostAgeMs: number;
  #nextMembersAt: number;
  #nextStatsAt: number;

  constructor(profile: ChannelProfile, cfg: ChannelRunConfig, planned: readonly ScheduledAnomaly[]) {
    this.profile = profile;
    this.#cfg = cfg;
    this.#channelId = profile.channelId;
    this.#postsRng = new Rng(deriveSeed(cfg.rootSeed, profile.index, RngStream.Posts));
    this.#countersRng = new Rng(deriveSeed(cfg.rootSeed, profile.index, RngStream.Counters));
    this.#membersRng = new Rng(deriveSeed(cfg.rootSeed, profile.index, RngStream.Members));
    this.#anomalies = [...planned].sort((a, b) => a.start - b.start);
    this.#members = profile.initialMembers;
    this.#lastMembersAt = cfg.start;
    this.#nextPostId = profile.firstPostId;
    this.#postsPlannedUntil = Math.floor(cfg.start / HOUR_MS) * HOUR_MS;

    this.#pollEveryMs = Math.min(...cfg.pollBands.map((b) => b.everyMs));
    this.#maxPostAgeMs = cfg.pollBands.length ? cfg.pollBands[cfg.pollBands.length - 1].maxAgeMs : 0;
    this.#nextPollAt = cfg.start + phaseMs(profile.pollPhase, this.#pollEveryMs);
    this.#nextMembersAt = cfg.start + phaseMs(profile.membersPhase, cfg.membersEveryMs);
    const firstFullDay = Math.ceil(cfg.start / DAY_MS);
    this.#nextStatsAt = (firstFullDay + 1) * DAY_MS + profile.statsDelayMs;
  }

  /**
   * Runs every action before `until` and appends its batches to `out` in time
   * order. Calls must use non-decreasing `until`.
   */
  emitUntil(until: number, out: SimBatch[]): void {
    const end = Math.min(until, this.#cfg.end);
    this.#ensureScheduled(end);
    for (;;) {
      const postAt = this.#peekPost(end);
      const viral = this.#nextViral();
      const viralAt = viral ? viral.start : Infinity;
      const t = Math.min(postAt, viralAt, this.#nextPollAt, this.#nextMembersAt, this.#nextStatsAt);
      if (t >= end) return;
      if (viral && viralAt === t) {
        this.#publish(t, viral, out);
      } else if (postAt === t) {
        this.#postQueueHead++;
        this.#publish(t, null, out);
      } else if (this.#nextPollAt === t) {
        this.#poll(t, out);
        this.#nextPollAt += this.#pollEveryMs;
      } else if (this.#nextMembersAt === t) {
        this.#snapshotMembers(t, out);
        this.#nextMembersAt += this.#cfg.membersEveryMs;
      } else {
        this.#reportDailyStats(t, out);
        this.#nextStatsAt += DAY_MS;
      }
    }
  }

  /** Labels of planted anomalies that began before `now`. */
  labels(now: number): AnomalyLabel[] {
    const out: AnomalyLabel[] = [];
    for (const a of this.#anomalies)
      if (a.start < now && a.start < this.#cfg.end) out.push(labelOf(a, this.#channelId));
    return out;
  }

  // ---- anomalies ------------------------------------------------------------

  /** Draws the default anomalies of every simulated day up to the one holding `t`. */
  #ensureScheduled(t: number): void {
    if (!this.#cfg.drawAnomalies) return;
    const day = Math.floor((t - this.#cfg.start) / DAY_MS);
    while (this.#scheduledThroughDay < day) {
      this.#scheduledThroughDay++;
      if ((this.#scheduledThroughDay + 1) * DAY_MS <= this.#cfg.warmupMs) continue;
      const planted = scheduleDay({
        rootSeed: this.#cfg.rootSeed,
        profile: this.profile,
        day: this.#scheduledThroughDay,
        runStart: this.#cfg.start,
        runEnd: this.#cfg.end,
        warmupMs: this.#cfg.warmupMs,
        rate: this.#cfg.anomalyRate,
        lastEnd: this.#lastAnomalyEnd,
      });
      for (const a of planted) {
        this.#anomalies.push(a);
        this.#lastAnomalyEnd = a.end;
      }
    }
  }

  /** The next viral post still to publish, if any. */
  #nextViral(): ScheduledAnomaly | null {
    for (const a of this.#anomalies) if (a.kind === 'viral_post' && a.postId === null) return a;
    return null;
  }

  /** View-spike anomalies that may overlap polls around `t`. */
  #spikesNear(t: number): ScheduledAnomaly[] | null {
    let found: ScheduledAnomaly[] | null = null;
    for (const a of this.#anomalies) {
      if (a.kind === 'view_spike' && a.start < t && a.end > t - this.#maxPostAgeMs) (found ??= []).push(a);
    }
    return found;
  }

  // ---- posting --------------------------------------------------------------

  /** Time of the next organic post before `end`, drawing hours as needed; Infinity if none. */
  #peekPost(end: number): number {
    while (this.#postQueueHead >= this.#postQueue.length) {
      if (this.#postsPlannedUntil >= end) return Infinity;
      this.#planHour();
    }
    return this.#postQueue[this.#postQueueHead];
  }

  /** Draws the publication times of the next UTC hour from the diurnal schedule. */
  #planHour(): void {
    const hourStart = this.#postsPlannedUntil;
    this.#postsPlannedUntil += HOUR_MS;
    this.#ensureScheduled(this.#postsPlannedUntil);
    const rng = this.#postsRng;
    const p = this.profile;
    const count = rng.poisson(p.postsPerDay * p.postingByHour[localHour(p, hourStart)]);
    if (this.#postQueueHead > 0) {
      this.#postQueue = [];
      this.#postQueueHead = 0;
    }
    for (let i = 0; i < count; i++) {
      const t = hourStart + Math.floor(rng.next() * 3600) * SECOND_MS;
      if (t >= this.#cfg.start && !isQuiet(this.#anomalies, t)) this.#postQueue.push(t);
    }
    this.#postQueue.sort((a, b) => a - b);
  }

  #publish(t: number, viral: ScheduledAnomaly | null, out: SimBatch[]): void {
    const p = this.profile;
    const rng = this.#postsRng;
    const postId = this.#nextPostId++;
    if (viral) viral.postId = postId;
    const reach = p.reachMedian * rng.lognormal(0, p.reachSigma) * (viral ? viral.magnitude : 1);
    const finalViews = Math.max(1, reach * this.#members);
    const deleteAt = rng.chance(p.deleteProbability)
      ? t + Math.round(rng.uniform(10 * 60, 2 * 24 * 3600)) * SECOND_MS
      : Infinity;
    const weights = new Float64Array(p.emojiWeights.length);
    for (let i = 0; i < weights.length; i++) weights[i] = p.emojiWeights[i] * rng.noise(0.3);
    this.#live.push(new LivePost(postId, t, finalViews, p.viewTauMs * rng.noise(0.2), deleteAt, weights));

    const content = postContent(rng, p);
    const event: PostEvent = {
      v: SCHEMA_VERSION,
      kind: 'post',
      id: eventId('post', this.#channelId, postId),
      channel_id: this.#channelId,
      event_time: t,
      observed_at: t,
      source: this.#cfg.source,
      data: {
        post_id: postId,
        date: t,
        edit_date: content.edit_date,
        text_length: content.text_length,
        media_type: content.media_type,
        grouped_id: content.grouped_id,
        forward_from: content.forward_from,
        mentions: content.mentions,
        links: content.links,
        hashtags: content.hashtags,
        counters: { views: 0, forwards: 0, replies: 0, reactions_total: 0, reactions: {} },
      },
    };
    out.push([event]);
  }

  // ---- counters -------------------------------------------------------------

  /** One poll: every live post that is due gets a cumulative counters snapshot. */
  #poll(t: number, out: SimBatch[]): void {
    const live = this.#live;
    const spikes = this.#spikesNear(t);
    const maxBatch = this.#cfg.maxBatchSize;
    let batch: PostCountersEvent[] = [];
    let deleted: number[] | null = null;
    let kept = 0;
    for (let i = 0; i < live.length; i++) {
      const post = live[i];
      if (post.deleteAt <= t) {
        (deleted ??= []).push(post.postId);
        continue;
      }
      const age = t - post.date;
      if (age >= this.#maxPostAgeMs) continue;
      live[kept++] = post;
      if (t < post.nextPollAt) continue;
      batch.push(this.#observe(post, t, spikes));
      post.nextPollAt = t + this.#pollInterval(age);
      if (batch.length === maxBatch) {
        out.push(batch);
        batch = [];
      }
    }
    live.length = kept;
    if (batch.length) out.push(batch);
    if (deleted) {
      const event: PostDeletedEvent = {
        v: SCHEMA_VERSION,
        kind: 'post_deleted',
        id: eventId('pd', this.#channelId, deleted.join(',')),
        channel_id: this.#channelId,
        event_time: t,
        observed_at: t,
        source: this.#cfg.source,
        data: { post_ids: deleted },
      };
      out.push([event]);
    }
  }

  #pollInterval(age: number): number {
    const bands = this.#cfg.pollBands;
    for (let i = 0; i < bands.length; i++) if (age < bands[i].maxAgeMs) return bands[i].everyMs;
    return Infinity;
  }

  /** Advances a post's counters to `t` and returns the snapshot event. */
  #observe(post: LivePost, t: number, spikes: ScheduledAnomaly[] | null): PostCountersEvent {
    const p = this.profile;
    const rng = this.#countersRng;
    const expected = expectedViews(post.finalViews, post.tauMs, t - post.date);
    const multiplier = spikes ? viewMultiplier(spikes, post.lastObservedAt, t) : 1;
    const gained = (expected - post.expected) * multiplier * rng.noise(0.25);
    post.expected = expected;
    post.lastObservedAt = t;
    post.views += gained;
    post.forwards += gained * p.forwardsPerView * rng.noise(0.5);
    if (p.repliesPerView > 0) post.replies += gained * p.repliesPerView * rng.noise(0.5);

    const reacted = gained * p.reactionsPerView * rng.noise(0.4);
    const r = post.reactions;
    const w = post.emojiWeights;
    for (let k = 0; k < r.length; k++) r[k] += reacted * w[k];
    if (rng.next() < REACTION_WITHDRAWAL_CHANCE) {
      const k = rng.int(0, r.length - 1);
      if (r[k] >= 1) r[k] -= 1;
    }
    const reactions: Record<string, number> = {};
    let reactionsTotal = 0;
    for (let k = 0; k < r.length; k++) {
      const c = Math.floor(r[k]);
      if (c > 0) {
        reactions[p.emojis[k]] = c;
        reactionsTotal += c;
      }
    }

    const views = Math.floor(post.views);
    const forwards = Math.floor(post.forwards);
    const s = this.#daily.slot(t);
    this.#daily.views[s] += views - post.reportedViews;
    this.#daily.shares[s] += forwards - post.reportedForwards;
    post.reportedViews = views;
    post.reportedForwards = forwards;

    return {
      v: SCHEMA_VERSION,
      kind: 'post_counters',
      id: eventId('pc', this.#channelId, post.postId, t),
      channel_id: this.#channelId,
      event_time: t,
      observed_at: t,
      source: this.#cfg.source,
      data: {
        post_id: post.postId,
        post_date: post.date,
        views,
        forwards,
        replies: Math.floor(post.replies),
        reactions_total: reactionsTotal,
        reactions,
      },
    };
  }

  // ---- members --------------------------------------------------------------

  /** Joins and leaves since the last snapshot, then a snapshot of the count. */
  #snapshotMembers(t: number, out: SimBatch[]): void {
    const p = this.profile;
    const rng = this.#membersRng;
    const from = this.#lastMembersAt;
    const days = (t - from) / DAY_MS;
    const activity = p.audienceByHour[localHour(p, t)];
    const members = this.#members;
    const joinRate = p.churnPerDay + Math.max(0, p.growthPerDay);
    const leaveRate = p.churnPerDay + Math.max(0, -p.growthPerDay);
    let joined = rng.poisson(members * joinRate * days * activity);
    let left = rng.poisson(members * leaveRate * days * (0.5 + 0.5 * activity));
    if (this.#anomalies.length) {
      joined += rng.poisson(burstMembers(this.#anomalies, 'subscriber_burst', members, from, t));
      left += rng.poisson(burstMembers(this.#anomalies, 'mass_unsubscribe', members, from, t));
    }
    left = Math.min(left, members + joined);
    this.#members = members + joined - left;
    this.#lastMembersAt = t;
    const s = this.#daily.slot(t);
    this.#daily.joined[s] += joined;
    this.#daily.left[s] += left;
    this.#daily.lastMembers[s] = this.#members;

    const event: ChannelMembersEvent = {
      v: SCHEMA_VERSION,
      kind: 'channel_members',
      id: eventId('cm', this.#channelId, t),
      channel_id: this.#channelId,
      event_time: t,
      observed_at: t,
      source: this.#cfg.source,
      data: { members: this.#members },
    };
    out.push([event]);
  }

  // ---- daily statistics -----------------------------------------------------

  /** Points of the official statistics graphs for the UTC day that ended before `t`. */
  #reportDailyStats(t: number, out: SimBatch[]): void {
    const day = Math.floor(t / DAY_MS) - 1;
    const dayStart = day * DAY_MS;
    const d = this.#daily;
    const s = day & 1;
    const seen = d.day[s] === day;
    const members = seen && d.lastMembers[s] >= 0 ? d.lastMembers[s] : this.#members;
    const batch: ChannelStatsEvent[] = [
      this.#statsPoint(t, dayStart, 'growth', 'total_followers', members),
      this.#statsPoint(t, dayStart, 'followers', 'joined', seen ? d.joined[s] : 0),
      this.#statsPoint(t, dayStart, 'followers', 'left', seen ? d.left[s] : 0),
      this.#statsPoint(t, dayStart, 'interactions', 'views', seen ? d.views[s] : 0),
      this.#statsPoint(t, dayStart, 'interactions', 'shares', seen ? d.shares[s] : 0),
    ];
    out.push(batch);
  }

  #statsPoint(t: number, dayStart: number, metric: string, series: string, value: number): ChannelStatsEvent {
    return {
      v: SCHEMA_VERSION,
      kind: 'channel_stats',
      id: eventId('cs', this.#channelId, metric, series, dayStart),
      channel_id: this.#channelId,
      event_time: t,
      observed_at: t,
      source: this.#cfg.source,
      data: { metric, series, t: dayStart, value },
    };
  }
}

/** Offset into a recurring interval, on whole seconds like Telegram timestamps. */
function phaseMs(phase: number, everyMs: number): number {
  return Math.floor((phase * everyMs) / SECOND_MS) * SECOND_MS;
}
