/**
 * Views at fixed ages: is this post doing better or worse than the channel's
 * posts usually do at the same age? A viral post is a spike, a flop a drop.
 *
 * Per post, the cumulative views at age A are interpolated linearly between
 * the snapshots just before and just after A (the post date counts as 0 views
 * at age 0), as soon as a snapshot past A arrives. Snapshots further apart
 * than `maxSpanFactor · A` give no value for A: that would be a guess. Per
 * channel and age, an EWMA of log1p(views at A) across posts is the usual
 * curve; each post has its own alarm across its ages, which ends (resolves)
 * when its last age has been scored.
 */
import type { PostViewsConfig, SeverityThresholds } from './config.ts';
import { closeAlarm, closedAlarm, stepAlarm, type AlarmState, type AlarmTransition } from './anomaly.ts';
import { SeriesDetector, type SeriesScore } from './detector.ts';
import { emptyEwma, type EwmaState } from './ewma.ts';

/** How far a post's views curve has been read: the last snapshot and the next age to score. */
export interface PostViewsProgress {
  lastAge: number;
  lastViews: number;
  /** Index into `agesMs` of the next age to score (= agesMs.length when done). */
  next: number;
}

/** Per post: curve progress and the post's alarm. Plain JSON data. */
export interface PostViewsPost {
  progress: PostViewsProgress;
  alarm: AlarmState;
  /** The last score, repeated by the `resolved` that ends the post's anomaly after its last age (null once the curve is done). */
  last: LastPostViewsScore | null;
}

/** What an anomaly event needs of the last scored age. */
export interface LastPostViewsScore {
  index: number;
  z: number;
  value: number;
  expected: number;
  bandLow: number;
  bandHigh: number;
}

/** Per channel: one EWMA per configured age (index-aligned with `agesMs`). */
export interface PostViewsChannel {
  ages: EwmaState[];
}

/** A value for one age of one post. */
export interface AgeReached {
  index: number;
  views: number;
}

/** One scored age of a post, with what its alarm did. */
export interface PostViewsScore {
  index: number;
  ageMs: number;
  score: SeriesScore;
  transitions: AlarmTransition[];
}

export function createPostViewsChannel(cfg: PostViewsConfig): PostViewsChannel {
  return { ages: cfg.agesMs.map(emptyEwma) };
}

export function createPostViewsPost(): PostViewsPost {
  return { progress: { lastAge: 0, lastViews: 0, next: 0 }, alarm: closedAlarm(), last: null };
}

/** The series detector scoring views at an age: log1p, no seasonality, the post's alarm is kept per post. */
export function postViewsDetector(cfg: PostViewsConfig, severity: SeverityThresholds): SeriesDetector {
  return new SeriesDetector({
    alpha: cfg.alpha,
    zOpen: cfg.zOpen,
    zClose: cfg.zClose,
    warmup: cfg.warmup,
    cooldown: 0,
    robust: cfg.robust,
    robustK: cfg.robustK,
    minSd: cfg.minSd,
    transform: 'log1p',
    seasonality: 0,
    directions: cfg.directions,
    severity,
  });
}

/**
 * Reads a new snapshot (post age, cumulative views) into the curve; returns
 * the ages it completes. Snapshots at or before the last one read change nothing.
 */
export function advanceProgress(
  p: PostViewsProgress,
  ageMs: number,
  views: number,
  agesMs: readonly number[],
  maxSpanFactor: number,
): { progress: PostViewsProgress; reached: AgeReached[] } {
  if (ageMs <= p.lastAge) {
    return { progress: ageMs === p.lastAge && views > p.lastViews ? { ...p, lastViews: views } : p, reached: [] };
  }
  const reached: AgeReached[] = [];
  let next = p.next;
  const span = ageMs - p.lastAge;
  while (next < agesMs.length && agesMs[next] <= ageMs) {
    const a = agesMs[next];
    if (span <= maxSpanFactor * a)
      reached.push({ index: next, views: p.lastViews + ((views - p.lastViews) * (a - p.lastAge)) / span });
    next++;
  }
  return { progress: { lastAge: ageMs, lastViews: views, next }, reached };
}

/**
 * Scores the ages a snapshot completes against the channel's curve and steps
 * the post's alarm. `postDate` keys the anomaly (`openedAt` = post date + age).
 * When the snapshot completes the post's last age while its anomaly is open,
 * `ended` resolves it, repeating `lastScore`.
 */
export function observePostViews(
  channel: PostViewsChannel,
  post: PostViewsPost,
  snapshot: { ageMs: number; views: number; postDate: number },
  det: SeriesDetector,
  cfg: PostViewsConfig,
): {
  channel: PostViewsChannel;
  post: PostViewsPost;
  scored: PostViewsScore[];
  ended: AlarmTransition | null;
  lastScore: LastPostViewsScore | null;
} {
  const { progress, reached } = advanceProgress(
    post.progress,
    snapshot.ageMs,
    snapshot.views,
    cfg.agesMs,
    cfg.maxSpanFactor,
  );
  let ages = channel.ages;
  let alarm = post.alarm;
  let last = post.last;
  const scored: PostViewsScore[] = [];
  for (const r of reached) {
    const ageMs = cfg.agesMs[r.index];
    const { score, slots } = det.score([ages[r.index] ?? emptyEwma()], r.views, 0);
    ages = ages.slice();
    ages[r.index] = slots[0];
    const transitions: AlarmTransition[] = [];
    const stepped = stepAlarm(
      alarm,
      { z: score.z, warm: score.warm, value: r.views, at: snapshot.postDate + ageMs },
      det.alarmParams,
    );
    alarm = stepped.state;
    if (stepped.transition) transitions.push(stepped.transition);
    last = {
      index: r.index,
      z: score.z,
      value: r.views,
      expected: score.expected,
      bandLow: score.bandLow,
      bandHigh: score.bandHigh,
    };
    scored.push({ index: r.index, ageMs, score, transitions });
  }
  let ended: AlarmTransition | null = null;
  const lastScore = last;
  if (post.progress.next < cfg.agesMs.length && progress.next >= cfg.agesMs.length && last) {
    // The curve is complete: nothing will confirm or clear the anomaly any more.
    const closed = closeAlarm(alarm, last, det.alarmParams);
    alarm = closed.state;
    ended = closed.transition;
  }
  // A finished curve with no open anomaly needs no last score: keep the checkpoint small.
  if (progress.next >= cfg.agesMs.length && !alarm.open) last = null;
  return { channel: { ages }, post: { progress, alarm, last }, scored, ended, lastScore };
}
