/**
 * The collector against a fake Telegram at gramjs's sender layer: real
 * TelegramClients serialise every request, route DCs and raise gramjs's own
 * errors; the control plane is a real (embedded) Postgres.
 */
import { describe, expect, it } from 'vitest';
import { Api } from 'telegram';
import { embeddedControlForSuite, leasesOf } from '../../control/testing.ts';
import { getChannel } from '../../control/tracked-channels.ts';
import { validateEvent } from '../../streams/contract/codec.ts';
import type { PostEvent } from '../../streams/contract/events.ts';
import { chartGraph, FakeTelegram, type FakeChannel } from '../../test/support/fake-telegram.ts';
import { labels, startCollectorHarness, type CollectorHarness } from '../../test/support/mtproto.ts';

const DAY_S = 86_400;

const controlPlane = embeddedControlForSuite();

/** A channel with `days` of history, `perDay` posts a day, the newest a few minutes old. */
function channelWithHistory(
  tg: FakeTelegram,
  id: string,
  days: number,
  perDay: number,
  extra: Partial<Parameters<FakeTelegram['addChannel']>[0]> = {},
): FakeChannel {
  const ch = tg.addChannel({ id, username: `chan${id}`, members: 5000, ...extra });
  const n = days * perDay;
  for (let i = n; i >= 1; i--) {
    const ageS = Math.round((i * DAY_S) / perDay) - 300;
    ch.addPost({
      date: tg.now - ageS,
      text: `post ${i} #tag @someone https://example.com/${i}`,
      views: 1000 + i,
      forwards: 3,
      replies: 1,
      reactions: { '👍': 5, '🔥': 2 },
    });
  }
  return ch;
}

function postsOf(h: CollectorHarness, channelId: string): PostEvent[] {
  return h.events.filter((e): e is PostEvent => e.kind === 'post' && e.channel_id === channelId);
}

