/**
 * Injected anomalies and their ground-truth labels.
 *
 * Detection quality can only be measured against known truth, so the
 * simulator plants anomalies of known kind, time and size and writes a label
 * for each. The default schedule is drawn per (channel, simulated day) from
 * the seed, so a channel's anomalies neither depend on how many channels run
 * nor on when the generator happens to look ahead, and nothing is planted
 * during the warm-up in which detectors learn what normal looks like.
 */
import { type ChannelProfile, localHour, RngStream } from './model.ts';
import { deriveSeed, Rng } from '../../common/index.ts';
import { DAY_MS, HOUR_MS, SECOND_MS } from '../../common/index.ts';

/** What can be planted. */
export type AnomalyKind = 'viral_post' | 'view_spike' | 'subscriber_burst' | 'mass_unsubscribe' | 'channel_quiet';

export const ANOMALY_KINDS: readonly AnomalyKind[] = [
  'viral_post',
  'view_spike',
  'subscriber_burst',
  'mass_unsubscribe',
  'channel_quiet',
];

/** The series in which a detector should see the anomaly. */
export type AnomalyMetric = 'views' | 'subscribers_gained' | 'subscribers_lost' | 'posts' | 'post_views';

/** Which metric each kind disturbs. */
export const ANOMALY_METRIC: Readonly<Record<AnomalyKind, AnomalyMetric>> = {
  viral_post: 'post_views',
  view_spike: 'views',
  subscriber_burst: 'subscribers_gained',
  mass_unsubscribe: 'subscribers_lost',
  channel_quiet: 'posts',
};

/**
 * Ground truth for one planted anomaly (one JSON line in a labels file).
 * `magnitude` is the size as planted: the reach or view multiplier, the share
 * of members joining or leaving, and 0 (no posts) for `channel_quiet`.
 */
export interface AnomalyLabel {
  label_id: string;
  channel_id: string;
  kind: AnomalyKind;
  start: number;
  end: number;
  metric: AnomalyMetric;
  post_id?: number;
  magnitude: number;
}

/**
 * An anomaly requested explicitly, e.g. by a test or a benchmark scenario.
 * Omitted size and duration are drawn from the seed like default ones.
 *
 * ```ts
 * { kind: 'subscriber_burst', channel: 3, start: Date.UTC(2024, 0, 9, 12), magnitude: 0.02 }
 * ```
 */
export interface AnomalyPlan {
  kind: AnomalyKind;
  /** Index of the simulated channel (0-based). */
  channel: number;
  /** Simulated time the anomaly begins, ms. */
  start: number;
  /** How long the anomaly lasts; for `viral_post` how long its label covers. */
  durationMs?: number;
  /** Reach multiplier (viral_post), views multiplier (view_spike) or share of members (bursts). */
  magnitude?: number;
}

/** How anomalies are chosen: none (a calm run), drawn from the seed, or exactly these. */
export type AnomalyMode = 'none' | 'default' | readonly AnomalyPlan[];

/** An anomaly as the generator applies it to one channel. */
export interface ScheduledAnomaly {
  readonly kind: AnomalyKind;
  readonly channelIndex: number;
  readonly start: number;
  readonly end: number;
  readonly magnitude: number;
  /** Set when the viral post is published. */
  postId: number | null;
}

/** Fewest extra joins or leaves of a burst, so small channels show one too. */
export const MIN_BURST_MEMBERS = 25;
/** Calm time kept between two anomalies of one channel so each stands alone. */
const GAP_MS = 12 * HOUR_MS;

interface AnomalyShape {
  durationMs: number;
  magnitude: number;
}

/** Draws the default size and duration of an anomaly of `kind`. */
export function drawShape(kind: AnomalyKind, rng: Rng): AnomalyShape {
  switch (kind) {
    case 'viral_post':
      return { durationMs: 48 * HOUR_MS, magnitude: rng.uniform(8, 20) };
    case 'view_spike':
      return { durationMs: roundSeconds(rng.uniform(2, 5) * HOUR_MS), magnitude: rng.uniform(4, 6) };
    case 'subscriber_burst':
    case 'mass_unsubscribe':
      return { durationMs: roundSeconds(rng.uniform(1, 2) * HOUR_MS), magnitude: rng.uniform(0.005, 0.03) };
    case 'channel_quiet':
      return { durationMs: roundSeconds(rng.uniform(2, 3.5) * DAY_MS), magnitude: 0 };
  }
}

