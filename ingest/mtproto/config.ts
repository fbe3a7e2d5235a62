/**
 * The MTProto collectors' configuration section: the Telegram API
 * credentials, the key that opens stored sessions, fallback proxies, the
 * collector schedule, leases and rate limits. cli/config.ts reads it from the
 * environment and validates it; this module owns its shape and defaults, so
 * tests and tools build one without an environment.
 */
import { DEFAULT_RATE_LIMITS, type RateLimits } from './account.ts';
import { DEFAULT_POLL_TIERS, type PollTier } from './schedule.ts';
import type { CollectorSchedule } from './work.ts';
import { DAY_MS, MINUTE_MS } from '../../common/index.ts';

export interface MtprotoConfig {
  /** From my.telegram.org (TGPULSE_TG_API_ID); null when not configured: login and ingest say so. */
  apiId: number | null;
  /** From my.telegram.org (TGPULSE_TG_API_HASH); null when not configured. */
  apiHash: string | null;
  /** Seals and opens stored sessions (TGPULSE_SESSION_KEY); never logged. Null when not configured. */
  sessionKey: Buffer | null;
  /** Proxies tried in turn when an account cannot connect through its own (or directly). */
  proxies: string[];
  schedule: CollectorSchedule;
  /** How long a channel lease lasts without renewal: a dead collector's channels move after this. */
  leaseTtlMs: number;
  /** Channels one account takes at most. */
  channelsPerAccount: number;
  /** Per-account request budgets. */
  rateLimits: RateLimits;
}

/** Counters are polled for a week by default: view curves have saturated by then. */
export const DEFAULT_POLL_MAX_AGE_DAYS = 7;

/**
 * The poll tiers for posts up to `maxAgeMs` old: the default tiers, cut at
 * that age (a tier spanning it ends there), or the oldest tier stretched to
 * reach it. 0 polls nothing.
 *
 * @example
 * pollTiersUpTo(2 * DAY_MS) // 5 min to 1 h, 15 min to 6 h, 30 min to 1 d, 2 h to 2 d
 */
export function pollTiersUpTo(maxAgeMs: number, tiers: readonly PollTier[] = DEFAULT_POLL_TIERS): PollTier[] {
  if (maxAgeMs <= 0 || tiers.length === 0) return [];
  const out: PollTier[] = [];
  for (const t of tiers) {
    if (t.maxAgeMs >= maxAgeMs) {
      out.push({ maxAgeMs, everyMs: t.everyMs });
      return out;
    }
    out.push({ ...t });
  }
  // Older than every default tier: the slowest rate carries on to the configured age.
  out[out.length - 1] = { ...out[out.length - 1], maxAgeMs };
  return out;
}

/** The schedule the collectors run by default (each field has its TGPULSE_* variable in cli/config.ts). */
export const DEFAULT_COLLECTOR_SCHEDULE: CollectorSchedule = {
  pollTiers: pollTiersUpTo(DEFAULT_POLL_MAX_AGE_DAYS * DAY_MS),
  membersEveryMs: 15 * MINUTE_MS,
  statsEveryMs: 6 * 60 * MINUTE_MS,
  differenceEveryMs: 15 * MINUTE_MS,
  keepAliveEveryMs: 15 * MINUTE_MS,
  backfillDays: 30,
  backfillPagesPerStep: 5,
  topPostsForStats: 3,
};

/** A configuration with nothing set: no credentials, default schedule and limits. */
export const DEFAULT_MTPROTO_CONFIG: MtprotoConfig = {
  apiId: null,
  apiHash: null,
  sessionKey: null,
  proxies: [],
  schedule: DEFAULT_COLLECTOR_SCHEDULE,
  leaseTtlMs: 60_000,
  channelsPerAccount: 250,
  rateLimits: DEFAULT_RATE_LIMITS,
};

/** The Telegram API credentials, or a message naming what is missing and where to get it. */
export function apiCredentials(
  config: MtprotoConfig,
): { ok: true; apiId: number; apiHash: string } | { ok: false; problem: string } {
  if (config.apiId === null || config.apiHash === null) {
    return {
      ok: false,
      problem:
        'TGPULSE_TG_API_ID and TGPULSE_TG_API_HASH are not set: create an application at https://my.telegram.org (API development tools) and export its api_id and api_hash',
    };
  }
  return { ok: true, apiId: config.apiId, apiHash: config.apiHash };
}

/** The session key, or a message saying how to make one. */
export function sessionKeyOf(config: MtprotoConfig): { ok: true; key: Buffer } | { ok: false; problem: string } {
  if (config.sessionKey === null) {
    return {
      ok: false,
      problem:
        'TGPULSE_SESSION_KEY is not set: it seals the Telegram sessions stored in the control plane. Make one with `openssl rand -hex 32`, ' +
        'export it as TGPULSE_SESSION_KEY and keep it safe (sessions sealed with it open only with it)',
    };
  }
  return { ok: true, key: config.sessionKey };
}
