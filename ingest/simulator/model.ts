/**
 * The behavioural model of a synthetic Telegram channel: who it reaches, when
 * it posts, how a post's views accumulate and how its audience drifts.
 *
 * The numbers aim at the shapes real channels show — audiences spread over
 * orders of magnitude, posting that follows the owner's day, views that
 * saturate within a day or two, interactions in proportion to views — so the
 * detectors downstream face data with realistic scale and noise.
 */
import type { PostEvent } from '../../streams/contract/index.ts';
import { deriveSeed, Rng } from '../../common/index.ts';
import { HOUR_MS, MINUTE_MS, SECOND_MS } from '../../common/index.ts';

/** Tags of the independent random sub-streams of one channel. */
export const RngStream = {
  Profile: 1,
  Posts: 2,
  Counters: 3,
  Members: 4,
  Anomalies: 5,
  Plans: 6,
} as const;

/**
 * Ids of simulated channels: realistic 10-digit Telegram ids assigned in
 * index order, so channel 0 is always `1001234567` whatever the seed.
 */
export const SIMULATED_CHANNEL_ID_BASE = 1_001_234_567;

/** The Telegram channel id (decimal string) of the simulated channel at `index`. */
export function channelIdOf(index: number): string {
  return String(SIMULATED_CHANNEL_ID_BASE + index);
}

/** Reactions a channel may enable; each channel uses 3–6 of them. */
const EMOJI_PALETTE = [
  '👍',
  '❤',
  '🔥',
  '😁',
  '😢',
  '🤔',
  '👎',
  '🎉',
  '🤯',
  '😱',
  '🙏',
  '👏',
  '💯',
  '🤡',
  '⚡',
  '🏆',
] as const;

/** Relative posting intensity by local hour: quiet nights, a morning rise, an evening peak. */
const POSTING_SHAPE = [
  0.25, 0.12, 0.06, 0.04, 0.04, 0.08, 0.25, 0.6, 1.0, 1.2, 1.25, 1.2, 1.15, 1.1, 1.1, 1.1, 1.15, 1.25, 1.35, 1.4, 1.3,
  1.1, 0.8, 0.45,
] as const;

/** UTC offsets (minutes) channels live in, weighted by repetition toward the largest audiences. */
const UTC_OFFSETS_MIN = [180, 180, 180, 180, 120, 60, 0, 240, 300, 330, 420, 480, -180, -300, -240, 540] as const;

const MEDIA_TYPES = [
  'none',
  'photo',
  'video',
  'document',
  'audio',
  'voice',
  'poll',
  'webpage',
  'sticker',
  'other',
] as const;
const MEDIA_MIX = [0.35, 0.33, 0.15, 0.03, 0.01, 0.01, 0.03, 0.07, 0.01, 0.01] as const;

const HASHTAGS = [
  '#news',
  '#crypto',
  '#ai',
  '#sport',
  '#tech',
  '#markets',
  '#travel',
  '#music',
  '#gaming',
  '#science',
] as const;

/** Everything that makes one synthetic channel behave the way it does; fixed for a run. */
export interface ChannelProfile {
  readonly index: number;
  readonly channelId: string;
  /** Members when the simulation starts (log-uniform over 1e3..1e6). */
  readonly initialMembers: number;
  /** Mean posts per day (log-uniform over 1..30). */
  readonly postsPerDay: number;
  /** The owner's time zone: posting and joining follow local hours. */
  readonly utcOffsetMs: number;
  /** Share of a day's posts falling in each local hour; sums to 1. */
  readonly postingByHour: Float64Array;
  /** Relative joining/leaving activity by local hour; averages 1. */
  readonly audienceByHour: Float64Array;
  /** Median share of members that eventually view a post. */
  readonly reachMedian: number;
  /** Log-sd of the per-post reach noise. */
  readonly reachSigma: number;
  /** Time constant of the saturating view curve. */
  readonly viewTauMs: number;
  readonly forwardsPerView: number;
  /** 0 when the channel has no discussion group. */
  readonly repliesPerView: number;
  readonly reactionsPerView: number;
  /** Enabled reactions, most popular first. */
  readonly emojis: readonly string[];
  /** Popularity of each of `emojis`; sums to 1. */
  readonly emojiWeights: Float64Array;
  /** Net member growth per day as a fraction of members (may be negative). */
  readonly growthPerDay: number;
  /** Members leaving per day as a fraction of members, offset by extra joins. */
  readonly churnPerDay: number;
  /** Probability that a post gets deleted within two days. */
  readonly deleteProbability: number;
  readonly mediaWeights: Float64Array;
  /** Message id of the first simulated post. */
  readonly firstPostId: number;
  /** Where in each polling interval this channel's polls fall (0..1), spreading the load. */
  readonly pollPhase: number;
  readonly membersPhase: number;
  /** How long after UTC midnight the daily statistics are fetched. */
  readonly statsDelayMs: number;
}

function normalize(values: Float64Array, total: number): Float64Array {
  let sum = 0;
  for (const v of values) sum += v;
  for (let i = 0; i < values.length; i++) values[i] = (values[i] / sum) * total;
  return values;
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : Math.min(x, hi);
}

/**
 * Draws the profile of the channel at `index`. It depends only on the root
 * seed and the index, so channel 7 is the same channel in a run of 10 or of
 * 10 000 channels.
 */