/**
 * How long after its start an anomaly must stay inside the run for a detector
 * to have a fair chance; finite runs only plant anomalies that fit.
 */
export function detectionHorizonMs(kind: AnomalyKind, durationMs: number): number {
  return kind === 'viral_post' ? 24 * HOUR_MS : durationMs + HOUR_MS;
}

function roundSeconds(ms: number): number {
  return Math.round(ms / SECOND_MS) * SECOND_MS;
}

/** Kinds that make sense for the channel: silence is only anomalous for a channel that posts often. */
export function eligibleKinds(profile: ChannelProfile): readonly AnomalyKind[] {
  return profile.postsPerDay >= 3 ? ANOMALY_KINDS : ANOMALY_KINDS.filter((k) => k !== 'channel_quiet');
}

/** A start inside [dayStart, dayStart + 1 day) in a local hour drawn from the posting schedule. */
function activeTimeInDay(rng: Rng, profile: ChannelProfile, dayStart: number): number {
  const hour = rng.weighted(profile.postingByHour);
  const hourBoundary = Math.floor((dayStart + profile.utcOffsetMs) / HOUR_MS) * HOUR_MS - profile.utcOffsetMs;
  const ahead = (hour - localHour(profile, dayStart) + 24) % 24;
  let t = hourBoundary + ahead * HOUR_MS + rng.next() * HOUR_MS;
  // Shifting by whole days keeps the local hour and brings t back into the day.
  if (t < dayStart) t += DAY_MS;
  if (t >= dayStart + DAY_MS) t -= DAY_MS;
  return roundSeconds(t);
}

/** Everything the default schedule of one channel-day depends on. */
export interface DailyScheduleInput {
  rootSeed: number;
  profile: ChannelProfile;
  /** Simulated day index since the run start. */
  day: number;
  runStart: number;
  /** Exclusive end of the run (Infinity for an open-ended run). */
  runEnd: number;
  warmupMs: number;
  /** Expected anomalies per channel per day. */
  rate: number;
  /** End of the channel's last accepted anomaly (keeps anomalies apart). */
  lastEnd: number;
}

/**
 * The default anomalies of one channel on one simulated day. Every draw is
 * made before any filtering so the filters never shift later numbers.
 */
export function scheduleDay(input: DailyScheduleInput): ScheduledAnomaly[] {
  const { profile, runStart, runEnd } = input;
  const rng = new Rng(deriveSeed(input.rootSeed, profile.index, RngStream.Anomalies, input.day));
  const dayStart = runStart + input.day * DAY_MS;
  const kinds = eligibleKinds(profile);
  const count = rng.poisson(input.rate);
  const drawn: Array<{ kind: AnomalyKind; start: number; shape: AnomalyShape }> = [];
  for (let i = 0; i < count; i++) {
    const kind = rng.pick(kinds);
    const start = activeTimeInDay(rng, profile, dayStart);
    drawn.push({ kind, start, shape: drawShape(kind, rng) });
  }
  drawn.sort((a, b) => a.start - b.start);
  const out: ScheduledAnomaly[] = [];
  let lastEnd = input.lastEnd;
  for (const d of drawn) {
    if (d.start < runStart + input.warmupMs) continue;
    if (d.start < lastEnd + GAP_MS) continue;
    if (d.start + detectionHorizonMs(d.kind, d.shape.durationMs) > runEnd) continue;
    out.push({
      kind: d.kind,
      channelIndex: profile.index,
      start: d.start,
      end: d.start + d.shape.durationMs,
      magnitude: d.shape.magnitude,
      postId: null,
    });
    lastEnd = d.start + d.shape.durationMs;
  }
  return out;
}

/** Error for an explicit anomaly plan that cannot be applied; the message names the entry. */
export class AnomalyPlanError extends Error {
  override readonly name = 'AnomalyPlanError';
}

