import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import { describe, expect, it } from 'vitest';
import { acquireLeases, moveLeases, releaseLeases, spreadOverAccounts, type LeaseGrant } from './collector-leases.ts';
import { ControlError } from './errors.ts';
import {
  forgetMembership,
  membershipCount,
  recordAccountLoad,
  recordMembership,
  refuseJoins,
} from './channel-memberships.ts';
import { addAccount, getAccount, recordAccountHealth, removeAccount, setAccountStatus } from './mtproto-accounts.ts';
import { encryptSession } from './session-crypto.ts';
import { describeControl, leasesOf } from './testing.ts';
import { listChannels, removeChannel, setChannelStatus, upsertChannel } from './tracked-channels.ts';

const key = randomBytes(32);
const T0 = Date.UTC(2025, 0, 1);
const TTL = 60_000;
let phones = 0;

/** Fresh active accounts, as a login would store them. */
async function accounts(pool: Pool, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const phone = `+49151${String(++phones).padStart(7, '0')}`;
    ids.push(
      (
        await addAccount(pool, {
          phone,
          sealSession: (id) => encryptSession(`session of ${phone}`, key, id),
          userId: null,
        })
      ).id,
    );
  }
  return ids;
}

/**
 * Makes `ids` the only tracked channels: the specs share one control plane,
 * and leases are taken from every tracked channel.
 */
async function onlyChannels(pool: Pool, ids: string[]): Promise<void> {
  for (const c of await listChannels(pool)) await removeChannel(pool, c.channelId);
  for (const channelId of ids) {
    await upsertChannel(pool, {
      channelId,
      username: null,
      title: null,
      accessHash: '1',
      canViewStats: false,
      statsDc: null,
      members: null,
    });
  }
}

function channelRange(first: number, n: number): string[] {
  return Array.from({ length: n }, (_, i) => String(first + i));
}

const channelsOf = (grants: LeaseGrant[]) => grants.map((g) => g.channelId);

function countByAccount(grants: LeaseGrant[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const g of grants) counts.set(g.accountId, (counts.get(g.accountId) ?? 0) + 1);
  return counts;
}