describe('a collector over a fake Telegram', () => {
  it('backfills history to the configured depth, snapshots members, reads official stats on the stats DC, polls fresh counters', async () => {
    const tg = new FakeTelegram();
    const ch = channelWithHistory(tg, '1700000001', 40, 6, { canViewStats: true, statsDc: 4 });
    // getFullChannel names a stale stats DC: DC 2 will answer STATS_MIGRATE_4.
    ch.advertisedStatsDc = 2;
    ch.publicForwards.set(221, 17);
    const day = 86_400_000;
    const x = [tg.now * 1000 - 2 * day, tg.now * 1000 - day];
    ch.graphs.set('growthGraph', chartGraph(x, { y0: { name: 'Total followers', values: [4900, 5000] } }));
    ch.graphs.set('followersGraph', new Api.StatsGraphAsync({ token: 'followers-token' }));
    ch.asyncGraphs.set(
      'followers-token',
      chartGraph(x, { y0: { name: 'Joined', values: [12, 20] }, y1: { name: 'Left', values: [3, null] } }),
    );
    ch.graphs.set(
      'viewsBySourceGraph',
      new Api.StatsGraph({ json: new Api.DataJSON({ data: '{"columns": [["x", 1, 2], ["y0", 1]]' }) }),
    );
    const h = await startCollectorHarness({ control: controlPlane(), tg, accounts: ['a1'], channels: [ch] });
    try {
      await h.step();
      for (const e of h.events) expect(validateEvent(e), JSON.stringify(e).slice(0, 200)).toMatchObject({ ok: true });

      // 30 days of 6 posts a day (the default depth), not the 40 the channel has.
      const posts = postsOf(h, ch.id);
      expect(new Set(posts.map((p) => p.data.post_id)).size).toBe(30 * 6);
      const oldest = Math.min(...posts.map((p) => p.data.date));
      expect(h.clock.now - oldest).toBeLessThanOrEqual(30 * day);
      const row = await getChannel(controlPlane().pool, ch.id);
      expect(row).toMatchObject({ backfillDone: true, statsDc: 4, lastPostId: 240 });

      expect(
        h.events.filter((e) => e.kind === 'channel_members').map((e) => e.kind === 'channel_members' && e.data.members),
      ).toEqual([5000]);

      // getBroadcastStats went to the DC getFullChannel named, met STATS_MIGRATE_4 and was repeated on DC 4;
      // the async graph and the top posts' stats were read there too.
      expect(
        tg.requests.filter((r) => r.className.startsWith('stats.')).map((r) => `${r.className}@${r.dcId}`),
      ).toEqual([
        'stats.GetBroadcastStats@2',
        'stats.GetBroadcastStats@4',
        'stats.LoadAsyncGraph@4',
        ...[1, 2, 3].flatMap(() => ['stats.GetMessageStats@4', 'stats.GetMessagePublicForwards@4']),
      ]);
      expect(await getChannel(controlPlane().pool, ch.id)).toMatchObject({ statsDc: 4 });
      const stats = h.events
        .filter((e) => e.kind === 'channel_stats')
        .map((e) => e.kind === 'channel_stats' && `${e.data.metric}/${e.data.series}=${e.data.value}`);
      expect(stats.filter((p) => !String(p).startsWith('post_')).sort()).toEqual([
        'followers/joined=12',
        'followers/joined=20',
        'followers/left=3',
        'growth/total_followers=4900',
        'growth/total_followers=5000',
      ]);
      // The three most viewed of the recent posts (221–223 here): their own view graph and public forwards.
      const perPost = tg.requests
        .filter((r) => r.request instanceof Api.stats.GetMessageStats)
        .map((r) => (r.request as Api.stats.GetMessageStats).msgId);
      expect(perPost).toEqual([221, 222, 223]);
      expect(stats).toContain('post_views/221/views=1020');
      expect(stats).toContain('post_public_forwards/221=17');
      // The malformed graph is dead-lettered with its text; the others still arrived.
      expect(h.deadLetters).toHaveLength(1);
      expect(h.deadLetters[0]).toMatchObject({ channelId: ch.id, what: 'stats.views_by_source' });
      expect(await h.registry.getSingleMetricAsString('tgpulse_collector_channel_problems_total')).toMatch(
        /problem="malformed_graph"\} 1/,
      );

      // The first pass reads every post younger than 7 days (history does not count as a read: a repeated
      // post event may be dropped as a duplicate), its freshest counters and reactions, 100 ids at most.
      const calls = tg.requests
        .filter((r) => r.request instanceof Api.channels.GetMessages)
        .map((r) => r.request as Api.channels.GetMessages);
      expect(calls.every((r) => r.id.length <= 100)).toBe(true);
      const polled = calls.flatMap((r) => r.id.map((m) => (m as Api.InputMessageID).id));
      const fresh = [...ch.posts.values()].filter((m) => tg.now - m.date < 7 * DAY_S).map((m) => m.id);
      expect(polled.sort((a, b) => a - b)).toEqual(fresh.sort((a, b) => a - b));
      const counters = h.events.filter((e) => e.kind === 'post_counters');
      expect(counters).toHaveLength(fresh.length);
      const newest = counters.find((e) => e.kind === 'post_counters' && e.data.post_id === 240);
      expect(newest?.data).toMatchObject({
        views: 1001,
        forwards: 3,
        replies: 1,
        reactions_total: 7,
        reactions: { '👍': 5, '🔥': 2 },
      });

      // Fifteen minutes later nothing is due: the newest post is hours old, its target is an hour.
      tg.requests.length = 0;
      h.clock.advance(15 * 60_000);
      await h.step();
      expect(tg.count('channels.GetMessages')).toBe(0);
      // An hour after the read, the posts under a day old are due and lead the call; the older ones
      // (6 h target) fill it, since a call costs the same for 1 or 100 ids.
      ch.setCounters(240, { views: 1500 });
      h.clock.advance(45 * 60_000);
      await h.step();
      const again = tg.requests
        .filter((r) => r.request instanceof Api.channels.GetMessages)
        .flatMap((r) => (r.request as Api.channels.GetMessages).id.map((m) => (m as Api.InputMessageID).id));
      const young = [...ch.posts.values()].filter((m) => tg.now - m.date < DAY_S).map((m) => m.id);
      expect(young.length).toBeGreaterThan(0);
      expect(again.slice(0, young.length).sort((a, b) => a - b)).toEqual(young.sort((a, b) => a - b));
      expect(again).toHaveLength([...ch.posts.values()].filter((m) => tg.now - m.date < 7 * DAY_S).length);
      // Another hour on, only post 240 grew between its reads: the others are flat and may wait 4 × their
      // target; 240 is due and fills the call.
      tg.requests.length = 0;
      h.clock.advance(60 * 60_000);
      await h.step();
      const third = tg.requests
        .filter((r) => r.request instanceof Api.channels.GetMessages)
        .flatMap((r) => (r.request as Api.channels.GetMessages).id.map((m) => (m as Api.InputMessageID).id));
      expect(third[0]).toBe(240);
      expect(
        h.events.find((e) => e.kind === 'post_counters' && e.data.post_id === 240 && e.data.views === 1500),
      ).toBeDefined();
      // The stats move to DC 5 while getFullChannel still says 4: DC 4 answers STATS_MIGRATE_5, the call is repeated there.
      ch.statsDc = 5;
      ch.advertisedStatsDc = 4;
      ch.posts.clear();
      tg.requests.length = 0;
      h.clock.advance(6 * 3_600_000);
      await h.step();
      expect(
        tg.requests.filter((r) => r.className.startsWith('stats.')).map((r) => `${r.className}@${r.dcId}`),
      ).toEqual(['stats.GetBroadcastStats@4', 'stats.GetBroadcastStats@5', 'stats.LoadAsyncGraph@5']);
    } finally {
      await h.close();
    }
  });

  it('applies live updates in pts order, recovers a gap with getChannelDifference, and ignores repeats', async () => {
    const tg = new FakeTelegram();
    const ch = channelWithHistory(tg, '1700000002', 2, 4);
    const h = await startCollectorHarness({ control: controlPlane(), tg, accounts: ['live'], channels: [ch] });
    try {
      await h.step();
      const before = h.events.length;
      expect((await getChannel(controlPlane().pool, ch.id))?.pts).toBe(ch.pts);

      // In sequence: applied from the push alone.
      const m1 = ch.addPost({ date: tg.now, text: 'breaking', views: 1 });
      tg.push('live', ch.changes.at(-1)!.update);
      await h.settle();
      expect(h.events.slice(before).map((e) => e.kind === 'post' && e.data.post_id)).toEqual([m1.id]);
      expect(tg.count('updates.GetChannelDifference')).toBe(0);

      // The same update again: nothing new.
      tg.push('live', ch.changes.at(-1)!.update);
      await h.settle();
      expect(h.events.length).toBe(before + 1);

      // A gap: one post was never pushed, the next one was.
      const missed = ch.addPost({ date: tg.now + 1, text: 'missed', views: 1 });
      ch.deletePosts([1]);
      const m3 = ch.addPost({ date: tg.now + 2, text: 'seen', views: 1 });
      tg.push('live', ch.changes.at(-1)!.update);
      await h.settle();
      expect(tg.count('updates.GetChannelDifference')).toBe(1);
      const recovered = h.events.slice(before + 1);
      expect(recovered.filter((e) => e.kind === 'post').map((e) => e.kind === 'post' && e.data.post_id)).toEqual([
        missed.id,
        m3.id,
      ]);
      expect(
        recovered.filter((e) => e.kind === 'post_deleted').map((e) => e.kind === 'post_deleted' && e.data.post_ids),
      ).toEqual([[1]]);
      expect((await getChannel(controlPlane().pool, ch.id))?.pts).toBe(ch.pts);
      expect(await h.registry.getSingleMetricAsString('tgpulse_collector_gaps_recovered_total')).toMatch(
        /reason="gap"\} 1/,
      );
    } finally {
      await h.close();
    }
  });

  it('parks an account on FLOOD_WAIT_30 and moves its channels to another account', async () => {
    const tg = new FakeTelegram();
    const a = channelWithHistory(tg, '1700000003', 1, 2);
    const b = channelWithHistory(tg, '1700000004', 1, 2);
    const h = await startCollectorHarness({
      control: controlPlane(),
      tg,
      accounts: ['f1', 'f2'],
      channels: [a, b],
      holder: 'flood-test',
    });
    try {
      await h.step();
      const leases = await leasesOf(controlPlane().pool, 'flood-test', { now: h.clock.now });
      expect(new Set(leases.map((l) => l.accountId)).size).toBe(2);

      tg.requests.length = 0;
      tg.failNext('channels.GetMessages', { rpc: 'FLOOD_WAIT_30' });
      a.setCounters(2, { views: 99 });
      b.setCounters(2, { views: 99 });
      h.clock.advance(61 * 60_000);
      await h.step();
      const flooded = tg.requests.find((r) => r.className === 'channels.GetMessages')!.account;
      const parked = h.accounts.filter((s) => s.parked());
      expect(parked.map((s) => labels.get(s.accountId))).toEqual([flooded]);
      const free = h.accounts.find((s) => !s.parked())!;
      const after = await leasesOf(controlPlane().pool, 'flood-test', { now: h.clock.now });
      expect(after.map((l) => l.accountId)).toEqual([free.accountId, free.accountId]);
      expect(await h.registry.getSingleMetricAsString('tgpulse_mtproto_flood_waits_total')).toMatch(
        /method="channels.GetMessages"\} 1/,
      );

      // The other account does the flooded channel's work from now on; the parked one calls nothing.
      tg.requests.length = 0;
      await h.step();
      expect(tg.requests.length).toBeGreaterThan(0);
      expect(new Set(tg.requests.map((r) => r.account))).toEqual(new Set([labels.get(free.accountId)]));
      expect(
        h.events
          .filter((e) => e.kind === 'post_counters' && e.data.views === 99)
          .map((e) => e.channel_id)
          .sort(),
      ).toEqual([a.id, b.id]);
    } finally {
      await h.close();
    }
  });

  it('marks a channel that turned private, stops only stats when admin rights go, and retries a dropped connection', async () => {
    const tg = new FakeTelegram();
    const gone = channelWithHistory(tg, '1700000005', 1, 2);
    const admin = channelWithHistory(tg, '1700000006', 1, 2, { canViewStats: true, statsDc: 2 });
    const h = await startCollectorHarness({ control: controlPlane(), tg, accounts: ['p1'], channels: [gone, admin] });
    try {
      await h.step();
      expect(tg.count('stats.GetBroadcastStats')).toBe(1);

      gone.unavailable = 'CHANNEL_PRIVATE';
      admin.canViewStats = false;
      tg.failNext('channels.GetMessages', { drop: true });
      admin.setCounters(2, { views: 7777 });
      h.clock.advance(7 * 3_600_000);
      tg.requests.length = 0;
      await h.step();

      expect(await getChannel(controlPlane().pool, gone.id)).toMatchObject({
        status: 'private',
        statusReason: 'CHANNEL_PRIVATE',
      });
      expect(h.collector.works.has(gone.id)).toBe(false);
      expect(await getChannel(controlPlane().pool, admin.id)).toMatchObject({ status: 'active', canViewStats: false });
      expect(tg.count('stats.GetBroadcastStats')).toBe(0);
      // The dropped connection was retried and the counters still arrived.
      expect(await h.registry.getSingleMetricAsString('tgpulse_mtproto_requests_total')).toMatch(
        /method="channels.GetMessages",outcome="transient"\} 1/,
      );
      expect(
        h.events.some((e) => e.kind === 'post_counters' && e.channel_id === admin.id && e.data.views === 7777),
      ).toBe(true);
      expect(await h.registry.getSingleMetricAsString('tgpulse_collector_channel_problems_total')).toMatch(
        /problem="private"\} 1/,
      );

      // The collector goes on with the remaining channel.
      tg.requests.length = 0;
      h.clock.advance(6 * 3_600_000);
      await h.step();
      expect(tg.requests.length).toBeGreaterThan(0);
      // (The shared control plane also holds earlier tests' channels, which this fake world does not know.)
      const named = (r: (typeof tg.requests)[number]) => {
        const q = r.request as { peer?: Api.InputPeerChannel; channel?: Api.InputChannel };
        return String((q.peer ?? q.channel)?.channelId ?? '');
      };
      expect(tg.requests.some((r) => named(r) === admin.id)).toBe(true);
      expect(tg.requests.some((r) => named(r) === gone.id)).toBe(false);
    } finally {
      await h.close();
    }
  });

  it('resumes after a restart: takes the expired lease over, keeps the backfill cursor, recovers what changed while it was down', async () => {
    const tg = new FakeTelegram();
    const ch = channelWithHistory(tg, '1700000007', 10, 6);
    const first = await startCollectorHarness({
      control: controlPlane(),
      tg,
      accounts: ['r1'],
      channels: [ch],
      holder: 'before-restart',
    });
    await first.step();
    await first.close();
    expect(await getChannel(controlPlane().pool, ch.id)).toMatchObject({ backfillDone: true, pts: ch.pts });

    // While no collector runs: a post arrives and one is deleted, nobody pushes them.
    const late = ch.addPost({ date: tg.now + 60, text: 'while down', views: 5 });
    ch.deletePosts([2]);
    tg.requests.length = 0;
    const second = await startCollectorHarness({
      control: controlPlane(),
      tg,
      accounts: ['r2'],
      channels: [ch],
      holder: 'after-restart',
    });
    try {
      // The first holder's lease is still live: the new process must not take the channel yet.
      await second.step();
      expect(second.collector.works.size).toBe(0);
      second.clock.advance(61_000);
      await second.step();
      expect([...second.collector.works.keys()]).toEqual([ch.id]);
      // Not backfilled again: one page of recent posts for the poller, and the difference from the saved pts.
      expect(tg.count('messages.GetHistory')).toBe(1);
      expect(tg.count('updates.GetChannelDifference')).toBe(1);
      expect(second.events.filter((e) => e.kind === 'post' && e.data.post_id === late.id)).toHaveLength(2); // difference and recent page: same id
      expect(
        new Set(second.events.filter((e) => e.kind === 'post' && e.data.post_id === late.id).map((e) => e.id)).size,
      ).toBe(1);
      expect(
        second.events.filter((e) => e.kind === 'post_deleted').map((e) => e.kind === 'post_deleted' && e.data.post_ids),
      ).toEqual([[2]]);
      expect((await getChannel(controlPlane().pool, ch.id))?.pts).toBe(ch.pts);
    } finally {
      await second.close();
    }
  });
});