/** Validates explicit plans against the run (channels, [runStart, runEnd)) and fills omitted sizes from the seed. */
export function resolvePlans(
  plans: readonly AnomalyPlan[],
  rootSeed: number,
  profiles: readonly ChannelProfile[],
  runStart: number,
  runEnd: number,
): ScheduledAnomaly[] {
  return plans.map((plan, i) => {
    const where = `anomalies[${i}]`;
    if (!ANOMALY_KINDS.includes(plan.kind))
      throw new AnomalyPlanError(
        `${where}.kind must be one of ${ANOMALY_KINDS.join(', ')} (got ${JSON.stringify(plan.kind)})`,
      );
    if (!Number.isInteger(plan.channel) || plan.channel < 0 || plan.channel >= profiles.length) {
      throw new AnomalyPlanError(
        `${where}.channel must be a channel index in 0..${profiles.length - 1} (got ${plan.channel})`,
      );
    }
    if (!(Number.isSafeInteger(plan.start) && plan.start >= runStart && plan.start < runEnd)) {
      throw new AnomalyPlanError(
        `${where}.start must be a time in ms within the run [${runStart}, ${runEnd}) (got ${plan.start})`,
      );
    }
    if (plan.durationMs !== undefined && !(plan.durationMs > 0))
      throw new AnomalyPlanError(`${where}.durationMs must be positive (got ${plan.durationMs})`);
    if (plan.magnitude !== undefined && !(plan.magnitude >= 0))
      throw new AnomalyPlanError(`${where}.magnitude must be ≥ 0 (got ${plan.magnitude})`);
    const shape = drawShape(plan.kind, new Rng(deriveSeed(rootSeed, plan.channel, RngStream.Plans, i)));
    const durationMs = plan.durationMs ?? shape.durationMs;
    return {
      kind: plan.kind,
      channelIndex: plan.channel,
      start: plan.start,
      end: plan.start + durationMs,
      magnitude: plan.magnitude ?? shape.magnitude,
      postId: null,
    };
  });
}

/** The ground-truth label of a planted anomaly. */
export function labelOf(a: ScheduledAnomaly, channelId: string): AnomalyLabel {
  const label: AnomalyLabel = {
    label_id: `lbl_${channelId}_${a.kind}_${a.start}`,
    channel_id: channelId,
    kind: a.kind,
    start: a.start,
    end: a.end,
    metric: ANOMALY_METRIC[a.kind],
    magnitude: a.magnitude,
  };
  if (a.postId !== null) label.post_id = a.postId;
  return label;
}

/**
 * Average views multiplier of `view_spike` anomalies over (from, to]: a poll
 * covering part of a spike gets the matching part of its extra views.
 */
export function viewMultiplier(spikes: readonly ScheduledAnomaly[], from: number, to: number): number {
  const span = to - from;
  if (span <= 0) return 1;
  let extra = 0;
  for (const a of spikes) {
    const overlap = Math.min(to, a.end) - Math.max(from, a.start);
    if (overlap > 0) extra += (a.magnitude - 1) * (overlap / span);
  }
  return 1 + extra;
}

/**
 * Expected extra joins (`subscriber_burst`) or leaves (`mass_unsubscribe`) in
 * (from, to], spread evenly over each burst.
 */
export function burstMembers(
  anomalies: readonly ScheduledAnomaly[],
  kind: 'subscriber_burst' | 'mass_unsubscribe',
  members: number,
  from: number,
  to: number,
): number {
  let expected = 0;
  for (const a of anomalies) {
    if (a.kind !== kind) continue;
    const overlap = Math.min(to, a.end) - Math.max(from, a.start);
    if (overlap > 0) expected += Math.max(MIN_BURST_MEMBERS, a.magnitude * members) * (overlap / (a.end - a.start));
  }
  return expected;
}

/** True while a `channel_quiet` anomaly silences the channel. */
export function isQuiet(anomalies: readonly ScheduledAnomaly[], t: number): boolean {
  for (const a of anomalies) if (a.kind === 'channel_quiet' && t >= a.start && t < a.end) return true;
  return false;
}
