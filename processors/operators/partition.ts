/**
 * The partition operator: every pure operator composed into what the runtime
 * calls for each raw event of a partition.
 *
 * ```ts
 * let state = restoreState(checkpoint) ?? createPartitionState();
 * for (const event of batch) {
 *   const out = processEvent(state, event, cfg);
 *   publish(out.derived); deadLetter(out.late, 'late_event');
 * }
 * checkpoint(serializeState(state));
 * ```
 *
 * Guarantees the runtime relies on:
 * - outputs are a deterministic function of (state, event sequence): the same
 *   events in the same order give the same outputs with the same ids, also
 *   across {@link serializeState}/{@link restoreState} at any point;
 * - the state is plain JSON data; {@link processEvent} updates it in place and
 *   does no I/O and reads no clock;
 * - each event may move the partition watermark, and so close windows of any
 *   channel of the partition: their window_agg, trend and anomaly events are
 *   returned by that call.
 */
import {
  type Anomaly,
  type DerivedEvent,
  type PostCountersEvent,
  type PostEvent,
  type RawEvent,
  type Source,
  POST_VIEWS_METRIC,
  QUIET_METRIC,
  WINDOW_METRICS,
  type WindowMetric,
} from '../../streams/contract/index.ts';
import { ageLabel, windowByName, type ProcessorConfig } from './config.ts';
import type { AlarmTransition } from './anomaly.ts';
import { anomalyEvent, anomalyId, postDeltaEvent, trendEvent, windowAggEvent, type EmitContext } from './derived.ts';
import { applySnapshot, postObservationId, type CounterSnapshot, type TrackedCounters } from './deltas.ts';
import { SeriesDetector, seriesConfigOf, type SeriesDetectorState, type SeriesScore } from './detector.ts';
import {
  createPostViewsChannel,
  createPostViewsPost,
  observePostViews,
  postViewsModel,
  type PostViewsModel,
  type PostViewsChannel,
  type PostViewsPost,
} from './post-views.ts';
import { checkQuiet, createQuietState, notePost, type QuietState, type QuietTransition } from './quiet.ts';
import {
  admit,
  createWindowsState,
  flush,
  observeTime,
  watermarkOf,
  type Contribution,
  type WindowEmission,
  type WindowsState,
} from './windows.ts';
import { DAY_MS, HOUR_MS } from '../../common/index.ts';

/**
 * Version of the checkpointed state layout; {@link restoreState} refuses others.
 * 2: the quiet detector keeps posting rates per hour of day instead of recent
 * publication dates; seasonal detectors may keep a pooled scale.
 * 3: the series detector keeps models (level, season, scales), tail
 * quantiles and an alarm that remembers its reason and peak.
 */
export const PARTITION_STATE_VERSION = 3;

/** What is kept per post. */
export interface PostRecord {
  /** Publication time, from the post event or the counters' `post_date`. */
  date: number | null;
  counters: TrackedCounters | null;
  /** Whether the post has been offered to the windows' `posts` (once per post, so duplicates and edits do not recount). */
  counted: boolean;
  /** Views-at-age progress and alarm (once the date is known). */
  views: PostViewsPost | null;
}

/** What is kept per channel besides its windows. */
export interface ChannelState {
  /** Source of the channel's latest event: the `source` of its window-level outputs. */
  source: Source;
  /** Keyed by post id. */
  posts: Record<string, PostRecord>;
  detectors: Partial<Record<WindowMetric, SeriesDetectorState>>;
  postViews: PostViewsChannel;
  quiet: QuietState;
}

/** The checkpointed state of one partition: plain JSON data. */
export interface PartitionState {
  version: typeof PARTITION_STATE_VERSION;
  windows: WindowsState;
  channels: Record<string, ChannelState>;
  /** Day number of the watermark at the last post eviction. */
  evictedDay: number | null;
}

/** Why (part of) an event left no trace in the derived outputs; for metrics, not the DLQ. */
export type SkipReason =
  /** The same snapshot, member count or post again (redelivery): already counted. */
  | 'duplicate'
  /** An out-of-order snapshot that changes nothing. */
  | 'stale_snapshot'
  /** A post older than `postRetentionMs`: no longer tracked. */
  | 'post_expired'
  /** Behind the watermark for a channel without windows yet: history, kept in the raw tables. */
  | 'before_channel_start';

export interface SkippedEvent {
  event_id: string;
  reason: SkipReason;
}