describeControl('collector leases', (suite) => {
  const pool = () => suite.control.pool;

  it('takes up to `want` channels and spreads them over the least-loaded accounts', async () => {
    const channels = channelRange(1100, 8);
    await onlyChannels(pool(), channels);
    const [a, b, c] = (await accounts(pool(), 3)).sort();
    const firstTwo = await acquireLeases(pool(), { holder: 'spread', accountIds: [a], want: 2, ttlMs: TTL, now: T0 });
    expect(firstTwo.map((g) => g.accountId)).toEqual([a, a]);
    expect(channelsOf(firstTwo)).toEqual(['1100', '1101']);

    const all = await acquireLeases(pool(), {
      holder: 'spread',
      accountIds: [c, b, a],
      want: 100,
      ttlMs: TTL,
      now: T0 + 1000,
    });
    expect(channelsOf(all)).toEqual(channels);
    expect(all.filter((g) => firstTwo.some((f) => f.channelId === g.channelId)).map((g) => g.accountId)).toEqual([
      a,
      a,
    ]);
    const counts = countByAccount(all);
    expect([...counts.keys()].sort()).toEqual([a, b, c]);
    expect(Math.max(...counts.values()) - Math.min(...counts.values())).toBeLessThanOrEqual(1);
    expect(await leasesOf(pool(), 'spread', { now: T0 + 1000 })).toEqual(
      all.map((g) => ({ ...g, holder: 'spread', expiresAt: expect.any(Number), acquiredAt: expect.any(Number) })),
    );
  });

  it('leases a channel to the account that is a member of it, and records what accounts report', async () => {
    const channels = channelRange(1150, 4);
    await onlyChannels(pool(), channels);
    const [a, b] = (await accounts(pool(), 2)).sort();
    await recordMembership(pool(), '1150', b, { joinedByUs: true, now: T0 });
    await recordMembership(pool(), '1151', b, { joinedByUs: false, now: T0 });
    await recordMembership(pool(), '1151', b, { joinedByUs: false, now: T0 }); // again: no second row
    expect(await membershipCount(pool(), b)).toBe(2);
    const grants = await acquireLeases(pool(), {
      holder: 'members',
      accountIds: [a, b],
      want: 4,
      perAccount: 2,
      ttlMs: TTL,
      now: T0,
    });
    expect(grants.map((g) => `${g.channelId}:${g.accountId === a ? 'a' : 'b'}`)).toEqual([
      '1150:b',
      '1151:b',
      '1152:a',
      '1153:a',
    ]);
    await forgetMembership(pool(), '1150', b);
    expect(await membershipCount(pool(), b)).toBe(1);
    await refuseJoins(pool(), b, T0 + 86_400_000);
    const stale = Array.from({ length: 25 }, (_, i) => String(2000 + i));
    await recordAccountLoad(pool(), b, {
      budgetUsed: 0.42,
      channelsHeld: 30,
      channelsFresh: 5,
      staleChannels: stale,
      at: T0,
    });
    expect(await getAccount(pool(), b)).toMatchObject({
      joinsRefusedUntil: T0 + 86_400_000,
      load: { budgetUsed: 0.42, channelsHeld: 30, channelsFresh: 5, staleChannels: stale.slice(0, 20), at: T0 },
    });
    await expect(
      recordAccountLoad(pool(), b, { budgetUsed: -1, channelsHeld: 2, channelsFresh: 1, staleChannels: [], at: T0 }),
    ).rejects.toMatchObject({ field: 'budgetUsed' });
    await releaseLeases(pool(), 'members');
  });

  it('renews what the holder holds and takes no more than it wants (want 0 only renews)', async () => {
    await onlyChannels(pool(), channelRange(1200, 5));
    const [a] = await accounts(pool(), 1);
    const three = await acquireLeases(pool(), { holder: 'renew', accountIds: [a], want: 3, ttlMs: TTL, now: T0 });
    expect(three).toHaveLength(3);
    expect(
      await acquireLeases(pool(), { holder: 'renew', accountIds: [a], want: 2, ttlMs: TTL, now: T0 + 1000 }),
    ).toEqual(three);
    expect(
      await acquireLeases(pool(), { holder: 'renew', accountIds: [a], want: 0, ttlMs: TTL, now: T0 + 50_000 }),
    ).toEqual(three);
    const leases = await leasesOf(pool(), 'renew', { now: T0 + 50_000 });
    expect(leases.map((l) => l.expiresAt)).toEqual([T0 + 50_000 + TTL, T0 + 50_000 + TTL, T0 + 50_000 + TTL]);
    expect(leases.map((l) => l.acquiredAt)).toEqual([T0, T0, T0]);
    // Renewed past the first TTL, so still held after it.
    expect(await leasesOf(pool(), 'renew', { now: T0 + TTL + 1 })).toHaveLength(3);
  });

  it('never gives two holders acquiring at once the same channel', async () => {
    const channels = channelRange(1300, 40);
    await onlyChannels(pool(), channels);
    const holders = ['race-1', 'race-2', 'race-3', 'race-4'];
    const accountsOf = await Promise.all(holders.map(() => accounts(pool(), 2)));
    const acquireAll = (now: number) =>
      Promise.all(
        holders.map((holder, i) =>
          acquireLeases(pool(), { holder, accountIds: accountsOf[i], want: 15, ttlMs: TTL, now }),
        ),
      );

    for (const now of [T0, T0 + 1000, T0 + 2000]) {
      const grants = await acquireAll(now);
      const taken = grants.flatMap(channelsOf);
      expect(new Set(taken).size, `round at ${now}`).toBe(taken.length);
      for (const [i, g] of grants.entries()) {
        expect(g.length).toBeLessThanOrEqual(15);
        expect(g.every((x) => accountsOf[i].includes(x.accountId))).toBe(true);
        expect((await leasesOf(pool(), holders[i], { now })).map((l) => l.channelId)).toEqual(channelsOf(g));
      }
    }
    // However the races went, a quiet round leaves every channel with exactly one holder.
    for (const [i, holder] of holders.entries())
      await acquireLeases(pool(), { holder, accountIds: accountsOf[i], want: 15, ttlMs: TTL, now: T0 + 3000 });
    const held = (await Promise.all(holders.map((h) => leasesOf(pool(), h, { now: T0 + 3000 }))))
      .flat()
      .map((l) => l.channelId);
    expect(held.sort()).toEqual(channels);
  });

  it('lets another holder take over the channels of a holder that stopped renewing', async () => {
    await onlyChannels(pool(), channelRange(1400, 3));
    const [a, b] = await accounts(pool(), 2);
    expect(
      await acquireLeases(pool(), { holder: 'dies', accountIds: [a], want: 10, ttlMs: TTL, now: T0 }),
    ).toHaveLength(3);
    expect(
      await acquireLeases(pool(), { holder: 'heir', accountIds: [b], want: 10, ttlMs: TTL, now: T0 + TTL - 1 }),
    ).toEqual([]);
    const inherited = await acquireLeases(pool(), {
      holder: 'heir',
      accountIds: [b],
      want: 10,
      ttlMs: TTL,
      now: T0 + TTL,
    });
    expect(inherited).toEqual(channelRange(1400, 3).map((channelId) => ({ channelId, accountId: b })));
    // The old holder learns it lost them, and does not win them back while the heir renews.
    expect(
      await acquireLeases(pool(), { holder: 'dies', accountIds: [a], want: 0, ttlMs: TTL, now: T0 + TTL + 1 }),
    ).toEqual([]);
    expect(
      await acquireLeases(pool(), { holder: 'dies', accountIds: [a], want: 10, ttlMs: TTL, now: T0 + TTL + 2 }),
    ).toEqual([]);
    expect(await leasesOf(pool(), 'dies', { now: T0 + TTL + 2 })).toEqual([]);
  });

  it('never leases removed or unreachable channels, and drops leases of channels that become so', async () => {
    await onlyChannels(pool(), channelRange(1500, 4));
    await removeChannel(pool(), '1500');
    await setChannelStatus(pool(), '1501', 'private', 'CHANNEL_PRIVATE');
    const [a] = await accounts(pool(), 1);
    const grants = await acquireLeases(pool(), { holder: 'status', accountIds: [a], want: 10, ttlMs: TTL, now: T0 });
    expect(channelsOf(grants)).toEqual(['1502', '1503']);

    await setChannelStatus(pool(), '1502', 'gone', 'CHANNEL_INVALID');
    await removeChannel(pool(), '1503');
    expect(
      await acquireLeases(pool(), { holder: 'status', accountIds: [a], want: 0, ttlMs: TTL, now: T0 + 1000 }),
    ).toEqual([]);
    expect(
      await acquireLeases(pool(), { holder: 'status', accountIds: [a], want: 10, ttlMs: TTL, now: T0 + 2000 }),
    ).toEqual([]);

    await setChannelStatus(pool(), '1501', 'active', null);
    expect(
      channelsOf(
        await acquireLeases(pool(), { holder: 'status', accountIds: [a], want: 10, ttlMs: TTL, now: T0 + 3000 }),
      ),
    ).toEqual(['1501']);
  });

  it('gives nothing to disabled, parked or unknown accounts', async () => {
    await onlyChannels(pool(), channelRange(1600, 2));
    const [disabled, parked, removed] = await accounts(pool(), 3);
    await setAccountStatus(pool(), disabled, 'disabled');
    await recordAccountHealth(pool(), parked, { health: 0.5, parkedUntil: T0 + 30_000, lastError: 'FLOOD_WAIT_30' });
    await removeAccount(pool(), removed);
    const request = { holder: 'idle', accountIds: [disabled, parked, removed, 'ffffffffffff'], want: 10, ttlMs: TTL };
    expect(await acquireLeases(pool(), { ...request, now: T0 })).toEqual([]);
    expect(await acquireLeases(pool(), { ...request, accountIds: [], now: T0 })).toEqual([]);
    // Once the flood wait is over, the parked account works again.
    expect(await acquireLeases(pool(), { ...request, now: T0 + 30_000 })).toEqual(
      channelRange(1600, 2).map((channelId) => ({ channelId, accountId: parked })),
    );
  });

  it("moves a parked account's channels to the holder's other accounts when it acquires", async () => {
    await onlyChannels(pool(), channelRange(1700, 4));
    const [a, b] = (await accounts(pool(), 2)).sort();
    const before = await acquireLeases(pool(), { holder: 'flood', accountIds: [a, b], want: 4, ttlMs: TTL, now: T0 });
    expect(countByAccount(before)).toEqual(
      new Map([
        [a, 2],
        [b, 2],
      ]),
    );
    await recordAccountHealth(pool(), a, { health: 0.5, parkedUntil: T0 + 600_000, lastError: 'FLOOD_WAIT_600' });
    const after = await acquireLeases(pool(), {
      holder: 'flood',
      accountIds: [a, b],
      want: 4,
      ttlMs: TTL,
      now: T0 + 1000,
    });
    expect(after).toEqual(channelRange(1700, 4).map((channelId) => ({ channelId, accountId: b })));
  });

  it('moves leases between accounts of a holder on request, only to a usable account', async () => {
    await onlyChannels(pool(), channelRange(1800, 3));
    const [a, b, off] = await accounts(pool(), 3);
    await setAccountStatus(pool(), off, 'disabled');
    await acquireLeases(pool(), { holder: 'mover', accountIds: [a], want: 3, ttlMs: TTL, now: T0 });
    expect(await moveLeases(pool(), 'mover', a, b, { now: T0 + 1000 })).toEqual(channelRange(1800, 3));
    expect((await leasesOf(pool(), 'mover', { now: T0 + 1000 })).map((l) => l.accountId)).toEqual([b, b, b]);
    await expect(moveLeases(pool(), 'mover', b, off, { now: T0 + 1000 })).rejects.toMatchObject({
      field: 'toAccountId',
    });
    await expect(moveLeases(pool(), 'mover', b, 'ffffffffffff', { now: T0 + 1000 })).rejects.toMatchObject({
      field: 'toAccountId',
    });
    expect((await leasesOf(pool(), 'mover', { now: T0 + 1000 })).map((l) => l.accountId)).toEqual([b, b, b]);
  });

  it('returns released channels to the pool at once', async () => {
    await onlyChannels(pool(), channelRange(1900, 3));
    const [a, b] = await accounts(pool(), 2);
    await acquireLeases(pool(), { holder: 'leaving', accountIds: [a], want: 3, ttlMs: TTL, now: T0 });
    expect(
      await acquireLeases(pool(), { holder: 'staying', accountIds: [b], want: 3, ttlMs: TTL, now: T0 + 1 }),
    ).toEqual([]);
    expect(await releaseLeases(pool(), 'leaving', ['1901', '9999'])).toBe(1);
    expect(
      channelsOf(await acquireLeases(pool(), { holder: 'staying', accountIds: [b], want: 3, ttlMs: TTL, now: T0 + 2 })),
    ).toEqual(['1901']);
    expect(await releaseLeases(pool(), 'leaving')).toBe(2);
    expect(await releaseLeases(pool(), 'leaving')).toBe(0);
    expect(
      channelsOf(await acquireLeases(pool(), { holder: 'staying', accountIds: [b], want: 3, ttlMs: TTL, now: T0 + 3 })),
    ).toEqual(channelRange(1900, 3));
  });

  it.each<[Record<string, unknown>, string]>([
    [{ holder: '' }, 'holder'],
    [{ holder: ' padded ' }, 'holder'],
    [{ want: -1 }, 'want'],
    [{ want: 1.5 }, 'want'],
    [{ ttlMs: 999 }, 'ttlMs'],
    [{ ttlMs: 86_400_001 }, 'ttlMs'],
    [{ accountIds: 'a1b2c3d4e5f6' }, 'accountIds'],
    [{ now: -1 }, 'now'],
  ])('refuses %j, naming the field %s', async (override, field) => {
    const acquire = acquireLeases(pool(), {
      holder: 'valid',
      accountIds: [],
      want: 1,
      ttlMs: TTL,
      ...override,
    } as Parameters<typeof acquireLeases>[1]);
    await expect(acquire).rejects.toBeInstanceOf(ControlError);
    await expect(acquire).rejects.toMatchObject({ field });
  });
});

