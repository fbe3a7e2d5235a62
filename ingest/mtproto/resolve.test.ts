import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../observability/log.ts';
import { FakeTelegram } from '../../test/support/fake-telegram.ts';
import { AccountSession } from './account.ts';
import { ChannelResolveError, parseChannelRef, resolveChannel } from './resolve.ts';

describe('a channel reference names a username or an id', () => {
  it.each([
    ['@durov_news', { kind: 'username', username: 'durov_news' }],
    ['durov_news', { kind: 'username', username: 'durov_news' }],
    ['https://t.me/durov_news', { kind: 'username', username: 'durov_news' }],
    ['t.me/durov_news/123', { kind: 'username', username: 'durov_news' }],
    ['https://t.me/s/durov_news', { kind: 'username', username: 'durov_news' }],
    ['t.me/c/123456/7', { kind: 'id', channelId: '123456' }],
    ['1234567890', { kind: 'id', channelId: '1234567890' }],
    ['-1001234567890', { kind: 'id', channelId: '1234567890' }],
  ])('%s', (ref, expected) => {
    expect(parseChannelRef(ref)).toEqual(expected);
  });

  it.each(['', '@ab', 'https://example.com/durov_news', 't.me/c/abc/1', 'has space', 't.me/+AbCdEf123'])(
    'rejects %j as malformed, naming the accepted forms',
    (ref) => {
      const err = (() => {
        try {
          parseChannelRef(ref);
        } catch (e) {
          return e;
        }
        return null;
      })();
      expect(err).toBeInstanceOf(ChannelResolveError);
      expect((err as ChannelResolveError).problem).toBe('malformed');
    },
  );
});

describe('resolving a reference through an account', () => {
  let tg: FakeTelegram;
  let account: AccountSession;

  beforeEach(async () => {
    tg = new FakeTelegram();
    const client = await tg.client({ account: 'a1' });
    account = new AccountSession({ accountId: 'acc-1', client, log: silentLogger, sleep: async () => undefined });
  });
  afterEach(async () => {
    await FakeTelegram.close(account.client);
  });

  it('gives the registry facts of a channel found by username', async () => {
    const ch = tg.addChannel({
      id: '1001',
      username: 'news_daily',
      title: 'News Daily',
      members: 4321,
      canViewStats: true,
      statsDc: 4,
    });
    const facts = await resolveChannel(account, '@news_daily');
    expect(facts).toEqual({
      channelId: '1001',
      accessHash: ch.accessHash,
      username: 'news_daily',
      title: 'News Daily',
      canViewStats: true,
      statsDc: 4,
      members: 4321,
    });
    expect(tg.count('contacts.ResolveUsername')).toBe(1);
    expect(tg.count('messages.GetDialogs')).toBe(0);
  });

  it('follows t.me links to the username they carry', async () => {
    tg.addChannel({ id: '1002', username: 'tech_posts' });
    expect((await resolveChannel(account, 'https://t.me/tech_posts/55')).channelId).toBe('1002');
  });

  it("finds a channel given by id (or t.me/c link) among the account's dialogs", async () => {
    const ch = tg.addChannel({ id: '1003', title: 'No Username' });
    ch.addPost({ date: tg.now - 60, text: 'hi' });
    const facts = await resolveChannel(account, 't.me/c/1003/1');
    expect(facts.channelId).toBe('1003');
    expect(facts.accessHash).toBe(ch.accessHash);
    expect(facts.username).toBeNull();
    expect(tg.count('messages.GetDialogs')).toBe(1);
  });

  it('says the account must be a member when an id is not among its dialogs', async () => {
    tg.addChannel({ id: '1004', member: false });
    await expect(resolveChannel(account, '1004')).rejects.toMatchObject({
      problem: 'not_a_member',
      message: expect.stringMatching(/must be a member|is a member/),
    });
  });

  it('reports a private channel as private', async () => {
    const ch = tg.addChannel({ id: '1005', username: 'secret_club' });
    ch.unavailable = 'CHANNEL_PRIVATE';
    await expect(resolveChannel(account, '@secret_club')).rejects.toMatchObject({
      problem: 'private',
      message: expect.stringContaining('CHANNEL_PRIVATE'),
    });
  });

  it('reports an unknown username', async () => {
    await expect(resolveChannel(account, '@nobody_here')).rejects.toMatchObject({
      problem: 'unknown_username',
      message: expect.stringContaining('check the spelling'),
    });
  });

  it('refuses a user and a group: only broadcast channels are collected', async () => {
    tg.users.push({ id: '777', username: 'some_person' });
    tg.addChannel({ id: '1006', username: 'chat_group', megagroup: true });
    await expect(resolveChannel(account, '@some_person')).rejects.toMatchObject({
      problem: 'not_a_channel',
      message: expect.stringContaining('is a user, not a channel'),
    });
    await expect(resolveChannel(account, 't.me/chat_group')).rejects.toMatchObject({
      problem: 'not_a_channel',
      message: expect.stringContaining('is a group'),
    });
    expect(tg.count('channels.GetFullChannel')).toBe(0);
  });
});