/** Reserved for events an operator rejects (DLQ reason `operator_error`); the current operators accept every contract-valid event. */
export interface ProcessError {
  event: RawEvent;
  detail: string;
}

export interface ProcessOutput {
  /** Full contract envelopes, in emission order. */
  derived: DerivedEvent[];
  /**
   * Events with a contribution to an already-final window: that contribution
   * was not applied (dead-letter as `late_event`). Per-post deltas of such an
   * event were still applied and are in `derived`.
   */
  late: RawEvent[];
  skipped: SkippedEvent[];
  errors?: ProcessError[];
  /**
   * Channels whose state this event may have changed, for incremental
   * checkpoints; `'all'` when a sweep or an eviction went over every channel.
   */
  changed: string[] | 'all';
}

export function createPartitionState(): PartitionState {
  return { version: PARTITION_STATE_VERSION, windows: createWindowsState(), channels: {}, evictedDay: null };
}

/** The checkpoint text of a state; {@link restoreState} gives back an equal state. */
export function serializeState(state: PartitionState): string {
  return JSON.stringify(state);
}

/**
 * Restores a checkpoint written by {@link serializeState}: its text, or the
 * value a store already parsed from it. Throws, saying what to do, on a
 * foreign layout.
 */
export function restoreState(saved: unknown): PartitionState {
  const parsed = (typeof saved === 'string' ? JSON.parse(saved) : saved) as Partial<PartitionState> | null;
  if (
    !parsed ||
    typeof parsed !== 'object' ||
    parsed.version !== PARTITION_STATE_VERSION ||
    !parsed.windows ||
    !parsed.channels
  ) {
    throw new Error(
      `processor checkpoint has state layout version ${JSON.stringify(parsed?.version)}, expected ${PARTITION_STATE_VERSION}: ` +
        'delete the checkpoint key to rebuild the state by replaying the stream',
    );
  }
  return parsed as PartitionState;
}

/** The partition watermark (null before any event). */
export function partitionWatermark(state: PartitionState, cfg: ProcessorConfig): number | null {
  return watermarkOf(state.windows, cfg);
}

/** Detectors built once per config object. */
interface Compiled {
  detectors: Record<WindowMetric, SeriesDetector>;
  postViews: PostViewsModel;
}
const compiledByConfig = new WeakMap<ProcessorConfig, Compiled>();
function compile(cfg: ProcessorConfig): Compiled {
  let c = compiledByConfig.get(cfg);
  if (!c) {
    const detectors = {} as Record<WindowMetric, SeriesDetector>;
    for (const m of WINDOW_METRICS) detectors[m] = new SeriesDetector(seriesConfigOf(cfg.detectors[m], cfg.severity));
    c = { detectors, postViews: postViewsModel(cfg.postViews, cfg.severity) };
    compiledByConfig.set(cfg, c);
  }
  return c;
}

/** What moving the partition's clock needs: the event that moves it and where outputs go. */
interface Tick {
  state: PartitionState;
  cfg: ProcessorConfig;
  compiled: Compiled;
  event: RawEvent;
  out: ProcessOutput;
}

/** Everything a handler needs for one event. */
interface Step extends Tick {
  channel: ChannelState;
  late: boolean;
}

/**
 * Applies one raw event: deltas, window contributions, detectors, and
 * whatever the watermark's move closes in any channel of the partition.
 */
export function processEvent(state: PartitionState, event: RawEvent, cfg: ProcessorConfig): ProcessOutput {
  const out: ProcessOutput = { derived: [], late: [], skipped: [], changed: [] };
  // Statistics graphs and bot events go to raw tables only.
  if (event.kind === 'channel_stats' || event.kind === 'bot_event') return out;

  const channel = (state.channels[event.channel_id] ??= newChannel(event.source, cfg));
  channel.source = event.source;
  const step: Step = { state, cfg, compiled: compile(cfg), event, channel, out, late: false };
  switch (event.kind) {
    case 'post_counters':
      onCounters(step, event);
      break;
    case 'post':
      onPost(step, event);
      break;
    case 'channel_members':
      contribute(step, { type: 'members', time: event.event_time, members: event.data.members });
      break;
    case 'post_deleted':
      for (const id of event.data.post_ids) delete channel.posts[String(id)];
      break;
  }
  if (step.late) out.late.push(event);
  const emitted = tick(step);
  out.changed = emitted === 'all' ? 'all' : [event.channel_id, ...emitted];
  return out;
}

