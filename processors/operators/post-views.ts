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
import {
  type AlarmParams,
  type AlarmState,
  type AlarmTransition,
  closeAlarm,
  closedAlarm,
  stepAlarm,
} from './anomaly.ts';
import { applyTransform, invertTransform, scoreOf, type SeriesScore } from './detector.ts';
import { type EwmaParams, type EwmaState, emptyEwma, updateEwma } from './ewma.ts';

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
  /** The last age scored while the curve is read (null once the curve is done): the window of a resolution at its end. */
  last: { index: number } | null;
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

/**
 * How views at an age are scored: log1p(views) against the channel's EWMA for
 * that age, across posts. Not the series detector: consecutive values here are
 * different posts, not one series over time, so there is no season, shift or
 * spread to test, only how far this post sits from the channel's usual.
 */
export interface PostViewsModel {
  ewma: EwmaParams;
  alarm: AlarmParams;
}

export function postViewsModel(cfg: PostViewsConfig, severity: SeverityThresholds): PostViewsModel {
  return {
    ewma: { alpha: cfg.alpha, warmup: cfg.warmup, robust: cfg.robust, robustK: cfg.robustK, minSd: cfg.minSd },
    alarm: { zOpen: cfg.zOpen, zClose: cfg.zClose, cooldown: 0, directions: cfg.directions, severity },
  };
}

/** Scores `views` against an age's EWMA (in log1p space) and folds it in. */
export function scoreViewsAtAge(
  state: EwmaState,
  views: number,
  m: PostViewsModel,
): { score: SeriesScore; next: EwmaState } {
  const x = applyTransform('log1p', views);
  const { score: s, next } = updateEwma(state, x, m.ewma);
  const back = (v: number) => invertTransform('log1p', v);
  const band = m.alarm.zOpen * s.sd;
  return {
    score: {
      value: views,
      expected: back(s.mean),
      sdValue: (back(s.mean + s.sd) - back(s.mean - s.sd)) / 2,
      z: s.z,
      n: s.n,
      warm: s.warm,
      bandLow: back(s.mean - band),
      bandHigh: back(s.mean + band),
      strength: Math.abs(s.z),
      reason: 'outlier',
      score: s.warm ? scoreOf(Math.abs(s.z), m.alarm.zOpen) : 0,
    },
    next,
  };
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
  model: PostViewsModel,
  cfg: PostViewsConfig,
): {
  channel: PostViewsChannel;
  post: PostViewsPost;
  scored: PostViewsScore[];
  ended: AlarmTransition | null;
  /** The last age scored before `ended` (its window), or null. */
  lastIndex: number | null;
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
    const { score, next } = scoreViewsAtAge(ages[r.index] ?? emptyEwma(), r.views, model);
    ages = ages.slice();
    ages[r.index] = next;
    const transitions: AlarmTransition[] = [];
    const stepped = stepAlarm(
      alarm,
      {
        strength: score.strength,
        reason: 'outlier',
        warm: score.warm,
        at: snapshot.postDate + ageMs,
        explanation: {
          value: r.views,
          expected: score.expected,
          bandLow: score.bandLow,
          bandHigh: score.bandHigh,
          z: score.z,
        },
      },
      model.alarm,
    );
    alarm = stepped.state;
    if (stepped.transition) transitions.push(stepped.transition);
    last = { index: r.index };
    scored.push({ index: r.index, ageMs, score, transitions });
  }
  let ended: AlarmTransition | null = null;
  const lastIndex = last?.index ?? null;
  if (post.progress.next < cfg.agesMs.length && progress.next >= cfg.agesMs.length && last) {
    // The curve is complete: nothing will confirm or clear the anomaly any more.
    const closed = closeAlarm(alarm, model.alarm);
    alarm = closed.state;
    ended = closed.transition;
  }
  // A finished curve with no open anomaly needs no last score: keep the checkpoint small.
  if (progress.next >= cfg.agesMs.length && !alarm.open) last = null;
  return { channel: { ages }, post: { progress, alarm, last }, scored, ended, lastIndex };
}
