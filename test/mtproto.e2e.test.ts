/**
 * End to end from Telegram to ClickHouse: the collector reads a fake Telegram
 * through real gramjs clients, publishes to a private nats-server, and the
 * processors and sink `tgpulse up` runs turn that into ClickHouse rows. The
 * rows are checked against what the fake Telegram holds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshTestControl, type TestControl } from '../control/testing.ts';
import { openControlPlane, type ControlPlane } from '../control/postgres.ts';
import { emitVia } from '../ingest/mtproto/collector.ts';
import { chartGraph, FakeTelegram, type FakeChannel } from './support/fake-telegram.ts';
import { startCollectorHarness, type CollectorHarness } from './support/mtproto.ts';
import { startTestNats, tempDir, type TestNats } from './support/nats.ts';
import { startPipeline, type TestPipeline } from './support/pipeline.ts';

const DAY_S = 86_400;

describe('MTProto collector → NATS → processors → ClickHouse', () => {
  let nats: TestNats;
  let pipe: TestPipeline;
  let test: TestControl;
  let control: ControlPlane;
  let h: CollectorHarness;
  let tg: FakeTelegram;
  let channels: FakeChannel[];
  let deleted: number;
  /** Views of the changed posts before the changes, by channel/post. */
  const initialViews = new Map<string, number>();
  /** The posts whose counters change: the two newest of each channel (polled at least every 30 minutes). */
  const changing = (ch: FakeChannel) => [...ch.posts.values()].filter((p) => p.message !== 'live post').slice(-2);

  beforeAll(async () => {
    nats = await startTestNats();
    pipe = await startPipeline({ natsUrl: nats.url, dataDir: tempDir('mtproto-e2e') });
    test = await freshTestControl('embedded');
    control = await openControlPlane(test.config);
    tg = new FakeTelegram();
    // Three channels with ten days of history (four posts a day); one shows official statistics.
    channels = [0, 1, 2].map((i) => {
      const ch = tg.addChannel({
        id: String(1_800_000_001 + i),
        username: `e2e_channel_${i}`,
        members: 10_000 * (i + 1),
        canViewStats: i === 0,
        statsDc: 4,
      });
      for (let k = 40; k >= 1; k--)
        ch.addPost({
          date: tg.now - k * (DAY_S / 4) + 600,
          text: `post ${k} of ${i}`,
          views: 100 * k,
          forwards: k,
          reactions: { '👍': k },
        });
      return ch;
    });
    channels[0].graphs.set(
      'growthGraph',
      chartGraph([Date.UTC(2023, 10, 12), Date.UTC(2023, 10, 13)], {
        y0: { name: 'Total followers', values: [9_990, 10_000] },
      }),
    );
    pipe.startRoles();
    h = await startCollectorHarness({ control, tg, accounts: ['e2e'], channels, forward: emitVia(pipe.publisher) });

    // First pass: history, members, stats, counters.
    await h.step();
    for (const ch of channels) for (const m of changing(ch)) initialViews.set(`${ch.id}/${m.id}`, m.views ?? 0);
    // Three hours of life: for two hours views grow on fresh posts and members change, then an hour of quiet
    // (longer than the slowest poll interval of those posts); a post arrives live, one is deleted.
    for (let step = 1; step <= 12; step++) {
      h.clock.advance(15 * 60_000);
      for (const ch of step <= 8 ? channels : []) {
        for (const m of changing(ch))
          ch.setCounters(m.id, { views: (m.views ?? 0) + 37 * step, reactions: { '👍': 2 * step, '❤': step } });
        ch.members += 5;
      }
      if (step === 4) {
        const ch = channels[1];
        ch.addPost({ date: tg.now, text: 'live post', views: 3 });
        tg.push('e2e', ch.changes.at(-1)!.update);
        await h.settle();
      }
      if (step === 6) {
        const ch = channels[2];
        deleted = [...ch.posts.keys()][0];
        ch.deletePosts([deleted]);
        tg.push('e2e', ch.changes.at(-1)!.update);
        await h.settle();
      }
      await h.step();
    }
    await pipe.waitIdle(120_000);
  }, 300_000);

  afterAll(async () => {
    await h?.close();
    await pipe?.close();
    await nats?.stop();
    await control?.close();
    await test?.dispose();
  });

  it('stores every post Telegram showed, once, and the deletion', async () => {
    const rows = await pipe.warehouse.query<{ channel_id: string; n: string }>(
      'SELECT channel_id, uniqExact(post_id) AS n FROM raw_posts FINAL GROUP BY channel_id ORDER BY channel_id',
    );
    expect(rows.map((r) => [r.channel_id, Number(r.n)])).toEqual([
      [channels[0].id, 40],
      [channels[1].id, 41],
      [channels[2].id, 40],
    ]);
    const [gone] = await pipe.warehouse.query<{ ids: number[] }>(
      'SELECT groupArray(arrayJoin(post_ids)) AS ids FROM raw_post_deleted FINAL WHERE channel_id = {c:String}',
      { c: channels[2].id },
    );
    expect(gone.ids.map(Number)).toEqual([deleted]);
  });

  it('has the latest counters Telegram reported for each polled post', async () => {
    for (const ch of channels) {
      const rows = await pipe.warehouse.query<{ post_id: number; views: string }>(
        'SELECT post_id, argMaxMerge(views) AS views FROM post_summary WHERE channel_id = {c:String} GROUP BY post_id',
        { c: ch.id },
      );
      const latest = new Map(rows.map((r) => [Number(r.post_id), Number(r.views)]));
      // The changing posts were polled at least every 30 minutes, the last time after their last change.
      for (const m of changing(ch)) {
        expect({ post: m.id, views: latest.get(m.id) }).toEqual({ post: m.id, views: m.views });
      }
    }
  });

  it('turns the polled counters into per-post deltas that add up to the views gained', async () => {
    for (const ch of channels) {
      const [row] = await pipe.warehouse.query<{ views: string }>(
        "SELECT sum(d_views) AS views FROM post_deltas FINAL WHERE channel_id = {c:String} AND flag = 'normal'",
        { c: ch.id },
      );
      const gained = changing(ch).reduce((sum, m) => sum + (m.views ?? 0) - initialViews.get(`${ch.id}/${m.id}`)!, 0);
      // 37 × (1 + … + 8) per changing post.
      expect(gained).toBe(2 * 37 * 36);
      expect(Number(row.views)).toBe(gained);
    }
  });

  it('keeps the newest member count and the official statistics', async () => {
    const members = await pipe.warehouse.query<{ channel_id: string; members: string }>(
      'SELECT channel_id, argMaxMerge(members) AS members FROM channel_members_latest GROUP BY channel_id ORDER BY channel_id',
    );
    expect(members.map((r) => Number(r.members))).toEqual(channels.map((c) => c.members));
    const stats = await pipe.warehouse.query<{ metric: string; series: string; value: number }>(
      'SELECT metric, series, value FROM raw_channel_stats FINAL WHERE channel_id = {c:String} ORDER BY t',
      { c: channels[0].id },
    );
    expect(stats.map((s) => `${s.metric}/${s.series}=${s.value}`).sort()).toEqual([
      'growth/total_followers=10000',
      'growth/total_followers=9990',
      // The three most viewed recent posts at the time: their view graphs and public forwards.
      'post_public_forwards/21=0',
      'post_public_forwards/22=0',
      'post_public_forwards/23=0',
      'post_views/21/views=2000',
      'post_views/22/views=1900',
      'post_views/23/views=1800',
    ]);
  });

  it('records the source as mtproto', async () => {
    const rows = await pipe.warehouse.query<{ source: string }>('SELECT DISTINCT source FROM raw_posts');
    expect(rows.map((r) => r.source)).toEqual(['mtproto']);
  });
});