/**
 * What an event of a forgotten channel still does (`tgpulse channels
 * forget`): it moves the partition's clock exactly as {@link processEvent}
 * would, closing the other channels' windows at the same point, and leaves
 * nothing of its own channel. The other channels' outputs are then the same
 * whether the event was processed before its channel was forgotten or dropped
 * after, so a replay across the forget gives them the same ids.
 */
export function advanceClock(state: PartitionState, event: RawEvent, cfg: ProcessorConfig): ProcessOutput {
  const out: ProcessOutput = { derived: [], late: [], skipped: [], changed: [] };
  if (event.kind === 'channel_stats' || event.kind === 'bot_event') return out;
  const emitted = tick({ state, cfg, compiled: compile(cfg), event, out });
  out.changed = emitted;
  return out;
}

/**
 * Removes everything the state keeps of a channel: posts, detectors, quiet
 * and views-at-age state, windows (its open windows are never emitted).
 * Returns whether there was anything to remove.
 */
export function forgetChannel(state: PartitionState, channelId: string): boolean {
  const had = Object.hasOwn(state.channels, channelId) || Object.hasOwn(state.windows.channels, channelId);
  delete state.channels[channelId];
  delete state.windows.channels[channelId];
  return had;
}

/**
 * The event's time moves the partition's clock: windows it closes in any
 * channel are emitted, expired posts evicted on a new day. Returns the
 * channels with emissions, or `'all'` when a sweep went over every channel.
 */
function tick(t: Tick): string[] | 'all' {
  const { state, cfg, event } = t;
  const sweptBefore = [state.windows.sweptMaxPane, state.windows.sweptWmPane, state.evictedDay];
  // A post's embedded counters are a snapshot taken at observed_at.
  observeTime(state.windows, event.kind === 'post' ? Math.max(event.event_time, event.observed_at) : event.event_time);
  const emissions = flush(state.windows, event.channel_id, cfg);
  for (const em of emissions) onWindow(t, em);
  evictOnNewDay(state, cfg);
  const swept =
    sweptBefore[0] !== state.windows.sweptMaxPane ||
    sweptBefore[1] !== state.windows.sweptWmPane ||
    sweptBefore[2] !== state.evictedDay;
  return swept ? 'all' : emissions.map((em) => em.channelId);
}

function newChannel(source: Source, cfg: ProcessorConfig): ChannelState {
  return {
    source,
    posts: {},
    detectors: {},
    postViews: createPostViewsChannel(cfg.postViews),
    quiet: createQuietState(),
  };
}

function onCounters(step: Step, event: PostCountersEvent): void {
  const d = event.data;
  handleSnapshot(step, {
    id: event.id,
    sourceId: event.id,
    postId: d.post_id,
    postDate: step.channel.posts[String(d.post_id)]?.date ?? d.post_date ?? null,
    time: event.event_time,
    counters: {
      views: d.views,
      forwards: d.forwards,
      replies: d.replies,
      reactions_total: d.reactions_total,
      reactions: d.reactions,
    },
  });
}

function onPost(step: Step, event: PostEvent): void {
  const { channel, cfg } = step;
  const d = event.data;
  const key = String(d.post_id);
  // Publication history feeds the quiet detector even for posts too old to track.
  const noted = notePost(channel.quiet, d.date, windowByName(cfg, cfg.quiet.window)?.hopMs ?? HOUR_MS, cfg.quiet);
  channel.quiet = noted.state;
  if (noted.resolved) emitQuiet(step, noted.resolved, d.date);

  const wm = partitionWatermark(step.state, cfg);
  if (Math.max(event.observed_at, wm ?? event.observed_at) - d.date > cfg.postRetentionMs) {
    step.out.skipped.push({ event_id: event.id, reason: 'post_expired' });
    return;
  }
  const existing = channel.posts[key];
  if (existing && existing.date !== d.date) {
    existing.date = d.date;
    existing.views = null;
  }
  handleSnapshot(step, {
    id: postObservationId(event.id, event.observed_at),
    sourceId: event.id,
    postId: d.post_id,
    postDate: d.date,
    time: event.observed_at,
    counters: d.counters,
  });
  const rec = channel.posts[key];
  if (rec && !rec.counted) {
    rec.counted = true;
    contribute(step, { type: 'post', time: d.date });
  }
}

