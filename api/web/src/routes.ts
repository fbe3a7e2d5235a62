/**
 * The app's pages and their addresses. Pages live in the URL hash, so the
 * server serves one document (`/`) for all of them; share reports are the
 * exception, served at their own path (`/v1/share/<token>`). Telegram opens a
 * Mini App with its sign-in data in the hash (`#tgWebAppData=…`).
 * Pure: a location in, a route out, and back.
 */

export const PERIOD_DAYS = [7, 30, 90] as const;
export type PeriodDays = (typeof PERIOD_DAYS)[number];
export const GRANULARITIES = ['hour', 'day', 'week'] as const;
export type Granularity = (typeof GRANULARITIES)[number];
export const TOP_POST_METRICS = ['views', 'forwards', 'reactions', 'engagement'] as const;
export type TopPostMetric = (typeof TOP_POST_METRICS)[number];

export interface ChannelView {
  days: PeriodDays;
  granularity: Granularity;
  metric: TopPostMetric;
}

export const DEFAULT_VIEW: ChannelView = { days: 30, granularity: 'day', metric: 'views' };

export type Route =
  | { page: 'sign-in' }
  | { page: 'channels' }
  | { page: 'channel'; channelId: string; view: ChannelView }
  | { page: 'post'; channelId: string; postId: number }
  | { page: 'share'; token: string }
  | { page: 'mini-app'; initData: string }
  | { page: 'not-found'; path: string };

const SHARE_PREFIX = '/v1/share/';
const CHANNEL_ID = '-?[0-9]{1,20}';

/**
 * The route of a location, or null when the hash is not an app address
 * (an in-page anchor such as the skip link's `#main`): the page stays.
 *
 * @example
 * parseLocation('/', '#/channels/-1001/posts/42') // { page: 'post', channelId: '-1001', postId: 42 }
 */
export function parseLocation(pathname: string, hash: string): Route | null {
  if (pathname.startsWith(SHARE_PREFIX) && pathname.length > SHARE_PREFIX.length) {
    return { page: 'share', token: decodeURIComponent(pathname.slice(SHARE_PREFIX.length)) };
  }
  const fragment = hash.startsWith('#') ? hash.slice(1) : hash;
  if (fragment.startsWith('tgWebAppData=') || fragment.includes('&tgWebAppData=')) {
    const initData = new URLSearchParams(fragment).get('tgWebAppData');
    if (initData) return { page: 'mini-app', initData };
  }
  if (fragment === '' || fragment === '/') return { page: 'sign-in' };
  if (!fragment.startsWith('/')) return null;
  const [path, query = ''] = fragment.split('?', 2);
  if (path === '/channels') return { page: 'channels' };
  const post = new RegExp(`^/channels/(${CHANNEL_ID})/posts/([0-9]{1,10})$`).exec(path);
  if (post) return { page: 'post', channelId: post[1], postId: Number(post[2]) };
  const channel = new RegExp(`^/channels/(${CHANNEL_ID})$`).exec(path);
  if (channel) return { page: 'channel', channelId: channel[1], view: parseView(new URLSearchParams(query)) };
  return { page: 'not-found', path };
}

function parseView(q: URLSearchParams): ChannelView {
  return {
    days: pick(PERIOD_DAYS, Number(q.get('days')), DEFAULT_VIEW.days),
    granularity: pick(GRANULARITIES, q.get('granularity'), DEFAULT_VIEW.granularity),
    metric: pick(TOP_POST_METRICS, q.get('metric'), DEFAULT_VIEW.metric),
  };
}

/** The value when it is one of `allowed`, else the fallback (a hand-edited hash never breaks the page). */
function pick<T>(allowed: readonly T[], value: unknown, fallback: T): T {
  return allowed.includes(value as T) ? (value as T) : fallback;
}

export const channelsHash = (): string => '#/channels';

/** The channel page's hash; the view's defaults are left out, so links stay short. */
export function channelHash(channelId: string, view: ChannelView = DEFAULT_VIEW): string {
  const q = new URLSearchParams();
  if (view.days !== DEFAULT_VIEW.days) q.set('days', String(view.days));
  if (view.granularity !== DEFAULT_VIEW.granularity) q.set('granularity', view.granularity);
  if (view.metric !== DEFAULT_VIEW.metric) q.set('metric', view.metric);
  const query = q.toString();
  return `#/channels/${channelId}${query ? `?${query}` : ''}`;
}

export const postHash = (channelId: string, postId: number): string => `#/channels/${channelId}/posts/${postId}`;
