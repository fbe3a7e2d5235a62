import { describe, expect, it } from 'vitest';
import bigInt from 'big-integer';
import { Api } from 'telegram';
import { embeddedControlForSuite } from '../../control/testing.ts';
import { getChannel } from '../../control/tracked-channels.ts';
import { FakeTelegram } from '../../test/support/fake-telegram.ts';
import { startCollectorHarness } from '../../test/support/mtproto.ts';
import { channelOfUpdate, ptsStep } from './live-updates.ts';

describe('the pts sequence of a channel', () => {
  it('applies the next change, drops what it has seen, and calls anything else a gap', () => {
    expect(ptsStep(null, 57, 1)).toBe('apply');
    expect(ptsStep(56, 57, 1)).toBe('apply');
    expect(ptsStep(55, 58, 3)).toBe('apply');
    expect(ptsStep(57, 57, 1)).toBe('duplicate');
    expect(ptsStep(60, 58, 1)).toBe('duplicate');
    expect(ptsStep(55, 58, 1)).toBe('gap');
    expect(ptsStep(55, 60, 3)).toBe('gap');
  });

  it('knows the channel of the updates it handles and nothing else', () => {
    const peer = new Api.PeerChannel({ channelId: bigInt('42') });
    const msg = new Api.Message({ id: 1, peerId: peer, date: 1, message: '' });
    expect(channelOfUpdate(new Api.UpdateNewChannelMessage({ message: msg, pts: 2, ptsCount: 1 }))).toBe('42');
    expect(
      channelOfUpdate(
        new Api.UpdateDeleteChannelMessages({ channelId: bigInt('42'), messages: [1], pts: 3, ptsCount: 1 }),
      ),
    ).toBe('42');
    expect(channelOfUpdate(new Api.UpdateChannelMessageViews({ channelId: bigInt('42'), id: 1, views: 9 }))).toBe('42');
    expect(
      channelOfUpdate(
        new Api.UpdateMessageReactions({ peer, msgId: 1, reactions: new Api.MessageReactions({ results: [] }) }),
      ),
    ).toBe('42');
    expect(
      channelOfUpdate(
        new Api.UpdateNewMessage({
          message: new Api.Message({ id: 1, peerId: new Api.PeerUser({ userId: bigInt(7) }), date: 1, message: '' }),
          pts: 1,
          ptsCount: 1,
        }),
      ),
    ).toBeNull();
  });
});

describe('live updates over a fake Telegram', () => {
  const controlPlane = embeddedControlForSuite();

  it('jumps to the current state when Telegram says the gap is too long, and polls a post whose views were pushed', async () => {
    const tg = new FakeTelegram();
    const ch = tg.addChannel({ id: '1900000001' });
    for (let i = 0; i < 5; i++) ch.addPost({ date: tg.now - 3600 + i * 60, views: 10 });
    const h = await startCollectorHarness({ control: controlPlane(), tg, accounts: ['tl'], channels: [ch] });
    try {
      await h.step();
      // Far behind: many changes were missed and Telegram will not list them.
      for (let i = 0; i < 30; i++) ch.addPost({ date: tg.now + i, views: 1 });
      ch.differenceHorizon = ch.pts;
      tg.push('tl', new Api.UpdateChannelTooLong({ channelId: bigInt(ch.id) }));
      await h.settle();
      expect((await getChannel(controlPlane().pool, ch.id))?.pts).toBe(ch.pts);
      const ids = new Set(h.events.filter((e) => e.kind === 'post').map((e) => e.kind === 'post' && e.data.post_id));
      expect(ids.has(35)).toBe(true);
      expect(await h.registry.getSingleMetricAsString('tgpulse_collector_gaps_recovered_total')).toMatch(
        /reason="too_long"\} 1/,
      );

      // A pushed view count makes the post due at once, ahead of its schedule.
      await h.step(); // polls the posts the jump brought in
      tg.requests.length = 0;
      ch.setCounters(3, { views: 500 });
      tg.push('tl', new Api.UpdateChannelMessageViews({ channelId: bigInt(ch.id), id: 3, views: 500 }));
      await h.settle();
      await h.step();
      // The pushed post leads the call; the call is filled with the posts closest to due (a call costs the same for 1 or 100 ids).
      const polled = tg.requests
        .filter((r) => r.request instanceof Api.channels.GetMessages)
        .flatMap((r) => (r.request as Api.channels.GetMessages).id.map((m) => (m as Api.InputMessageID).id));
      expect(polled[0]).toBe(3);
      expect(polled).toHaveLength(35);
      const read = h.events.filter((e) => e.kind === 'post_counters' && e.data.post_id === 3);
      expect(read.at(-1)).toMatchObject({ data: { views: 500 } });
    } finally {
      await h.close();
    }
  });
});
