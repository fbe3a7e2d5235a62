/**
 * The adaptive safety nets and membership, through the real collector over
 * gramjs clients wired to the fake Telegram: which requests a joined and a
 * not-joined channel cost, that nothing is lost while periodic differences
 * are suspended, and joining (also when Telegram refuses it).
 */
import { describe, expect, it } from 'vitest';
import { embeddedControlForSuite } from '../../control/testing.ts';
import { getAccount } from '../../control/mtproto-accounts.ts';
import { FakeTelegram, type FakeChannel } from '../../test/support/fake-telegram.ts';
import { startCollectorHarness, type CollectorHarness } from '../../test/support/mtproto.ts';
import { HOUR_MS, MINUTE_MS } from '../../common/index.ts';

const JOIN = { enabled: true, maxPerAccount: 450, everyMs: 3 * MINUTE_MS };

function quietChannel(tg: FakeTelegram, id: string, member: boolean): FakeChannel {
  const ch = tg.addChannel({ id, username: `quiet${id}`, members: 2000, member });
  for (let i = 3; i >= 1; i--) ch.addPost({ date: tg.now - i * 3 * 3600, views: 100 });
  return ch;
}

/** Passes every minute for `ms`, as `Collector.run` makes them. */
async function runFor(h: CollectorHarness, ms: number): Promise<void> {
  for (let t = 0; t < ms; t += MINUTE_MS) {
    h.clock.advance(MINUTE_MS);
    await h.step();
  }
}

function postIds(h: CollectorHarness, channelId: string): Set<number> {
  return new Set(h.events.flatMap((e) => (e.kind === 'post' && e.channel_id === channelId ? [e.data.post_id] : [])));
}

