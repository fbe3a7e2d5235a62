import { describe, expect, it } from 'vitest';
import { channelHash, DEFAULT_VIEW, parseLocation, postHash } from './routes.ts';

describe('parseLocation', () => {
  it('reads the sign-in, list, channel and post pages from the hash', () => {
    expect(parseLocation('/', '')).toEqual({ page: 'sign-in' });
    expect(parseLocation('/', '#/')).toEqual({ page: 'sign-in' });
    expect(parseLocation('/', '#/channels')).toEqual({ page: 'channels' });
    expect(parseLocation('/', '#/channels/-1001234')).toEqual({
      page: 'channel',
      channelId: '-1001234',
      view: DEFAULT_VIEW,
    });
    expect(parseLocation('/', '#/channels/1001/posts/42')).toEqual({ page: 'post', channelId: '1001', postId: 42 });
  });

  it('reads the channel view from the hash query, falling back to defaults for values it does not know', () => {
    expect(parseLocation('/', '#/channels/1001?days=7&granularity=hour&metric=engagement')).toMatchObject({
      view: { days: 7, granularity: 'hour', metric: 'engagement' },
    });
    expect(parseLocation('/', '#/channels/1001?days=12&granularity=minute&metric=x')).toMatchObject({
      view: DEFAULT_VIEW,
    });
  });

  it('serves share reports by path, whatever the hash', () => {
    expect(parseLocation('/v1/share/abc.123.sig', '#/channels')).toEqual({ page: 'share', token: 'abc.123.sig' });
  });

  it("takes Telegram's initData from the hash, decoded once (the raw string the server checks)", () => {
    const initData = 'query_id=AA&user=%7B%22id%22%3A1%7D&auth_date=1700000000&hash=ab12';
    const hash = `#tgWebAppData=${encodeURIComponent(initData)}&tgWebAppVersion=7.0&tgWebAppPlatform=android`;
    expect(parseLocation('/', hash)).toEqual({ page: 'mini-app', initData });
  });

  it('leaves in-page anchors alone and names unknown pages', () => {
    expect(parseLocation('/', '#main')).toBeNull();
    expect(parseLocation('/', '#/nowhere')).toEqual({ page: 'not-found', path: '/nowhere' });
    expect(parseLocation('/', '#/channels/abc')).toEqual({ page: 'not-found', path: '/channels/abc' });
  });
});

describe('channel and post hashes', () => {
  it('round-trip through parseLocation, defaults left out', () => {
    expect(channelHash('1001')).toBe('#/channels/1001');
    const view = { days: 90, granularity: 'week', metric: 'forwards' } as const;
    expect(parseLocation('/', channelHash('1001', view))).toEqual({ page: 'channel', channelId: '1001', view });
    expect(parseLocation('/', postHash('-1001', 7))).toEqual({ page: 'post', channelId: '-1001', postId: 7 });
  });
});
