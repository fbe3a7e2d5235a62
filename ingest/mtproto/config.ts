/**
 * The MTProto collectors' configuration section: the Telegram API
 * credentials, the key that opens stored sessions, fallback proxies, the
 * collector schedule, leases and rate limits. cli/config.ts reads it from the
 * environment and validates it; this module owns its shape and defaults, so
 * tests and tools build one without an environment.
 */
import { DEFAULT_RATE_LIMITS, type RateLimits } from './account.ts';
import { DEFAULT_JOIN_POLICY, type JoinPolicy } from './membership.ts';
import { DEFAULT_FRESHNESS, type FreshnessTarget } from './schedule.ts';
import type { CollectorSchedule } from './work.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../common/index.ts';

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
  /** Joining public channels so their updates are pushed (off by default). */
  join: JoinPolicy;
}

/** Counters are polled for a week by default: view curves have flattened by then. */
export const DEFAULT_POLL_MAX_AGE_DAYS = 7;

/**
 * The freshness targets for posts up to `maxAgeMs` old: the default targets,
 * cut at that age (a band spanning it ends there), or the oldest band
 * stretched to reach it. 0 polls nothing.
 *
 * @example
 * freshnessUpTo(2 * DAY_MS) // 15 min to 1 h, 1 h to 1 d, 6 h to 2 d
 */
export function freshnessUpTo(
  maxAgeMs: number,
  targets: readonly FreshnessTarget[] = DEFAULT_FRESHNESS,
): FreshnessTarget[] {
  if (maxAgeMs <= 0 || targets.length === 0) return [];
  const out: FreshnessTarget[] = [];
  for (const t of targets) {
    if (t.maxAgeMs >= maxAgeMs) {
      out.push({ maxAgeMs, staleMs: t.staleMs });
      return out;
    }
    out.push({ ...t });
  }
  // Older than every default band: the loosest target carries on to the configured age.
  out[out.length - 1] = { ...out[out.length - 1], maxAgeMs };
  return out;
}

const UNIT_MS: Record<string, number> = { s: 1000, m: MINUTE_MS, h: HOUR_MS, d: DAY_MS };

/**
 * Freshness targets written as `AGE:STALENESS` pairs, youngest band first,
 * each a number with a unit (s, m, h, d); ages and targets must both grow.
 *
 * @example
 * parseFreshness('1h:15m,1d:1h,7d:6h') // the defaults
 * @throws RangeError saying what is wrong
 */
export function parseFreshness(text: string): FreshnessTarget[] {
  const duration = (part: string): number => {
    const m = /^(\d+(?:\.\d+)?)([smhd])$/.exec(part.trim());
    if (!m) throw new RangeError(`"${part}" is not a duration such as 15m, 1h or 7d`);
    return Math.round(Number(m[1]) * UNIT_MS[m[2]]);
  };
  const out: FreshnessTarget[] = [];
  for (const band of text.split(',')) {
    const [age, stale, extra] = band.split(':');
    if (stale === undefined || extra !== undefined) throw new RangeError(`"${band}" is not AGE:STALENESS, e.g. 1h:15m`);
    const t = { maxAgeMs: duration(age), staleMs: duration(stale) };
    const prev = out[out.length - 1];
    if (t.staleMs <= 0 || t.maxAgeMs <= 0) throw new RangeError(`"${band}": ages and targets must be above 0`);
    if (prev && (t.maxAgeMs <= prev.maxAgeMs || t.staleMs < prev.staleMs))
      throw new RangeError(`"${band}": each band must cover older posts than the one before, with a target no tighter`);
    out.push(t);
  }
  return out;
}

/** The schedule the collectors run by default (each field has its TGPULSE_* variable in cli/config.ts). */
export const DEFAULT_COLLECTOR_SCHEDULE: CollectorSchedule = {
  freshness: freshnessUpTo(DEFAULT_POLL_MAX_AGE_DAYS * DAY_MS),
  nets: {
    membersFloorMs: 15 * MINUTE_MS,
    membersCeilingMs: 6 * HOUR_MS,
    differenceFloorMs: 15 * MINUTE_MS,
    differenceCeilingMs: HOUR_MS,
    confirmMs: HOUR_MS,
  },
  statsEveryMs: 6 * 60 * MINUTE_MS,
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
  // bench:mtproto: one account serves ~1,000 channels posting 50 a week within the freshness targets, ~430 posting 50 a day.
  channelsPerAccount: 1000,
  rateLimits: DEFAULT_RATE_LIMITS,
  join: DEFAULT_JOIN_POLICY,
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