/** Counters → delta → window contribution and views-at-age. */
function handleSnapshot(step: Step, snap: CounterSnapshot): void {
  const { channel, cfg, event, out } = step;
  const key = String(snap.postId);
  const rec = channel.posts[key];
  const outcome = applySnapshot(rec?.counters ?? null, snap, {
    freshPostMs: cfg.freshPostMs,
    postRetentionMs: cfg.postRetentionMs,
    watermark: partitionWatermark(step.state, cfg),
  });
  if (outcome.kind !== 'delta') {
    out.skipped.push({
      event_id: event.id,
      reason: outcome.kind === 'expired' ? 'post_expired' : outcome.kind === 'stale' ? 'stale_snapshot' : 'duplicate',
    });
    if (outcome.kind === 'expired' && rec) delete channel.posts[key];
    return;
  }
  const post: PostRecord = rec ?? { date: null, counters: null, counted: false, views: null };
  post.date = snap.postDate;
  post.counters = outcome.tracked;
  channel.posts[key] = post;
  const delta = outcome.delta;
  out.derived.push(postDeltaEvent(emitContext(step, event.channel_id, event.source), snap.time, snap.id, delta));
  contribute(step, {
    type: 'delta',
    time: snap.time,
    views: delta.d_views,
    forwards: delta.d_forwards,
    replies: delta.d_replies,
    reactions: delta.d_reactions,
    baseline: delta.flag === 'baseline',
  });
  if (post.date !== null)
    scorePostViews(step, snap.postId, post, post.date, Math.max(0, snap.time - post.date), outcome.tracked.views);
}

function contribute(step: Step, c: Contribution): void {
  const admission = admit(step.state.windows, step.event.channel_id, c, step.cfg);
  if (admission === 'late') step.late = true;
  else if (admission === 'before_start')
    step.out.skipped.push({ event_id: step.event.id, reason: 'before_channel_start' });
  else if (admission === 'duplicate') step.out.skipped.push({ event_id: step.event.id, reason: 'duplicate' });
}

function scorePostViews(
  step: Step,
  postId: number,
  post: PostRecord,
  postDate: number,
  ageMs: number,
  views: number,
): void {
  const { channel, cfg, compiled } = step;
  const r = observePostViews(
    channel.postViews,
    post.views ?? createPostViewsPost(),
    { ageMs, views, postDate },
    compiled.postViews,
    cfg.postViews,
  );
  channel.postViews = r.channel;
  post.views = r.post;
  const ctx = emitContext(step, step.event.channel_id, channel.source);
  for (const s of r.scored) {
    const window = ageLabel(s.ageMs);
    step.out.derived.push(trendEvent(ctx, trendData(POST_VIEWS_METRIC, window, postDate, postId, s.score)));
    for (const t of s.transitions) {
      step.out.derived.push(
        anomalyEvent(ctx, anomalyData(ctx.channelId, POST_VIEWS_METRIC, 'age', window, postDate, postId, t)),
      );
    }
  }
  if (r.ended && r.lastIndex !== null) {
    const window = ageLabel(cfg.postViews.agesMs[r.lastIndex]);
    step.out.derived.push(
      anomalyEvent(ctx, anomalyData(ctx.channelId, POST_VIEWS_METRIC, 'age', window, postDate, postId, r.ended)),
    );
  }
}

/** A window emission: its window_agg, and on final complete windows the detectors and the quiet check. */
function onWindow(step: Tick, em: WindowEmission): void {
  const { cfg, compiled } = step;
  const channel = step.state.channels[em.channelId];
  const ctx = emitContext(step, em.channelId, channel.source);
  step.out.derived.push(windowAggEvent(ctx, em.agg));
  if (!em.agg.final) return;
  const agg = em.agg;
  const spec = windowByName(cfg, agg.window);
  if (em.complete && spec && agg.window_start >= em.firstData + cfg.detectorSettleMs) {
    for (const metric of WINDOW_METRICS) {
      if (cfg.detectors[metric].window !== agg.window) continue;
      const det = compiled.detectors[metric];
      const minus = cfg.detectors[metric].minus;
      const value = minus ? agg[metric] - agg[minus] : agg[metric];
      const index = Math.floor(agg.window_start / spec.hopMs);
      const s = det.step(channel.detectors[metric] ?? det.init(), value, { index, at: agg.window_start });
      channel.detectors[metric] = s.state;
      step.out.derived.push(trendEvent(ctx, trendData(metric, agg.window, agg.window_start, null, s.score)));
      if (s.transition) {
        step.out.derived.push(
          anomalyEvent(
            ctx,
            anomalyData(em.channelId, metric, agg.window, agg.window, agg.window_start, null, s.transition),
          ),
        );
      }
    }
  }
  if (agg.window === cfg.quiet.window && spec) {
    const checked = checkQuiet(
      channel.quiet,
      { start: agg.window_end - spec.hopMs, end: agg.window_end, complete: em.complete },
      cfg.quiet,
    );
    channel.quiet = checked.state;
    if (checked.transition) emitQuiet(step, checked.transition, agg.window_start, em.channelId);
  }
}

