import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';
import { DEFAULT_FRESHNESS } from '../ingest/mtproto/schedule.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../common/index.ts';
import { freshnessUpTo, parseFreshness } from '../ingest/mtproto/config.ts';

const KEY_HEX = 'a'.repeat(64);

describe('the MTProto collectors are configured from TGPULSE_* variables', () => {
  it('runs without Telegram credentials by default, with the documented schedule', () => {
    const m = loadConfig({}).mtproto;
    expect(m.apiId).toBeNull();
    expect(m.apiHash).toBeNull();
    expect(m.sessionKey).toBeNull();
    expect(m.proxies).toEqual([]);
    expect(m.schedule.freshness).toEqual(DEFAULT_FRESHNESS);
    expect(m.schedule).toMatchObject({
      nets: {
        membersFloorMs: 900_000,
        membersCeilingMs: 21_600_000,
        differenceFloorMs: 900_000,
        differenceCeilingMs: 3_600_000,
        confirmMs: 3_600_000,
      },
      statsEveryMs: 21_600_000,
      keepAliveEveryMs: 900_000,
      backfillDays: 30,
      backfillPagesPerStep: 5,
      topPostsForStats: 3,
    });
    expect(m.leaseTtlMs).toBe(60_000);
    expect(m.channelsPerAccount).toBe(1000);
    expect(m.rateLimits.default).toBe(30);
    expect(m.join).toEqual({ enabled: false, maxPerAccount: 450, everyMs: 180_000 });
  });

  it('reads credentials, key, proxies and intervals', () => {
    const m = loadConfig({
      TGPULSE_TG_API_ID: '12345',
      TGPULSE_TG_API_HASH: '0123456789ABCDEF0123456789abcdef',
      TGPULSE_SESSION_KEY: KEY_HEX,
      TGPULSE_MTPROTO_PROXIES:
        'socks5://u:p@10.0.0.1:1080, mtproxy://ee0123456789abcdef0123456789abcdef@proxy.example:443',
      TGPULSE_MEMBERS_INTERVAL_S: '600',
      TGPULSE_MEMBERS_MAX_INTERVAL_S: '7200',
      TGPULSE_STATS_INTERVAL_S: '3600',
      TGPULSE_DIFFERENCE_INTERVAL_S: '120',
      TGPULSE_PTS_CHECK_S: '1800',
      TGPULSE_FRESHNESS: '30m:5m,12h:30m,3d:2h',
      TGPULSE_JOIN_CHANNELS: '1',
      TGPULSE_JOIN_MAX_PER_ACCOUNT: '200',
      TGPULSE_JOIN_EVERY_S: '600',
      TGPULSE_BACKFILL_DAYS: '90',
      TGPULSE_LEASE_TTL_S: '30',
      TGPULSE_CHANNELS_PER_ACCOUNT: '50',
      TGPULSE_MTPROTO_RATE_PER_MINUTE: '20',
    }).mtproto;
    expect(m.apiId).toBe(12345);
    expect(m.apiHash).toBe('0123456789abcdef0123456789abcdef');
    expect(m.sessionKey).toEqual(Buffer.alloc(32, 0xaa));
    expect(m.proxies).toHaveLength(2);
    expect(m.schedule).toMatchObject({
      // The difference's ceiling is at least its floor: 120 s up to the default hour.
      nets: {
        membersFloorMs: 600_000,
        membersCeilingMs: 7_200_000,
        differenceFloorMs: 120_000,
        differenceCeilingMs: 3_600_000,
        confirmMs: 1_800_000,
      },
      statsEveryMs: 3_600_000,
      backfillDays: 90,
    });
    expect(m.schedule.freshness).toEqual([
      { maxAgeMs: 30 * MINUTE_MS, staleMs: 5 * MINUTE_MS },
      { maxAgeMs: 12 * HOUR_MS, staleMs: 30 * MINUTE_MS },
      { maxAgeMs: 3 * DAY_MS, staleMs: 2 * HOUR_MS },
    ]);
    expect(m.join).toEqual({ enabled: true, maxPerAccount: 200, everyMs: 600_000 });
    expect(m.leaseTtlMs).toBe(30_000);
    expect(m.channelsPerAccount).toBe(50);
    // Only the default per-method limit moves: the heavier methods keep theirs.
    expect(m.rateLimits.default).toBe(20);
    expect(m.rateLimits.methods['stats.GetBroadcastStats']).toBe(6);
  });

  it('cuts the counter polling at TGPULSE_POLL_MAX_AGE_DAYS', () => {
    expect(loadConfig({ TGPULSE_POLL_MAX_AGE_DAYS: '2' }).mtproto.schedule.freshness).toEqual([
      { maxAgeMs: HOUR_MS, staleMs: 15 * MINUTE_MS },
      { maxAgeMs: DAY_MS, staleMs: HOUR_MS },
      { maxAgeMs: 2 * DAY_MS, staleMs: 6 * HOUR_MS },
    ]);
    expect(loadConfig({ TGPULSE_POLL_MAX_AGE_DAYS: '0' }).mtproto.schedule.freshness).toEqual([]);
    const longer = freshnessUpTo(14 * DAY_MS);
    expect(longer.at(-1)).toEqual({ maxAgeMs: 14 * DAY_MS, staleMs: 6 * HOUR_MS });
    expect(longer).toHaveLength(DEFAULT_FRESHNESS.length);
  });

  it('reads freshness targets written as AGE:STALENESS bands', () => {
    expect(parseFreshness('1h:15m,1d:1h,7d:6h')).toEqual(DEFAULT_FRESHNESS);
    expect(parseFreshness('90s:0.5m')).toEqual([{ maxAgeMs: 90_000, staleMs: 30_000 }]);
    expect(() => parseFreshness('1h')).toThrow(/AGE:STALENESS/);
    expect(() => parseFreshness('1h:15x')).toThrow(/not a duration/);
    expect(() => parseFreshness('1d:1h,1h:15m')).toThrow(/older posts/);
    expect(() => parseFreshness('1h:1h,1d:15m')).toThrow(/no tighter/);
  });

  it.each([
    [{ TGPULSE_TG_API_ID: 'abc', TGPULSE_TG_API_HASH: '0'.repeat(32) }, /TGPULSE_TG_API_ID="abc" is invalid/],
    [{ TGPULSE_TG_API_ID: '1', TGPULSE_TG_API_HASH: 'short' }, /TGPULSE_TG_API_HASH.*32 hex/],
    [{ TGPULSE_TG_API_ID: '12345' }, /TGPULSE_TG_API_HASH.*set together with TGPULSE_TG_API_ID/],
    [{ TGPULSE_POLL_MAX_AGE_DAYS: '-1' }, /TGPULSE_POLL_MAX_AGE_DAYS/],
    [{ TGPULSE_MEMBERS_INTERVAL_S: '5' }, /TGPULSE_MEMBERS_INTERVAL_S="5" is invalid/],
    [{ TGPULSE_STATS_INTERVAL_S: 'often' }, /TGPULSE_STATS_INTERVAL_S/],
    [{ TGPULSE_DIFFERENCE_INTERVAL_S: '0' }, /TGPULSE_DIFFERENCE_INTERVAL_S/],
    [{ TGPULSE_MEMBERS_MAX_INTERVAL_S: '60' }, /TGPULSE_MEMBERS_MAX_INTERVAL_S="60" is invalid/],
    [{ TGPULSE_FRESHNESS: '1h:15m,1d' }, /TGPULSE_FRESHNESS=.*AGE:STALENESS/],
    [{ TGPULSE_JOIN_CHANNELS: 'yes' }, /TGPULSE_JOIN_CHANNELS="yes" is invalid/],
    [{ TGPULSE_BACKFILL_DAYS: '1.5' }, /TGPULSE_BACKFILL_DAYS/],
    [{ TGPULSE_LEASE_TTL_S: '1' }, /TGPULSE_LEASE_TTL_S/],
    [{ TGPULSE_CHANNELS_PER_ACCOUNT: '0' }, /TGPULSE_CHANNELS_PER_ACCOUNT/],
    [{ TGPULSE_MTPROTO_RATE_PER_MINUTE: '0' }, /TGPULSE_MTPROTO_RATE_PER_MINUTE/],
    [{ TGPULSE_MTPROTO_PROXIES: 'http://proxy:8080' }, /TGPULSE_MTPROTO_PROXIES.*scheme http: is not supported/],
  ])('stops the start on %j naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('never repeats a session key or proxy password in its message', () => {
    const badKey = 'not-a-key-but-a-secret-anyway';
    expect(() => loadConfig({ TGPULSE_SESSION_KEY: badKey })).toThrow(
      /TGPULSE_SESSION_KEY="<hidden>" is invalid.*openssl rand -hex 32/,
    );
    try {
      loadConfig({ TGPULSE_MTPROTO_PROXIES: 'socks5://bob:hunter2@10.0.0.1' });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toMatch(/TGPULSE_MTPROTO_PROXIES/);
      expect((err as Error).message).not.toContain('hunter2');
    }
  });
});