describe('spreading channels over accounts', () => {
  it('gives each channel to the account with the fewest leases, ties to the first listed', () => {
    const loads = new Map([
      ['a', 2],
      ['c', 1],
    ]);
    expect(spreadOverAccounts(['1', '2', '3', '4', '5'], ['a', 'b', 'c'], loads).map((g) => g.accountId)).toEqual([
      'b',
      'b',
      'c',
      'a',
      'b',
    ]);
    expect(spreadOverAccounts(['1'], [], loads)).toEqual([]);
    expect(spreadOverAccounts([], ['a'], loads)).toEqual([]);
  });

  it('gives a channel to an account that is a member of it while that account has room', () => {
    const members = new Map([
      ['1', ['c']],
      ['2', ['c']],
      ['3', ['a', 'c']],
      ['4', ['x']],
    ]);
    const grants = spreadOverAccounts(['1', '2', '3', '4'], ['a', 'b', 'c'], new Map([['a', 5]]), {
      members,
      perAccount: 6,
    });
    // c takes 1 and 2; for 3 the least-loaded member is a (5) or c (2): c; 4's member is not offered.
    expect(grants.map((g) => g.accountId)).toEqual(['c', 'c', 'c', 'b']);
    const full = spreadOverAccounts(['1', '2'], ['a', 'c'], new Map([['c', 6]]), { members, perAccount: 6 });
    expect(full.map((g) => g.accountId)).toEqual(['a', 'a']);
  });
});
