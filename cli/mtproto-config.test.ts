import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';
import { DEFAULT_POLL_TIERS } from '../ingest/mtproto/schedule.ts';
import { DAY_MS, HOUR_MS } from '../common/index.ts';
import { pollTiersUpTo } from '../ingest/mtproto/config.ts';

const KEY_HEX = 'a'.repeat(64);

describe('the MTProto collectors are configured from TGPULSE_* variables', () => {
  it('runs without Telegram credentials by default, with the documented schedule', () => {
    const m = loadConfig({}).mtproto;
    expect(m.apiId).toBeNull();
    expect(m.apiHash).toBeNull();
    expect(m.sessionKey).toBeNull();
    expect(m.proxies).toEqual([]);
    expect(m.schedule.pollTiers).toEqual(DEFAULT_POLL_TIERS);
    expect(m.schedule).toMatchObject({
      membersEveryMs: 900_000,
      statsEveryMs: 21_600_000,
      differenceEveryMs: 900_000,
      keepAliveEveryMs: 900_000,
      backfillDays: 30,
      backfillPagesPerStep: 5,
      topPostsForStats: 3,
    });
    expect(m.leaseTtlMs).toBe(60_000);
    expect(m.channelsPerAccount).toBe(250);
    expect(m.rateLimits.default).toBe(30);
  });

  it('reads credentials, key, proxies and intervals', () => {
    const m = loadConfig({
      TGPULSE_TG_API_ID: '12345',
      TGPULSE_TG_API_HASH: '0123456789ABCDEF0123456789abcdef',
      TGPULSE_SESSION_KEY: KEY_HEX,
      TGPULSE_MTPROTO_PROXIES:
        'socks5://u:p@10.0.0.1:1080, mtproxy://ee0123456789abcdef0123456789abcdef@proxy.example:443',
      TGPULSE_MEMBERS_INTERVAL_S: '600',
      TGPULSE_STATS_INTERVAL_S: '3600',
      TGPULSE_DIFFERENCE_INTERVAL_S: '120',
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
      membersEveryMs: 600_000,
      statsEveryMs: 3_600_000,
      differenceEveryMs: 120_000,
      backfillDays: 90,
    });
    expect(m.leaseTtlMs).toBe(30_000);
    expect(m.channelsPerAccount).toBe(50);
    // Only the default per-method limit moves: the heavier methods keep theirs.
    expect(m.rateLimits.default).toBe(20);
    expect(m.rateLimits.methods['stats.GetBroadcastStats']).toBe(6);
  });

  it('cuts the counter polling at TGPULSE_POLL_MAX_AGE_DAYS', () => {
    expect(loadConfig({ TGPULSE_POLL_MAX_AGE_DAYS: '2' }).mtproto.schedule.pollTiers).toEqual([
      { maxAgeMs: HOUR_MS, everyMs: 5 * 60_000 },
      { maxAgeMs: 6 * HOUR_MS, everyMs: 15 * 60_000 },
      { maxAgeMs: DAY_MS, everyMs: 30 * 60_000 },
      { maxAgeMs: 2 * DAY_MS, everyMs: 2 * HOUR_MS },
    ]);
    expect(loadConfig({ TGPULSE_POLL_MAX_AGE_DAYS: '0' }).mtproto.schedule.pollTiers).toEqual([]);
    const longer = pollTiersUpTo(14 * DAY_MS);
    expect(longer.at(-1)).toEqual({ maxAgeMs: 14 * DAY_MS, everyMs: 6 * HOUR_MS });
    expect(longer).toHaveLength(DEFAULT_POLL_TIERS.length);
  });

  it.each([
    [{ TGPULSE_TG_API_ID: 'abc', TGPULSE_TG_API_HASH: '0'.repeat(32) }, /TGPULSE_TG_API_ID="abc" is invalid/],
    [{ TGPULSE_TG_API_ID: '1', TGPULSE_TG_API_HASH: 'short' }, /TGPULSE_TG_API_HASH.*32 hex/],
    [{ TGPULSE_TG_API_ID: '12345' }, /TGPULSE_TG_API_HASH.*set together with TGPULSE_TG_API_ID/],
    [{ TGPULSE_POLL_MAX_AGE_DAYS: '-1' }, /TGPULSE_POLL_MAX_AGE_DAYS/],
    [{ TGPULSE_MEMBERS_INTERVAL_S: '5' }, /TGPULSE_MEMBERS_INTERVAL_S="5" is invalid/],
    [{ TGPULSE_STATS_INTERVAL_S: 'often' }, /TGPULSE_STATS_INTERVAL_S/],
    [{ TGPULSE_DIFFERENCE_INTERVAL_S: '0' }, /TGPULSE_DIFFERENCE_INTERVAL_S/],
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
