/**
 * `/post <t.me/c/channel/post | channel/post>`: one post's counters, its
 * views at a few ages (how fast it took off), and where it came from, as the
 * API's post timeline has them.
 */
import { answerMeta, type AnswerMeta, postDetail, type PostDetail } from '../../read/index.ts';
import { openChannel } from '../access.ts';
import { parsePostRef, words } from '../args.ts';
import type { BotServices, CommandHandler } from '../context.ts';
import { clip, compact, freshnessNote, html, percent, utc } from '../format.ts';
import { replyHtml, replyProblem } from './reply.ts';
import { postLink } from './top.ts';

/** Ages (hours) at which views are shown, when the post is that old. */
const AGES = [1, 24, 48, 168];
/** Mentions, hashtags and links shown per kind, and characters of each, so a post full of them still fits a message. */
const LISTED = 5;
const CLIPPED = 80;

/** `/post <link>`: what became of one post, for the owner who just saw it do well or badly. */
export function postCommand(s: BotServices): CommandHandler {
  return async (ctx) => {
    const list = words(ctx.match);
    if (!list.ok) return replyProblem(ctx, list.problem, 'post');
    if (list.value.length !== 1)
      return replyProblem(ctx, list.value.length === 0 ? 'which post? Send its link' : 'one post at a time', 'post');
    const ref = parsePostRef(list.value[0]);
    if (!ref.ok) return replyProblem(ctx, ref.problem, 'post');
    const { channelId, postId } = ref.value;
    const access = await openChannel(s, ctx.viewer, channelId);
    if (!access.ok) return replyHtml(ctx, html(access.problem));
    const detail = await postDetail(s.warehouse, { channel_id: channelId, post_id: postId });
    if (detail === null)
      return replyHtml(
        ctx,
        `I don't know post #${postId} of channel ${html(channelId)}: it may be older than the data I have, or not published.`,
      );
    const last = detail.timeline.at(-1)?.t ?? detail.post.as_of;
    const meta = answerMeta(access.value, { from: detail.post.date, to: Math.max(last, detail.post.as_of) + 1 });
    await replyHtml(ctx, postMessage(detail, meta));
  };
}

/** Views at each of {@link AGES} the post has reached: the last hourly snapshot at or before that age. */
function viewsByAge(d: PostDetail): string[] {
  return AGES.flatMap((age) => {
    const at = d.timeline.filter((p) => p.age_hours <= age).at(-1);
    const reached = d.timeline.some((p) => p.age_hours >= age);
    return at && reached ? [`${age < 48 ? `${age}h` : `${age / 24}d`} ${compact(at.views)}`] : [];
  });
}

function listed(label: string, values: readonly string[]): string[] {
  if (values.length === 0) return [];
  const more = values.length > LISTED ? ` and ${values.length - LISTED} more` : '';
  return [
    `${label}: ${values
      .slice(0, LISTED)
      .map((v) => html(clip(v, CLIPPED)))
      .join(', ')}${more}`,
  ];
}

/** The post as a message (HTML). Mentions, hashtags and links are data from the channel: all escaped. */
export function postMessage(d: PostDetail, meta: AnswerMeta): string {
  const p = d.post;
  const ages = viewsByAge(d);
  return [
    `<b>Post #${p.post_id}</b> of channel ${html(meta.channel_id)} · <a href="${html(postLink(meta.channel_id, p.post_id))}">open</a>`,
    `Published ${utc(p.date)} · ${html(p.media_type)} · ${compact(p.text_length)} characters`,
    ...(p.deleted_at === null ? [] : [`<b>Deleted</b> ${utc(p.deleted_at)}`]),
    '',
    `Views: <b>${compact(p.views)}</b> · forwards ${compact(p.forwards)} · reactions ${compact(p.reactions)} · replies ${compact(p.replies)}`,
    `Engagement rate: <b>${percent(p.engagement_rate)}</b>`,
    ...(ages.length > 0 ? [`Views by age: ${ages.join(' · ')}`] : []),
    ...(p.forward_from_channel_id === null ? [] : [`Forwarded from channel ${html(p.forward_from_channel_id)}`]),
    ...listed('Mentions', p.mentions),
    ...listed('Hashtags', p.hashtags),
    ...listed('Links', p.links),
    '',
    `Counters as of ${utc(p.as_of)}.`,
    freshnessNote(meta),
  ].join('\n');
}
