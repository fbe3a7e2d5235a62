import { describe, expect, it } from 'vitest';
import type { ActivityPoint, ChannelAnomaly, ChannelListing } from '../../../../read/index.ts';
import { ApiFailure } from '../api.ts';
import { matchesSearch, subscriberTrend } from './channels.ts';
import { refusalText } from './mini-app.ts';
import { explainAnomaly } from './report-parts.ts';
import { growthSummary, reachSummary } from './share.ts';
import { sharePath } from './sign-in.ts';

const listing = (over: Partial<ChannelListing>): ChannelListing => ({
  channel_id: '1001234567',
  title: null,
  username: null,
  sources: [],
  first_observed_at: 0,
  data_updated_at: 0,
  subscribers: 10,
  subscribers_as_of: 0,
  views_24h: 0,
  posts_24h: 0,
  open_anomalies: 0,
  ...over,
});

describe('the channel list', () => {
  it('matches every word typed against the id, title and @username, ignoring case', () => {
    const c = listing({ title: 'Tech News', username: 'technews' });
    expect(matchesSearch(c, '')).toBe(true);
    expect(matchesSearch(c, '4567')).toBe(true);
    expect(matchesSearch(c, 'news TECH')).toBe(true);
    expect(matchesSearch(c, '@technews')).toBe(true);
    expect(matchesSearch(c, 'sports')).toBe(false);
    expect(matchesSearch(listing({}), '1001')).toBe(true);
  });

  it('trends subscribers from the first to the last known value', () => {
    const point = (subscribers: number | null) => ({ subscribers }) as ActivityPoint;
    expect(subscriberTrend([point(null), point(100), point(90), point(130), point(null)])).toEqual({
      values: [null, 100, 90, 130, null],
      change: 30,
    });
    expect(subscriberTrend([point(100)]).change).toBeNull();
  });
});

describe('sign-in', () => {
  it('finds the share path in a pasted link or path', () => {
    expect(sharePath(' https://stats.example.com/v1/share/ab12.179.sig_-x ')).toBe('/v1/share/ab12.179.sig_-x');
    expect(sharePath('/v1/share/ab12')).toBe('/v1/share/ab12');
    expect(sharePath('https://example.com/other')).toBeNull();
  });

  it("explains each refusal of Telegram's initData", () => {
    const refused = (code: string) => new ApiFailure(401, code, 'refused');
    expect(refusalText(refused('init_data_expired'))).toMatch(/too old/);
    expect(refusalText(refused('init_data_invalid'))).toMatch(/could not be verified/);
    expect(refusalText(new ApiFailure(503, 'webapp_unavailable', 'off'))).toMatch(/not set up/);
  });
});

describe('explainAnomaly', () => {
  it('says what moved, how far from expected, why, and whether it is still open', () => {
    const a = {
      metric: 'views_per_post',
      post_id: null,
      direction: 'spike',
      reason: 'outlier',
      z: 4.26,
      state: 'opened',
    } as ChannelAnomaly;
    expect(explainAnomaly(a)).toBe(
      'Spike in views per post: outside its expected band, 4.3 standard deviations above. Still open.',
    );
    expect(explainAnomaly({ ...a, post_id: 7, direction: 'drop', z: -3, state: 'resolved' })).toBe(
      'Drop in views per post of post #7: outside its expected band, 3.0 standard deviations below. Resolved.',
    );
  });
});

describe('share report summaries', () => {
  it('say in words what the growth and reach charts show', () => {
    const growth = [null, 1200, 1190, 1234].map((subscribers) => ({ subscribers }) as ActivityPoint);
    expect(growthSummary(growth)).toBe(
      `Subscribers went from ${(1200).toLocaleString()} to ${(1234).toLocaleString()} (+34).`,
    );
    expect(growthSummary(growth.slice(0, 2))).toMatch(/Not enough/);
    const reach = [
      { t: 0, posts: 2, post_views: 900, reach_per_post: 450, views: 1000 },
      { t: 1, posts: 1, post_views: 300, reach_per_post: 300, views: 400 },
    ];
    expect(reachSummary(reach)).toBe(`3 posts published, reaching ${(1200).toLocaleString()} views.`);
  });
});
