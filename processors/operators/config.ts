/**
 * Configuration of the pure operators: window sizes, lateness, retention and
 * every detector. One typed object, validated once at start
 * ({@link validateProcessorConfig}); the operators read it, never change it.
 *
 * Every default below says why it was chosen. Changing window names or
 * detector settings on a running deployment is allowed, but state that was
 * checkpointed under the old settings is interpreted under the new ones.
 */

import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../common/index.ts';
import { WINDOW_METRICS, type WindowMetric } from '../../streams/contract/index.ts';

/**
 * An event-time window family. `hopMs === sizeMs` is tumbling; `hopMs < sizeMs`
 * is sliding (`sizeMs` must be a multiple of `hopMs`). Windows start at
 * multiples of `hopMs` since the epoch (UTC), so `1d` windows are UTC days.
 */
export interface WindowSpec {
  /** Name carried in `window_agg.window`, e.g. `1h`, `1d`, `24h/1h`. */
  name: string;
  sizeMs: number;
  hopMs: number;
}

/** Which side of the expectation a detector alarms on. */
export type SeriesDirection = 'spike' | 'drop';

/** Variance-stabilising transform applied before the EWMA (`log1p` is signed: sign(x)·ln(1+|x|)). */
export type SeriesTransform = 'none' | 'log1p';

/**
 * Floor on the standard deviation used for z: the largest of the EWMA sd,
 * `absolute` and `relative · |mean|` (all in transformed units). Without it a
 * flat series has sd 0 and the first wiggle scores z = ∞.
 */
export interface MinSd {
  absolute: number;
  relative: number;
}

/**
 * The tests a series detector runs (see detector.ts): the value against its
 * band, the level moving away from its baseline (shifts and drifts), and the
 * noise growing or the series freezing.
 */
export type SeriesTest = 'outlier' | 'level_shift' | 'variance';
export const SERIES_TESTS: readonly SeriesTest[] = ['outlier', 'level_shift', 'variance'];

/** Calibration of the tests' statistics against their own recent tails (see tail-calibration.ts). */
export interface CalibrationParams {
  /** The quantile tracked, e.g. 0.999. */
  tau: number;
  /** Relative step of the tracked quantile on an excursion above it. */
  step: number;
  /** Bounds of the calibration factor: how much a statistic may be damped (min) or sharpened (max). */
  minFactor: number;
  maxFactor: number;
}

/** Settings of one series detector over a series of window values. */
export interface DetectorConfig {
  /** Name of the {@link WindowSpec} whose final windows feed this detector. */
  window: string;
  /** Weight of the newest value in the slow level, the expectation (per value, in (0, 1]). */
  alpha: number;
  /** Weight of a value in its seasonal slot's offset (each slot sees one value per period). */
  seasonAlpha: number;
  /** Weight of the newest value in the fast level that the level-shift test compares with the slow one. */
  fastAlpha: number;
  /** Weight of the newest value in the short spread of the variance test. */
  spreadAlpha: number;
  /** Weight of a value in the learned scales (the band's width and each test's spread). */
  scaleAlpha: number;
  /** Calibrated strength (z units) at or above which an anomaly opens. */
  zOpen: number;
  /** Strength below which an open anomaly resolves (hysteresis: zClose ≤ zOpen). */
  zClose: number;
  /** Values folded into the model before it is scored. */
  warmup: number;
  /** After a resolve, this many values cannot open a new anomaly. */
  cooldownWindows: number;
  /** Clamp the residual folded into the level at ±robustK·σ, so an anomaly does not drag the expectation. */
  robust: boolean;
  robustK: number;
  minSd: MinSd;
  transform: SeriesTransform;
  /** 0 = none; N = an offset per slot `floor(window_start / hop) mod N` on top of the level (24 on `1h` = hour of day, UTC). */
  seasonality: number;
  /** Tests that may raise an anomaly. */
  tests: SeriesTest[];
  /** Tail calibration of the tests; null = raw statistics against zOpen. */
  calibration: CalibrationParams | null;
  /**
   * null: the detector scores the window's value of its metric. A metric:
   * it scores the difference `value − window[minus]` (e.g. net loss = lost − gained).
   */
  minus: WindowMetric | null;
  directions: SeriesDirection[];
}

