/** One post: its figures now, its counters over its age as a chart, and the timeline as CSV. */
import type { PostDetail } from '../../../../read/index.ts';
import { type Answer, getJson } from '../api.ts';
import { h } from '../dom.ts';
import { formatCount, formatPercent, formatTime } from '../format.ts';
import { announce, reportFailure } from '../notices.ts';
import { channelHash } from '../routes.ts';
import { channelCsv, chartFigure, section } from '../widgets.ts';
import { freshnessLine, pageTitle } from './chrome.ts';

export function renderPost(main: HTMLElement, channelId: string, postId: number): void {
  const base = `/v1/channels/${channelId}`;
  const facts = h('div', {}, h('p', { class: 'loading' }, 'Loading the post…'));
  const freshness = h('div', { class: 'freshness-slot' });
  main.replaceChildren(
    h(
      'nav',
      { 'aria-label': 'Breadcrumb', class: 'crumbs' },
      h('a', { href: '#/channels' }, 'Channels'),
      ' / ',
      h('a', { href: channelHash(channelId) }, `Channel ${channelId}`),
      ' / ',
    ),
    pageTitle(`Post #${postId}`),
    freshness,
    section('post-figures', 'Figures', facts),
    section(
      'post-timeline',
      'Timeline',
      chartFigure({
        name: 'post',
        path: `${base}/charts/post.json`,
        query: { post_id: postId },
        label: `Post #${postId}: counters over its age`,
        csv: channelCsv(channelId, `posts/${postId}`, {}, 'timeline CSV'),
      }),
    ),
  );
  announce(`Loading post #${postId}…`);
  getJson<Answer<PostDetail>>(`${base}/posts/${postId}`)
    .then(({ meta, data }) => {
      freshness.replaceChildren(freshnessLine(meta));
      facts.replaceChildren(postFacts(data));
      announce(`Post #${postId} loaded.`);
    })
    .catch((err: unknown) => {
      facts.replaceChildren(h('p', { class: 'empty' }, 'This post is not available.'));
      reportFailure(err);
    });
}

function postFacts({ post, timeline }: PostDetail): HTMLElement {
  const rows: [string, string][] = [
    ['Published', formatTime(post.date)],
    ['Type', post.media_type],
    ['Text length', `${formatCount(post.text_length)} characters`],
    ['Views', formatCount(post.views)],
    ['Forwards', formatCount(post.forwards)],
    ['Reactions', formatCount(post.reactions)],
    ['Replies', formatCount(post.replies)],
    ['Engagement rate', formatPercent(post.engagement_rate)],
    ['Counters as of', formatTime(post.as_of)],
    ['Hourly snapshots', formatCount(timeline.length)],
  ];
  if (post.deleted_at !== null) rows.push(['Deleted', formatTime(post.deleted_at)]);
  if (post.forward_from_channel_id !== null) rows.push(['Forwarded from', post.forward_from_channel_id]);
  if (post.hashtags.length > 0) rows.push(['Hashtags', post.hashtags.join(' ')]);
  if (post.mentions.length > 0) rows.push(['Mentions', post.mentions.join(' ')]);
  if (post.links.length > 0) rows.push(['Links', post.links.join(' ')]);
  return h(
    'dl',
    { class: 'facts' },
    rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
  );
}
