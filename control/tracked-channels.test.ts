import { expect, it } from 'vitest';
import { listAudit } from './audit.ts';
import { ControlError } from './errors.ts';
import {
  findChannel,
  getChannel,
  listChannels,
  removeChannel,
  saveBackfillCursor,
  saveLastPostId,
  savePts,
  setBackfillFrom,
  setChannelStatus,
  updateChannelFacts,
  upsertChannel,
  type ChannelFacts,
} from './tracked-channels.ts';
import { describeControl } from './testing.ts';

/** A channel as a collector resolves it; ids are unique per spec so specs do not see each other. */
function resolved(channelId: string, overrides: Partial<ChannelFacts> = {}): ChannelFacts {
  return {
    channelId,
    username: null,
    title: `channel ${channelId}`,
    accessHash: '-8734216634523456789',
    canViewStats: false,
    statsDc: null,
    members: 100,
    ...overrides,
  };
}

describeControl('tracked channels', (suite) => {
  const pool = () => suite.control.pool;

  it('tracks a resolved channel with fresh cursors', async () => {
    const channel = await upsertChannel(
      pool(),
      resolved('1000000001', { username: 'PulseNews', canViewStats: true, statsDc: 4, members: 12_345 }),
      { actor: 'cli' },
    );
    expect(channel).toMatchObject({
      channelId: '1000000001',
      username: 'PulseNews',
      title: 'channel 1000000001',
      accessHash: '-8734216634523456789',
      removedAt: null,
      status: 'active',
      statusReason: null,
      canViewStats: true,
      statsDc: 4,
      members: 12_345,
      pts: null,
      backfillOffsetId: null,
      backfillUntil: null,
      backfillDone: false,
      lastPostId: null,
    });
    expect(await getChannel(pool(), '1000000001')).toEqual(channel);
    expect((await listAudit(pool(), { limit: 5 })).find((e) => e.target === '1000000001')).toMatchObject({
      actor: 'cli',
      action: 'channel.add',
    });
  });

  it('finds a channel by bare id, Bot API id, or username in any case with or without @', async () => {
    await upsertChannel(pool(), resolved('1000000002', { username: 'Durov_Channel' }));
    for (const ref of ['1000000002', '-1001000000002', 'durov_channel', '@DUROV_CHANNEL', ' @Durov_Channel ']) {
      expect((await findChannel(pool(), ref))?.channelId, ref).toBe('1000000002');
    }
    for (const ref of ['nobody_here', '@', '', '-1', '@x', 'https://t.me/durov_channel', '1000000099']) {
      expect(await findChannel(pool(), ref), ref).toBeNull();
    }
  });

  it('moves a username to the channel that holds it now', async () => {
    await upsertChannel(pool(), resolved('1000000003', { username: 'moving_name' }));
    await upsertChannel(pool(), resolved('1000000004', { username: 'Moving_Name' }));
    expect((await getChannel(pool(), '1000000003'))?.username).toBeNull();
    expect((await findChannel(pool(), 'moving_name'))?.channelId).toBe('1000000004');
    await updateChannelFacts(pool(), '1000000003', { username: 'moving_name' });
    expect((await findChannel(pool(), '@moving_name'))?.channelId).toBe('1000000003');
    expect((await getChannel(pool(), '1000000004'))?.username).toBeNull();
  });

  it('removes softly and revives with pts, backfill cursor and last post intact', async () => {
    await upsertChannel(pool(), resolved('1000000005', { username: 'revived_one' }));
    await savePts(pool(), '1000000005', 4321);
    await saveBackfillCursor(pool(), '1000000005', { offsetId: 250, done: false });
    await saveLastPostId(pool(), '1000000005', 900);
    expect(await removeChannel(pool(), '1000000005', { actor: 'cli' })).toBe(true);
    expect(await removeChannel(pool(), '1000000005')).toBe(false);
    expect((await listChannels(pool())).map((c) => c.channelId)).not.toContain('1000000005');
    const removed = (await listChannels(pool(), { includeRemoved: true })).find((c) => c.channelId === '1000000005');
    expect(removed?.removedAt).toEqual(expect.any(Number));
    expect((await findChannel(pool(), 'revived_one'))?.removedAt).toEqual(expect.any(Number));

    const revived = await upsertChannel(pool(), resolved('1000000005', { username: 'revived_one', members: 150 }));
    expect(revived).toMatchObject({
      removedAt: null,
      pts: 4321,
      backfillOffsetId: 250,
      backfillDone: false,
      lastPostId: 900,
      members: 150,
    });
    expect((await listChannels(pool())).map((c) => c.channelId)).toContain('1000000005');
    const actions = (await listAudit(pool(), { limit: 20 }))
      .filter((e) => e.target === '1000000005')
      .map((e) => e.action);
    expect(actions).toEqual(['channel.revive', 'channel.remove', 'channel.add']);
  });

  it('moves pts and the last post id only forward', async () => {
    await upsertChannel(pool(), resolved('1000000006'));
    expect(await savePts(pool(), '1000000006', 100)).toBe(true);
    await savePts(pool(), '1000000006', 90);
    expect((await getChannel(pool(), '1000000006'))?.pts).toBe(100);
    await savePts(pool(), '1000000006', 101);
    expect((await getChannel(pool(), '1000000006'))?.pts).toBe(101);
    await saveLastPostId(pool(), '1000000006', 50);
    await saveLastPostId(pool(), '1000000006', 49);
    expect((await getChannel(pool(), '1000000006'))?.lastPostId).toBe(50);
    expect(await savePts(pool(), '1000000099', 1)).toBe(false);
    await expect(savePts(pool(), '1000000006', -1)).rejects.toMatchObject({ field: 'pts' });
    await expect(savePts(pool(), '1000000006', 1.5)).rejects.toMatchObject({ field: 'pts' });
  });

  it('keeps what Telegram said about reaching a channel, and clears the reason when it is active again', async () => {
    await upsertChannel(pool(), resolved('1000000007'));
    expect(await setChannelStatus(pool(), '1000000007', 'private', 'CHANNEL_PRIVATE')).toBe(true);
    expect(await getChannel(pool(), '1000000007')).toMatchObject({
      status: 'private',
      statusReason: 'CHANNEL_PRIVATE',
    });
    await setChannelStatus(pool(), '1000000007', 'no_rights', 'CHAT_ADMIN_REQUIRED');
    expect(await getChannel(pool(), '1000000007')).toMatchObject({
      status: 'no_rights',
      statusReason: 'CHAT_ADMIN_REQUIRED',
    });
    await setChannelStatus(pool(), '1000000007', 'active', 'ignored');
    expect(await getChannel(pool(), '1000000007')).toMatchObject({ status: 'active', statusReason: null });
    await setChannelStatus(pool(), '1000000007', 'gone', 'CHANNEL_INVALID');
    // A successful resolve means Telegram lets us in again.
    expect(await upsertChannel(pool(), resolved('1000000007'))).toMatchObject({ status: 'active', statusReason: null });
    expect(await setChannelStatus(pool(), '1000000099', 'gone', null)).toBe(false);
    await expect(setChannelStatus(pool(), '1000000007', 'banned' as 'gone', null)).rejects.toMatchObject({
      field: 'status',
    });
  });

  it('updates only the facts given', async () => {
    await upsertChannel(
      pool(),
      resolved('1000000008', { username: 'facts_here', canViewStats: false, statsDc: null, members: 10 }),
    );
    expect(await updateChannelFacts(pool(), '1000000008', { members: 11, canViewStats: true, statsDc: 2 })).toBe(true);
    expect(await getChannel(pool(), '1000000008')).toMatchObject({
      members: 11,
      canViewStats: true,
      statsDc: 2,
      title: 'channel 1000000008',
      username: 'facts_here',
    });
    await updateChannelFacts(pool(), '1000000008', { title: 'Renamed', username: null, statsDc: null });
    expect(await getChannel(pool(), '1000000008')).toMatchObject({
      members: 11,
      canViewStats: true,
      statsDc: null,
      title: 'Renamed',
      username: null,
    });
    expect(await updateChannelFacts(pool(), '1000000008', {})).toBe(true);
    expect(await updateChannelFacts(pool(), '1000000099', { members: 1 })).toBe(false);
    await expect(updateChannelFacts(pool(), '1000000008', { members: -1 })).rejects.toMatchObject({ field: 'members' });
    await expect(updateChannelFacts(pool(), '1000000008', { username: '@facts' })).rejects.toMatchObject({
      field: 'username',
    });
  });

  it('saves the backfill cursor, and restarts a backfill down to a date', async () => {
    await upsertChannel(pool(), resolved('1000000009'));
    await saveBackfillCursor(pool(), '1000000009', { offsetId: 120, done: false });
    await saveBackfillCursor(pool(), '1000000009', { offsetId: 1, done: true });
    expect(await getChannel(pool(), '1000000009')).toMatchObject({ backfillOffsetId: 1, backfillDone: true });
    const until = Date.UTC(2024, 0, 1);
    expect(await setBackfillFrom(pool(), '1000000009', until, { actor: 'cli' })).toBe(true);
    expect(await getChannel(pool(), '1000000009')).toMatchObject({
      backfillOffsetId: null,
      backfillDone: false,
      backfillUntil: until,
    });
    await setBackfillFrom(pool(), '1000000009', null);
    expect((await getChannel(pool(), '1000000009'))?.backfillUntil).toBeNull();
    expect(await setBackfillFrom(pool(), '1000000099', null)).toBe(false);
  });

  it.each<[Partial<ChannelFacts>, string]>([
    [{ channelId: '-1001000000010' }, 'channelId'],
    [{ channelId: '0123' }, 'channelId'],
    [{ channelId: '@durov' }, 'channelId'],
    [{ channelId: '-5' }, 'channelId'],
    [{ username: '@durov' }, 'username'],
    [{ username: 'abc' }, 'username'],
    [{ username: '1durov' }, 'username'],
    [{ username: 'a'.repeat(33) }, 'username'],
    [{ accessHash: '0x1f' }, 'accessHash'],
    [{ title: 'x'.repeat(256) }, 'title'],
    [{ statsDc: 0 }, 'statsDc'],
    [{ members: -1 }, 'members'],
  ])('refuses %j, naming the field %s', async (override, field) => {
    const upsert = upsertChannel(pool(), resolved('1000000010', override));
    await expect(upsert).rejects.toBeInstanceOf(ControlError);
    await expect(upsert).rejects.toMatchObject({ field });
  });
});