/** |z| thresholds mapping a score to a severity; below `warning` an open anomaly is `info`. */
export interface SeverityThresholds {
  warning: number;
  critical: number;
}

/**
 * The quiet detector (see processors/operators/quiet.ts): per slot of the day
 * (hour of day for a `1h` window), an EWMA across days of the channel's
 * publications is its usual rate; a silence is anomalous once the posts it
 * would usually have held, λ, reach λ* = max(minExpectedPosts,
 * ln(postsPerDay / falseAlarmsPerDay)). Checked at the end of each final
 * window of `window`; resolved by the next post.
 */
export interface QuietConfig {
  /** Window whose final emissions are the moments the silence is checked; its hop is the slot of the rates (must divide a day). */
  window: string;
  /** EWMA weight of each day's count in a slot's rate. */
  alpha: number;
  /** Days every slot must have seen before the rates are trusted. */
  warmupDays: number;
  /**
   * False alarms a channel may raise per day if its posting is as random as a
   * Poisson process with its usual rates: λ* = ln(postsPerDay / this).
   */
  falseAlarmsPerDay: number;
  /** Floor of λ*: a silence never alarms with fewer expected posts than this. */
  minExpectedPosts: number;
  /** Never call a channel quiet after a shorter silence than this. */
  minGapMs: number;
  /** Posts closer than this are one publication (albums, bursts). */
  burstMs: number;
  /** λ/λ* ratios at which the severity becomes warning / critical (below: info). */
  severity: SeverityThresholds;
}

/** Views-at-age detector: a post's views at fixed ages against the channel's usual curve. */
export interface PostViewsConfig {
  /** Ages (ms after the post date) at which a post is scored, ascending. */
  agesMs: number[];
  alpha: number;
  zOpen: number;
  zClose: number;
  /** Posts scored at an age before that age's state is trusted. */
  warmup: number;
  robust: boolean;
  robustK: number;
  minSd: MinSd;
  directions: SeriesDirection[];
  /**
   * Views at age A are interpolated between the snapshots around A only when
   * they are at most `maxSpanFactor · A` apart; a wider gap is a guess, not a measurement.
   */
  maxSpanFactor: number;
}

export interface ProcessorConfig {
  windows: WindowSpec[];
  /** Watermark = max event time seen in the partition − allowedLatenessMs. */
  allowedLatenessMs: number;
  /** Per-post counter state is dropped this long after the post date; later snapshots of such posts are ignored. */
  postRetentionMs: number;
  /** A first snapshot of a post younger than this is `first` (counts in windows), older is `baseline`. */
  freshPostMs: number;
  /**
   * A channel with no window contribution for this long stops getting (empty)
   * windows and its window state is dropped; its next event starts it afresh.
   * Bounds the work a dead channel or a jump of the watermark can cause.
   */
  channelIdleMs: number;
  /**
   * Window detectors skip windows starting less than this after a channel's
   * first data: its first windows are not its normal (posts published before
   * tracking began count all their views at their first snapshot; a channel
   * followed from its first post has no older posts drawing views yet), and a
   * slot mean or shared scale learned from them takes weeks to forget.
   */
  detectorSettleMs: number;
  detectors: Record<WindowMetric, DetectorConfig>;
  quiet: QuietConfig;
  postViews: PostViewsConfig;
  /** Severity of window and post-views anomalies from |z|. */
  severity: SeverityThresholds;
}