describe('safety nets and membership', () => {
  const controlPlane = embeddedControlForSuite();

  it('asks a joined channel for no periodic difference, and still finds an update lost without a gap', async () => {
    const tg = new FakeTelegram();
    const ch = quietChannel(tg, '1950000001', true);
    const h = await startCollectorHarness({ control: controlPlane(), tg, accounts: ['j1'], channels: [ch] });
    try {
      await h.step();
      expect(h.collector.works.get(ch.id)).toMatchObject({ joined: true });
      // A channel without an update state takes Telegram's pts before reading history: a post published in
      // between is then after that pts, and a difference fetches it.
      const perChannel = tg.requests
        .map((r) => r.className)
        .filter((c) => c !== 'updates.GetState' && c !== 'users.GetUsers');
      expect(perChannel.slice(0, 2)).toEqual(['channels.GetFullChannel', 'messages.GetHistory']);
      // Pushed posts in sequence carry the channel: three hours, no difference.
      for (let i = 0; i < 3; i++) {
        await runFor(h, 50 * MINUTE_MS);
        ch.addPost({ date: tg.now, views: 1 });
        tg.push('j1', ch.changes.at(-1)!.update);
        await h.settle();
      }
      expect(tg.count('updates.GetChannelDifference')).toBe(0);
      // A post Telegram never pushed, and no later push to show the gap.
      const lost = ch.addPost({ date: tg.now, text: 'never pushed', views: 1 });
      expect(postIds(h, ch.id).has(lost.id)).toBe(false);
      const snapshotsBefore = tg.count('channels.GetFullChannel');
      // Within the pts check interval (an hour since the last confirmed push), a member snapshot sees
      // Telegram's pts ahead and fetches the difference.
      await runFor(h, HOUR_MS);
      expect(tg.count('channels.GetFullChannel')).toBe(snapshotsBefore + 1);
      expect(tg.count('updates.GetChannelDifference')).toBe(1);
      expect(postIds(h, ch.id).has(lost.id)).toBe(true);
      expect(await h.registry.getSingleMetricAsString('tgpulse_collector_gaps_recovered_total')).toMatch(
        /reason="snapshot"\} 1/,
      );
      // The account's report (`tgpulse status`): its one channel, within target, a sliver of its budget.
      const load = (await getAccount(controlPlane().pool, h.collector.works.get(ch.id)!.accountId))?.load;
      expect(load).toMatchObject({ channelsHeld: 1, channelsFresh: 1, staleChannels: [] });
      expect(load?.budgetUsed).toBeGreaterThan(0);
      expect(load?.budgetUsed).toBeLessThan(0.01);
    } finally {
      await h.close();
    }
  });

  it('finds a not-joined channel’s posts through differences spaced out while they come back empty', async () => {
    const tg = new FakeTelegram();
    const ch = quietChannel(tg, '1950000002', false);
    const h = await startCollectorHarness({ control: controlPlane(), tg, accounts: ['n1'], channels: [ch] });
    try {
      await h.step();
      expect(h.collector.works.get(ch.id)).toMatchObject({ joined: false });
      // The first pass snapshots first (the channel has no update state yet) and, the account not being a
      // member, takes a difference; while they come back empty they are 15, 22.5, 33.75, 50.6 and then 60
      // minutes apart (the first of these gaps ends before the loop's first difference).
      const at: number[] = [];
      for (let t = 0; t < 4 * HOUR_MS; t += MINUTE_MS) {
        const before = tg.count('updates.GetChannelDifference');
        h.clock.advance(MINUTE_MS);
        await h.step();
        if (tg.count('updates.GetChannelDifference') > before) at.push(t + MINUTE_MS);
      }
      const gaps = at.slice(1).map((t, i) => Math.round((t - at[i]) / MINUTE_MS));
      expect(gaps.slice(0, 4)).toEqual([23, 34, 51, 60]);
      // Telegram pushes nothing here; the next difference brings the post, and the interval falls back.
      const post = ch.addPost({ date: tg.now, views: 1 });
      let waited = 0;
      while (!postIds(h, ch.id).has(post.id) && waited <= HOUR_MS) {
        await runFor(h, MINUTE_MS);
        waited += MINUTE_MS;
      }
      expect(waited).toBeLessThanOrEqual(HOUR_MS);
      expect(h.collector.works.get(ch.id)?.differenceIntervalMs).toBe(15 * MINUTE_MS);
    } finally {
      await h.close();
    }
  });

  it('joins a public channel when joining is on, records the membership and stops the periodic differences', async () => {
    const tg = new FakeTelegram();
    const ch = quietChannel(tg, '1950000003', false);
    const h = await startCollectorHarness({
      control: controlPlane(),
      tg,
      accounts: ['jn'],
      channels: [ch],
      join: JOIN,
    });
    try {
      await h.step();
      expect(tg.count('channels.JoinChannel')).toBe(1);
      expect(ch.isMember('jn')).toBe(true);
      const work = h.collector.works.get(ch.id)!;
      expect(work.joined).toBe(true);
      const { rows } = await controlPlane().pool.query(
        'SELECT account_id, joined_by_us FROM channel_memberships WHERE channel_id = $1',
        [ch.id],
      );
      expect(rows).toEqual([{ account_id: work.accountId, joined_by_us: true }]);
      // One difference came before the join (the first snapshot found no membership); none after it.
      const before = tg.count('updates.GetChannelDifference');
      expect(before).toBeLessThanOrEqual(1);
      await runFor(h, 2 * HOUR_MS);
      expect(tg.count('updates.GetChannelDifference')).toBe(before);
      expect(tg.count('channels.JoinChannel')).toBe(1);
      expect(await h.registry.getSingleMetricAsString('tgpulse_collector_joins_total')).toMatch(/outcome="joined"\} 1/);
    } finally {
      await h.close();
    }
  });

  it('stops joining with an account Telegram refuses (CHANNELS_TOO_MUCH) and collects the channel without membership', async () => {
    const tg = new FakeTelegram();
    tg.joinCap = 0;
    const a = quietChannel(tg, '1950000004', false);
    const b = quietChannel(tg, '1950000005', false);
    const h = await startCollectorHarness({
      control: controlPlane(),
      tg,
      accounts: ['full'],
      channels: [a, b],
      join: { ...JOIN, everyMs: MINUTE_MS },
    });
    try {
      await h.step();
      expect(tg.count('channels.JoinChannel')).toBe(1);
      const accountId = h.collector.works.get(a.id)!.accountId;
      const account = await getAccount(controlPlane().pool, accountId);
      expect(account?.joinsRefusedUntil).toBeGreaterThan(h.clock.now + 23 * HOUR_MS);
      // The other channel's turn comes a minute later: the refusal is known, no second request.
      await runFor(h, 30 * MINUTE_MS);
      expect(tg.count('channels.JoinChannel')).toBe(1);
      expect(await h.registry.getSingleMetricAsString('tgpulse_collector_joins_total')).toMatch(
        /outcome="account_full"\} 2/,
      );
      // Both channels are still collected, through differences.
      const post = b.addPost({ date: tg.now, views: 1 });
      await runFor(h, HOUR_MS);
      expect(postIds(h, b.id).has(post.id)).toBe(true);
      expect(tg.count('updates.GetChannelDifference')).toBeGreaterThan(2);
    } finally {
      await h.close();
    }
  });
});