export function channelProfile(rootSeed: number, index: number): ChannelProfile {
  const rng = new Rng(deriveSeed(rootSeed, index, RngStream.Profile));

  const postingByHour = new Float64Array(24);
  for (let h = 0; h < 24; h++) postingByHour[h] = POSTING_SHAPE[h] * rng.noise(0.25);
  normalize(postingByHour, 1);
  const audienceByHour = new Float64Array(24);
  for (let h = 0; h < 24; h++) audienceByHour[h] = 0.5 + postingByHour[h] * 24;
  normalize(audienceByHour, 24);

  const emojiCount = rng.int(3, 6);
  const pool: string[] = [...EMOJI_PALETTE];
  const emojis: string[] = [];
  for (let i = 0; i < emojiCount; i++) emojis.push(pool.splice(rng.int(0, pool.length - 1), 1)[0]);
  const emojiWeights = new Float64Array(emojiCount);
  for (let i = 0; i < emojiCount; i++) emojiWeights[i] = rng.noise(0.3) / (i + 1) ** 1.2;
  normalize(emojiWeights, 1);

  const mediaWeights = new Float64Array(MEDIA_MIX.length);
  for (let i = 0; i < MEDIA_MIX.length; i++) mediaWeights[i] = MEDIA_MIX[i] * rng.noise(0.4);
  normalize(mediaWeights, 1);

  return {
    index,
    channelId: channelIdOf(index),
    initialMembers: Math.round(rng.logUniform(1e3, 1e6)),
    postsPerDay: rng.logUniform(1, 30),
    utcOffsetMs: rng.pick(UTC_OFFSETS_MIN) * MINUTE_MS,
    postingByHour,
    audienceByHour,
    reachMedian: rng.uniform(0.1, 0.6),
    reachSigma: rng.uniform(0.2, 0.4),
    viewTauMs: rng.logUniform(3 * HOUR_MS, 14 * HOUR_MS),
    forwardsPerView: rng.logUniform(0.002, 0.02),
    repliesPerView: rng.chance(0.5) ? rng.logUniform(0.0005, 0.005) : 0,
    reactionsPerView: rng.logUniform(0.005, 0.04),
    emojis,
    emojiWeights,
    growthPerDay: clamp(rng.gaussian(0.003, 0.004), -0.004, 0.02),
    churnPerDay: rng.uniform(0.001, 0.005),
    deleteProbability: rng.uniform(0, 0.03),
    mediaWeights,
    firstPostId: rng.int(2, 40_000),
    pollPhase: rng.next(),
    membersPhase: rng.next(),
    statsDelayMs: Math.round(rng.uniform(10 * MINUTE_MS, 3 * HOUR_MS) / SECOND_MS) * SECOND_MS,
  };
}

/** Local hour (0..23) of a UTC instant in the channel's time zone. */
export function localHour(profile: ChannelProfile, t: number): number {
  const h = Math.floor((t + profile.utcOffsetMs) / HOUR_MS) % 24;
  return h < 0 ? h + 24 : h;
}

/**
 * Cumulative views a post is expected to have at `ageMs`: fast at first, then
 * saturating at `finalViews` as the audience has seen it.
 */
export function expectedViews(finalViews: number, tauMs: number, ageMs: number): number {
  return ageMs <= 0 ? 0 : finalViews * (1 - Math.exp(-ageMs / tauMs));
}

/** The content fields of a post event: everything except ids, date and counters. */
export type PostContent = Omit<PostEvent['data'], 'post_id' | 'date' | 'counters'>;

function handle(rng: Rng): string {
  return `chan_${rng.int(1000, 99_999).toString(36)}`;
}

/** Draws plausible content metadata for one post. */
export function postContent(rng: Rng, profile: ChannelProfile): PostContent {
  const media = MEDIA_TYPES[rng.weighted(profile.mediaWeights)];
  const captionless = media !== 'none' && rng.chance(0.3);
  const textLength = captionless ? 0 : Math.min(4096, Math.max(1, Math.round(rng.lognormal(5.5, 0.9))));
  const album = (media === 'photo' || media === 'video') && rng.chance(0.08);
  const forwarded = rng.chance(0.05);
  const mentions: string[] = rng.chance(0.1) ? [`@${handle(rng)}`] : [];
  const links: string[] = [];
  if (rng.chance(0.25))
    links.push(
      rng.chance(0.5)
        ? `https://t.me/${handle(rng)}/${rng.int(1, 99_999)}`
        : `https://example.com/a/${rng.int(1, 999_999)}`,
    );
  const hashtags: string[] = [];
  if (rng.chance(0.2)) {
    hashtags.push(rng.pick(HASHTAGS));
    if (rng.chance(0.3)) hashtags.push(rng.pick(HASHTAGS));
  }
  return {
    edit_date: null,
    text_length: textLength,
    media_type: media,
    grouped_id: album
      ? `13${String(rng.int(0, 99_999_999)).padStart(8, '0')}${String(rng.int(0, 99_999_999)).padStart(8, '0')}`
      : null,
    forward_from: forwarded
      ? {
          channel_id: String(rng.int(1_000_000_000, 1_999_999_999)),
          post_id: rng.chance(0.9) ? rng.int(1, 200_000) : null,
        }
      : null,
    mentions,
    links,
    hashtags,
  };
}