/** Detector settings shared by the count metrics (views, forwards, ...). */
const countDetector: Omit<DetectorConfig, 'window' | 'directions' | 'seasonality' | 'alpha' | 'warmup' | 'minus'> = {
  // Each seasonal slot sees one value a period (a day for hourly windows): 0.15 remembers about two weeks.
  seasonAlpha: 0.15,
  // The level-shift test's fast level remembers about the last 10 values.
  fastAlpha: 0.1,
  spreadAlpha: 0.1,
  // The band's width and the tests' spreads follow a few hundred values (~ two weeks of hours).
  scaleAlpha: 0.005,
  // 4σ in log space is a ~3x jump for a typical channel: rare by chance, obvious to a person.
  zOpen: 4,
  // Hysteresis: stay open until the series is clearly back in band, so one anomaly is one alert.
  zClose: 2,
  // One quiet window after a resolve before the same series may alarm again (no flapping).
  cooldownWindows: 1,
  robust: true,
  // Residuals beyond 3σ move the level as 3σ: it still adapts to a lasting change, but slowly.
  robustK: 3,
  // Counts are heavy-tailed and multiplicative: log1p makes a doubling the same step at any scale.
  transform: 'log1p',
  // 0.2 in log space ≈ ±22 %: below that, changes are noise even on very regular channels.
  minSd: { absolute: 0.2, relative: 0 },
  // A surge in an hour is what a channel owner wants to hear about; a level shift in hourly
  // counts is mostly the audience's week, which the views-at-age detector judges better.
  tests: ['outlier'],
  // Channels whose hours are burstier than Gaussian noise get a wider band, learned from their own
  // past: a surge must be as rare for this channel as 4σ is for a calm one (at most half as wide
  // again; a very regular channel's band narrows by at most a tenth). The 99.5th percentile is
  // learned within weeks of hours; on the simulator this beat a fixed band on precision, recall
  // and calm alarms at once.
  calibration: { tau: 0.995, step: 0.1, minFactor: 0.5, maxFactor: 1.1 },
};

/**
 * Hourly count metrics (views, forwards, reactions). Scored on `1h` windows so
 * an alert follows the hour it happened in (final within allowedLatenessMs),
 * not the end of a UTC day.
 */
const hourly: DetectorConfig = {
  ...countDetector,
  window: '1h',
  // Engagement follows the audience's day: an offset per UTC hour of day keeps the rhythm from
  // looking anomalous, on top of a level that follows the channel over about two weeks of hours.
  alpha: 0.003,
  seasonality: 24,
  // Four days of residuals after the first two days (which set every hour of day's offset): with the settle
  // day, the first scores come on day 8 of a channel.
  warmup: 96,
  minus: null,
  // Spikes only. An hour with few views is mostly posting timing (the morning's first post came
  // an hour late: that hour has a tenth of its usual views), not a fall in reach; a fall in reach
  // shows in views_at_age (every new post a flop) and needs a daily scale to be told from timing.
  directions: ['spike'],
};

/**
 * Members: `subscribers_gained`/`lost` of a window are the positive/negative
 * parts of the 15-minute member changes, so in a growing channel `lost` is
 * mostly 0 with a few net-negative night steps, a zero-inflated series in which
 * 0 → 15 looks like a surge. Both detectors score the hour's net change instead
 * (gained − lost, resp. lost − gained: spikes only, each being the other's drop), in members:
 * its spread is the channel's flow of joins and leaves (Poisson-like, so no log),
 * learned per channel. A burst or a mass unsubscribe of 0.5 % of members in an hour or two
 * sits at z ≥ 10 on the simulator while normal hours stay below 5: 6 leaves margin for
 * real channels' burstier flow.
 */
const netMembers: Partial<DetectorConfig> = { transform: 'none', zOpen: 6, minSd: { absolute: 1, relative: 0 } };

