import { expect, it } from 'vitest';
import {
  channelSubscriptions,
  chatSubscriptions,
  deliveryOf,
  disableChat,
  grantChannel,
  grantedChannels,
  recordDelivery,
  removeSubscription,
  revokeGrant,
  sentInLastHour,
  upsertBotUser,
  upsertSubscription,
} from './bot-store.ts';
import { ControlError } from './errors.ts';
import { describeControl } from './testing.ts';

describeControl('bot store', (suite) => {
  const pool = () => suite.control.pool;

  it('remembers users, promotes admins and never demotes them by a later contact', async () => {
    expect(await upsertBotUser(pool(), { userId: '11', username: 'ann', admin: true })).toEqual({
      userId: '11',
      username: 'ann',
      isAdmin: true,
    });
    expect(await upsertBotUser(pool(), { userId: '11', username: 'ann_new' })).toEqual({
      userId: '11',
      username: 'ann_new',
      isAdmin: true,
    });
    await expect(upsertBotUser(pool(), { userId: "1' OR 1=1", username: null })).rejects.toThrow(ControlError);
  });

  it('grants and revokes channels idempotently', async () => {
    await grantChannel(pool(), { userId: '12', channelId: '1001', via: 'admin', grantedBy: '11' });
    await grantChannel(pool(), { userId: '12', channelId: '1001', via: 'proof', grantedBy: null });
    await grantChannel(pool(), { userId: '12', channelId: '-1002', via: 'proof', grantedBy: null });
    expect(await grantedChannels(pool(), '12')).toEqual(['-1002', '1001']);
    expect(await revokeGrant(pool(), { userId: '12', channelId: '1001', by: '11' })).toBe(true);
    expect(await revokeGrant(pool(), { userId: '12', channelId: '1001', by: '11' })).toBe(false);
    expect(await grantedChannels(pool(), '12')).toEqual(['-1002']);
  });

  it('keeps one subscription per chat and channel, replaced and re-enabled by a new one', async () => {
    const s = await upsertSubscription(pool(), {
      chatId: '20',
      channelId: '1001',
      metrics: ['views'],
      minSeverity: 'critical',
      quiet: { from: 22, to: 7 },
      timeZone: 'Europe/Berlin',
      maxPerHour: 3,
      createdBy: '11',
    });
    expect(s).toMatchObject({
      chatId: '20',
      channelId: '1001',
      metrics: ['views'],
      minSeverity: 'critical',
      quiet: { from: 22, to: 7 },
      timeZone: 'Europe/Berlin',
      maxPerHour: 3,
      enabled: true,
    });
    expect(await disableChat(pool(), '20', 'Forbidden: bot was blocked by the user')).toBe(1);
    expect(await channelSubscriptions(pool(), '1001')).toEqual([]);
    expect((await chatSubscriptions(pool(), '20'))[0]).toMatchObject({
      enabled: false,
      disabledReason: 'Forbidden: bot was blocked by the user',
    });
    const again = await upsertSubscription(pool(), { chatId: '20', channelId: '1001', createdBy: '11' });
    expect(again).toMatchObject({
      id: s.id,
      enabled: true,
      disabledReason: null,
      metrics: null,
      minSeverity: 'warning',
      quiet: null,
    });
    expect((await channelSubscriptions(pool(), '1001')).map((x) => x.chatId)).toEqual(['20']);
    expect(await removeSubscription(pool(), '20', '1001')).toBe(true);
    expect(await chatSubscriptions(pool(), '20')).toEqual([]);
  });

  it('refuses bad subscriptions with the field named', async () => {
    for (const bad of [
      { metrics: [] },
      { metrics: ['DROP TABLE'] },
      { maxPerHour: 0 },
      { quiet: { from: 25, to: 3 } },
      { minSeverity: 'loud' as 'info' },
    ]) {
      await expect(
        upsertSubscription(pool(), { chatId: '21', channelId: '1001', createdBy: null, ...bad }),
      ).rejects.toThrow(ControlError);
    }
  });

  it('records one decision per anomaly, chat and stage, and counts what was sent in the last hour', async () => {
    const now = Date.now();
    const d = {
      anomalyId: 'x1',
      chatId: '30',
      stage: 'opened' as const,
      outcome: 'sent' as const,
      messageId: 5,
      channelId: '1001',
      at: now - 1000,
    };
    expect(await recordDelivery(pool(), d)).toBe(true);
    expect(await recordDelivery(pool(), { ...d, outcome: 'skipped_cap', messageId: null })).toBe(false);
    expect(await deliveryOf(pool(), 'x1', '30', 'opened')).toEqual(d);
    expect(await deliveryOf(pool(), 'x1', '30', 'resolved')).toBeNull();
    await recordDelivery(pool(), { ...d, anomalyId: 'x2', at: now - 2 * 3_600_000 });
    await recordDelivery(pool(), { ...d, anomalyId: 'x3', outcome: 'skipped_quiet', messageId: null });
    expect(await sentInLastHour(pool(), '30', now)).toBe(1);
  });
});
