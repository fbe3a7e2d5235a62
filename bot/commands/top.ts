/**
 * `/top [channel] [period] [views|forwards|reactions|engagement]`: the best
 * posts published in the period, as the API's top posts rank them, each with
 * a link that `/post` understands.
 */
import { type AnswerMeta, POST_METRICS, topPostsBy, type PostMetric, type PostPerformance } from '../../read/index.ts';
import { compact, freshnessNote, html, percent, periodText } from '../format.ts';
import { chosen, messageCommand, oneOf } from './channel-command.ts';

/** As many as fit a message comfortably; the API gives more. */
const TOP_LIMIT = 10;

/** The period's best posts by a metric (default views). */
export const topCommand = messageCommand({
  name: 'top',
  defaultDays: 30,
  option: oneOf(POST_METRICS),
  async load(s, t, period) {
    const metric = chosen(POST_METRICS, t, 'views');
    return {
      metric,
      posts: await topPostsBy(s.warehouse, { channel_id: t.channelId, period, metric, limit: TOP_LIMIT }),
    };
  },
  message: topMessage,
});

/** A post's public address in the form `/post` reads back. */
export function postLink(channelId: string, postId: number): string {
  return `https://t.me/c/${channelId}/${postId}`;
}

/** The ranking as a message (HTML); the ranking metric is in bold. */
export function topMessage(
  { posts, metric }: { posts: readonly PostPerformance[]; metric: PostMetric },
  days: number,
  meta: AnswerMeta,
): string {
  const head = `<b>Channel ${html(meta.channel_id)}</b> · top posts by ${metric}, ${periodText(meta, days)}`;
  if (posts.length === 0) return `${head}\n\nNo posts were published in this period.\n\n${freshnessNote(meta)}`;
  const figure = (m: PostMetric, text: string) => (m === metric ? `<b>${text}</b>` : text);
  const lines = posts.map((p, i) =>
    [
      `${i + 1}. <a href="${html(postLink(meta.channel_id, p.post_id))}">#${p.post_id}</a> ${new Date(p.date).toISOString().slice(0, 10)} ${html(p.media_type)}`,
      figure('views', `${compact(p.views)} views`),
      figure('forwards', `${compact(p.forwards)} forwards`),
      figure('reactions', `${compact(p.reactions)} reactions`),
      figure('engagement', `${percent(p.engagement_rate)} engagement`),
    ].join(' · '),
  );
  return [
    head,
    '',
    ...lines,
    '',
    `Details of one: <code>/post ${html(meta.channel_id)}/${posts[0].post_id}</code>`,
    freshnessNote(meta),
  ].join('\n');
}