/** The defaults a deployment starts from (see each field for why). */
export const defaultProcessorConfig: ProcessorConfig = {
  windows: [
    // Hourly and daily tumbling windows feed the serving tables and the detectors.
    { name: '1h', sizeMs: HOUR_MS, hopMs: HOUR_MS },
    { name: '1d', sizeMs: DAY_MS, hopMs: DAY_MS },
    // A rolling day updated hourly: "last 24 hours" without waiting for midnight.
    { name: '24h/1h', sizeMs: DAY_MS, hopMs: HOUR_MS },
  ],
  // Collectors poll every few minutes and batch; 10 min covers their skew without delaying results much.
  allowedLatenessMs: 10 * MINUTE_MS,
  // Posts gather almost all their views within weeks; collectors stop polling them after that.
  postRetentionMs: 30 * DAY_MS,
  // A post seen for the first time within 2 days of publication is new to us, not a backfill.
  freshPostMs: 2 * DAY_MS,
  // A week without a single snapshot means the channel is no longer tracked (≥ the largest window).
  channelIdleMs: 7 * DAY_MS,
  // The first day holds the first snapshots of posts up to freshPostMs old (each brings all its
  // views at once) and the build-up of a new channel; from the second day on, windows are normal.
  detectorSettleMs: DAY_MS,
  detectors: {
    // Two quiet hours after a views anomaly before another: a surge fades over a few hours.
    views: { ...hourly, cooldownWindows: 2 },
    forwards: { ...hourly },
    reactions: { ...hourly },
    subscribers_gained: { ...hourly, ...netMembers, minus: 'subscribers_lost' },
    subscribers_lost: { ...hourly, ...netMembers, minus: 'subscribers_gained' },
    // Posting cadence changes slowly; a longer warm-up avoids alarming on a new channel's first weeks.
    // The floor of 0.3 keeps 0-vs-1 post days of a slow channel quiet (the quiet detector covers silence).
    posts: {
      ...countDetector,
      window: '1d',
      alpha: 0.1,
      warmup: 14,
      seasonality: 0,
      minus: null,
      // One value a day: the scales follow the last few weeks.
      scaleAlpha: 0.1,
      zOpen: 3.5,
      minSd: { absolute: 0.3, relative: 0 },
      directions: ['spike', 'drop'],
    },
  },
  quiet: {
    // Checked hourly: a silence is noticed within the hour it crosses the threshold, and
    // hourly slots follow the owner's day (the night is not a silence).
    window: '1h',
    // Each slot sees one count a day: 0.1 remembers about the last three weeks, long enough
    // that a slot's rate is not a handful of posts, short enough to follow a new schedule.
    alpha: 0.1,
    // A week of every hour of day before the first alarm (the slots' rates need several days each).
    warmupDays: 7,
    // One false alarm per channel in ~500 days if posting is Poisson with the usual rates (the
    // simulator's calm runs give ≈ 0.002 per scored channel-day). λ* is then 6.2 expected posts
    // for a channel posting once a day, 7.3 at 3/day, 9.6 at 30/day: a 30-post/day channel is
    // quiet after 5–6 of its daytime hours without a post, a 3-post/day one after ~2.5 days.
    falseAlarmsPerDay: 0.002,
    // Whatever the volume, a silence must hold at least 6 usual posts (e^−6 ≈ 0.25 % by chance).
    minExpectedPosts: 6,
    // Never call a channel quiet after less than 6 hours: that is just a pause.
    minGapMs: 6 * HOUR_MS,
    // Posts within a minute are one publication (albums are sent as several messages).
    burstMs: MINUTE_MS,
    // 1.5× and 3× the expected posts of the threshold.
    severity: { warning: 1.5, critical: 3 },
  },
  postViews: {
    // First hour (push reach), first quarter-day, first day (most of a post's views).
    agesMs: [HOUR_MS, 6 * HOUR_MS, DAY_MS],
    // One value per post: 0.1 remembers about the last 20 posts.
    alpha: 0.1,
    // A post's reach varies by a log-sd of 0.2–0.4 around the channel's usual, and that sd is
    // estimated from ~20 posts (so z has heavy tails): at 3.5, about one post in 150 alarmed by
    // chance (≈ 0.06 per channel-day on the simulator). 5 is a post doing ~4–7× (or a fifth of)
    // its usual: viral posts (8–20× reach) mostly score 6–17 at some age, while chance alarms
    // fall to ≈ 0.001 per channel-day.
    zOpen: 5,
    zClose: 2.5,
    warmup: 10,
    robust: true,
    robustK: 3,
    minSd: { absolute: 0.15, relative: 0 },
    directions: ['spike', 'drop'],
    maxSpanFactor: 1,
  },
  // |z| 4–5 is worth a look, 5–7 is a clear change, ≥ 7 (≈ 4x in log units at sd 0.2) is an incident.
  severity: { warning: 5, critical: 7 },
};

/**
 * The pane: the largest duration every window size and hop is a multiple of.
 * Windows are assembled from panes, so a sliding window costs one pane per hop.
 */