function emitQuiet(step: Tick, t: QuietTransition, at: number, channelId = step.event.channel_id): void {
  const { cfg } = step;
  const channel = step.state.channels[channelId];
  const spec = windowByName(cfg, cfg.quiet.window);
  const hop = spec?.hopMs ?? 1;
  const windowStart = Math.floor(at / hop) * hop;
  const hours = (ms: number) => ms / HOUR_MS;
  const ctx = emitContext(step, channelId, channel.source);
  step.out.derived.push(
    anomalyEvent(ctx, {
      anomaly_id: anomalyId(channelId, QUIET_METRIC, cfg.quiet.window, null, t.openedAt),
      state: t.state,
      revision: t.revision,
      metric: QUIET_METRIC,
      window: cfg.quiet.window,
      window_start: windowStart,
      post_id: null,
      direction: 'quiet',
      severity: t.severity,
      value: hours(t.gapMs),
      expected: hours(t.usualGapMs),
      band_low: 0,
      band_high: hours(t.thresholdMs),
      reason: 'silence',
      // Posts the silence would usually have held (≈ usual gaps passed; not a z-score).
      z: t.expectedPosts,
      opened_at: t.openedAt,
    }),
  );
}

function emitContext(step: Tick, channelId: string, source: Source): EmitContext {
  return { channelId, source, observedAt: step.event.observed_at };
}

/**
 * Trend data in the metric's own units: `mean` is the back-transformed
 * expectation and `sd` half the ±1σ band; `z` is in the detector's space.
 */
function trendData(
  metric: string,
  window: string,
  windowStart: number,
  postId: number | null,
  s: Pick<SeriesScore, 'value' | 'expected' | 'sdValue' | 'z' | 'n' | 'warm' | 'score'>,
) {
  return {
    metric,
    window,
    window_start: windowStart,
    post_id: postId,
    value: s.value,
    mean: s.expected,
    sd: s.sdValue,
    z: s.z,
    n: s.n,
    warm: s.warm,
    score: s.score,
  };
}

function anomalyData(
  channelId: string,
  metric: string,
  seriesKey: string,
  window: string,
  windowStart: number,
  postId: number | null,
  t: AlarmTransition,
): Anomaly {
  return {
    anomaly_id: anomalyId(channelId, metric, seriesKey, postId, t.openedAt),
    state: t.state,
    revision: t.revision,
    metric,
    window,
    window_start: windowStart,
    post_id: postId,
    direction: t.direction,
    severity: t.severity,
    reason: t.reason,
    value: t.value,
    expected: t.expected,
    band_low: t.bandLow,
    band_high: t.bandHigh,
    z: t.z,
    opened_at: t.openedAt,
  };
}

/** Evicts expired posts whenever the watermark enters a new day: bounded memory without a timer. */
function evictOnNewDay(state: PartitionState, cfg: ProcessorConfig): void {
  const wm = partitionWatermark(state, cfg);
  if (wm === null) return;
  const day = Math.floor(wm / DAY_MS);
  if (day === state.evictedDay) return;
  state.evictedDay = day;
  evict(state, cfg);
}

/**
 * Drops per-post state older than `postRetentionMs` behind the watermark (by
 * post date, or by last snapshot when the date is unknown); returns how many
 * posts were dropped. {@link processEvent} calls it daily; calling it more
 * often changes no output.
 */
export function evict(state: PartitionState, cfg: ProcessorConfig): number {
  const wm = partitionWatermark(state, cfg);
  if (wm === null) return 0;
  const horizon = wm - cfg.postRetentionMs;
  let dropped = 0;
  for (const channel of Object.values(state.channels)) {
    for (const [key, post] of Object.entries(channel.posts)) {
      const t = post.date ?? post.counters?.time ?? null;
      if (t !== null && t < horizon) {
        delete channel.posts[key];
        dropped++;
      }
    }
  }
  return dropped;
}