export function paneSizeMs(windows: readonly WindowSpec[]): number {
  let g = 0;
  for (const w of windows) g = gcd(gcd(g, w.hopMs), w.sizeMs);
  return g;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** The window spec of a name, or undefined. */
export function windowByName(cfg: ProcessorConfig, name: string): WindowSpec | undefined {
  return cfg.windows.find((w) => w.name === name);
}

/** A compact label for an age in ms (`1h`, `6h`, `1d`, `90m`), used as the `window` of post-level series. */
export function ageLabel(ms: number): string {
  if (ms % DAY_MS === 0) return `${ms / DAY_MS}d`;
  if (ms % HOUR_MS === 0) return `${ms / HOUR_MS}h`;
  if (ms % MINUTE_MS === 0) return `${ms / MINUTE_MS}m`;
  return `${ms}ms`;
}

/**
 * Checks a configuration; returns one message per problem (empty when valid),
 * each naming the field and what it expects, so a bad value stops the start.
 */
export function validateProcessorConfig(cfg: ProcessorConfig): string[] {
  const problems: string[] = [];
  const posInt = (v: number, path: string) => {
    if (!Number.isSafeInteger(v) || v <= 0) problems.push(`${path} must be a positive integer number of ms, got ${v}`);
  };
  if (cfg.windows.length === 0) problems.push('windows must name at least one window');
  const names = new Set<string>();
  for (const [i, w] of cfg.windows.entries()) {
    const p = `windows[${i}]`;
    if (!w.name || w.name.length > 256) problems.push(`${p}.name must be a non-empty string of at most 256 characters`);
    if (names.has(w.name)) problems.push(`${p}.name ${JSON.stringify(w.name)} is used twice`);
    names.add(w.name);
    posInt(w.sizeMs, `${p}.sizeMs`);
    posInt(w.hopMs, `${p}.hopMs`);
    if (w.hopMs > w.sizeMs || w.sizeMs % w.hopMs !== 0)
      problems.push(`${p}: sizeMs must be a multiple of hopMs (hop ≤ size)`);
  }
  if (!Number.isSafeInteger(cfg.allowedLatenessMs) || cfg.allowedLatenessMs < 0) {
    problems.push(`allowedLatenessMs must be a non-negative integer number of ms, got ${cfg.allowedLatenessMs}`);
  }
  posInt(cfg.postRetentionMs, 'postRetentionMs');
  posInt(cfg.freshPostMs, 'freshPostMs');
  posInt(cfg.channelIdleMs, 'channelIdleMs');
  if (!Number.isSafeInteger(cfg.detectorSettleMs) || cfg.detectorSettleMs < 0)
    problems.push(`detectorSettleMs must be a non-negative integer number of ms, got ${cfg.detectorSettleMs}`);
  const largest = Math.max(0, ...cfg.windows.map((w) => w.sizeMs));
  if (cfg.channelIdleMs < largest)
    problems.push(
      `channelIdleMs must be at least the largest window size (${largest} ms), or windows holding data would never be emitted`,
    );
  for (const metric of WINDOW_METRICS) {
    const d = cfg.detectors[metric];
    const p = `detectors.${metric}`;
    if (!d) {
      problems.push(`${p} is missing`);
      continue;
    }
    if (!names.has(d.window))
      problems.push(`${p}.window ${JSON.stringify(d.window)} is not the name of a configured window`);
    checkSeries(problems, p, d);
    if (!Number.isInteger(d.cooldownWindows) || d.cooldownWindows < 0)
      problems.push(`${p}.cooldownWindows must be a non-negative integer`);
    if (!Number.isInteger(d.seasonality) || d.seasonality < 0 || d.seasonality > 10_000)
      problems.push(`${p}.seasonality must be an integer in [0, 10000]`);
    if (d.transform !== 'none' && d.transform !== 'log1p') problems.push(`${p}.transform must be 'none' or 'log1p'`);
    for (const [name, w] of Object.entries({
      seasonAlpha: d.seasonAlpha,
      fastAlpha: d.fastAlpha,
      spreadAlpha: d.spreadAlpha,
      scaleAlpha: d.scaleAlpha,
    }))
      if (!(w > 0 && w <= 1)) problems.push(`${p}.${name} must be in (0, 1], got ${w}`);
    if (d.tests.length === 0 || d.tests.some((t) => !SERIES_TESTS.includes(t)))
      problems.push(`${p}.tests must list some of ${SERIES_TESTS.join(', ')}`);
    const c = d.calibration;
    if (c !== null && !(c.tau > 0.5 && c.tau < 1 && c.step > 0 && c.minFactor > 0 && c.maxFactor >= c.minFactor))
      problems.push(`${p}.calibration must be null or have 0.5 < tau < 1, step > 0, 0 < minFactor ≤ maxFactor`);
    if (d.minus !== null && (!WINDOW_METRICS.includes(d.minus) || d.minus === metric))
      problems.push(`${p}.minus must be null or another window metric`);
  }
  const q = cfg.quiet;
  if (!names.has(q.window))
    problems.push(`quiet.window ${JSON.stringify(q.window)} is not the name of a configured window`);
  const qSpec = windowByName(cfg, q.window);
  if (qSpec && DAY_MS % qSpec.hopMs !== 0)
    problems.push(
      `quiet.window ${JSON.stringify(q.window)} must hop by a divisor of a day (its hop is the slot of the daily rates)`,
    );
  if (!(q.alpha > 0 && q.alpha <= 1)) problems.push(`quiet.alpha must be in (0, 1], got ${q.alpha}`);
  if (!Number.isInteger(q.warmupDays) || q.warmupDays < 1) problems.push('quiet.warmupDays must be a positive integer');
  if (!(q.falseAlarmsPerDay > 0)) problems.push('quiet.falseAlarmsPerDay must be > 0');
  if (!(q.minExpectedPosts > 0)) problems.push('quiet.minExpectedPosts must be > 0');
  if (!(q.minGapMs > 0)) problems.push('quiet.minGapMs must be > 0');
  if (!(q.burstMs >= 0)) problems.push('quiet.burstMs must be ≥ 0');
  if (!(q.severity.warning >= 1 && q.severity.critical >= q.severity.warning))
    problems.push('quiet.severity must satisfy 1 ≤ warning ≤ critical');
  const pv = cfg.postViews;
  if (pv.agesMs.length === 0) problems.push('postViews.agesMs must list at least one age');
  pv.agesMs.forEach((a, i) => {
    posInt(a, `postViews.agesMs[${i}]`);
    if (i > 0 && a <= pv.agesMs[i - 1]) problems.push('postViews.agesMs must be strictly ascending');
  });
  checkSeries(problems, 'postViews', pv);
  if (!(pv.maxSpanFactor > 0)) problems.push('postViews.maxSpanFactor must be > 0');
  if (!(cfg.severity.warning > 0 && cfg.severity.critical >= cfg.severity.warning))
    problems.push('severity must satisfy 0 < warning ≤ critical');
  return problems;
}

function checkSeries(
  problems: string[],
  p: string,
  d: Pick<DetectorConfig, 'alpha' | 'zOpen' | 'zClose' | 'warmup' | 'robustK' | 'minSd' | 'directions'>,
): void {
  if (!(d.alpha > 0 && d.alpha <= 1)) problems.push(`${p}.alpha must be in (0, 1], got ${d.alpha}`);
  if (!(d.zOpen > 0)) problems.push(`${p}.zOpen must be > 0`);
  if (!(d.zClose >= 0 && d.zClose <= d.zOpen)) problems.push(`${p}.zClose must be in [0, zOpen]`);
  if (!Number.isInteger(d.warmup) || d.warmup < 1) problems.push(`${p}.warmup must be a positive integer`);
  if (!(d.robustK > 0)) problems.push(`${p}.robustK must be > 0`);
  if (!(d.minSd.absolute >= 0 && d.minSd.relative >= 0)) problems.push(`${p}.minSd values must be ≥ 0`);
  if (d.directions.length === 0 || d.directions.some((x) => x !== 'spike' && x !== 'drop'))
    problems.push(`${p}.directions must list 'spike' and/or 'drop'`);
}
