/**
 * `/track @channel`: a channel owner adds their own channel. Telegram proves
 * ownership (the channel's administrators, which the bot reads once it is an
 * administrator there), the user is granted the channel, and a track request
 * is recorded for the collectors: the Bot API gives the bot the channel's id
 * and username but not the MTProto access hash the registry needs, so the
 * ingest role resolves the request through one of its accounts and adds the
 * channel (letting a forgotten channel in again, as `tgpulse channels add`
 * does). Each user has a limited number of channels (TGPULSE_BOT_TRACK_LIMIT).
 * `/track` alone lists the user's requests.
 */
import { GrammyError } from 'grammy';
import type { ChatFullInfo } from 'grammy/types';
import {
  findChannel,
  grantChannel,
  requestTracking,
  type TrackRequest,
  userTrackRequests,
} from '../../control/index.ts';
import { ok, parseChannelId, problem, quote, words, type Parsed } from '../args.ts';
import type { BotContext, BotServices, CommandHandler } from '../context.ts';
import { html } from '../format.ts';
import { botApiChatId } from './grants.ts';
import { replyHtml, replyProblem } from './reply.ts';

/** Channels a user may add with /track when TGPULSE_BOT_TRACK_LIMIT is not set. */
export const DEFAULT_TRACK_LIMIT = 5;

const USERNAME = /^[A-Za-z][A-Za-z0-9_]{3,31}$/;
const TME = /^(?:https?:\/\/)?(?:www\.)?(?:t\.me|telegram\.me)\/(?:s\/)?([A-Za-z][A-Za-z0-9_]{3,31})\/?$/i;

/**
 * The Bot API chat id to ask about: `@name` for `@name`, `name` or a t.me
 * link; `-100<id>` for a channel id (either form).
 *
 * @example
 * trackTarget('https://t.me/durov') // { ok: true, value: '@durov' }
 */
export function trackTarget(word: string): Parsed<string> {
  const name = word.startsWith('@') ? word.slice(1) : (TME.exec(word)?.[1] ?? word);
  if (USERNAME.test(name)) return ok(`@${name}`);
  const id = parseChannelId(word);
  if (id !== null && /^[1-9]/.test(id)) return ok(botApiChatId(id));
  return problem(`${quote(word)} is not a channel: give its @username, t.me link or id`);
}

/** Why the bot cannot check a channel, and what the user can do about it (HTML). */
function cannotSee(what: string, err: GrammyError): string {
  return (
    `I can't check ${html(what)} (Telegram says: ${html(err.description)}).\n` +
    'Add this bot to the channel as an administrator (no rights are needed), then send /track again.'
  );
}

/** A Bot API call that fails because the bot cannot see the channel: null, and the user is told. */
async function orExplain<T>(ctx: BotContext, s: BotServices, what: string, call: () => Promise<T>): Promise<T | null> {
  try {
    return await call();
  } catch (err) {
    // 400 (chat not found, member list inaccessible) or 403: the bot is not in the channel.
    if (!(err instanceof GrammyError)) throw err;
    s.log.info({ what, code: err.error_code, description: err.description }, 'bot: /track cannot see the channel');
    await replyHtml(ctx, cannotSee(what, err));
    return null;
  }
}

const STATUS_TEXT: Record<TrackRequest['status'], string> = {
  pending: 'waiting for a collector',
  tracked: 'tracked',
  failed: 'failed',
};

/** The user's requests as HTML lines. */
function requestList(requests: readonly TrackRequest[], limit: number): string {
  if (requests.length === 0)
    return 'You have not added any channel yet. Add one you administer with <code>/track @channel</code>.';
  const counted = requests.filter((r) => r.status !== 'failed').length;
  return [
    `<b>Your channels</b> (${counted} of ${limit}):`,
    ...requests.map((r) => {
      const name = r.username === null ? r.channelId : `@${r.username}`;
      const why = r.reason === null ? '' : `: ${html(r.reason)}`;
      return `• ${html(name)} (${html(r.channelId)}): ${STATUS_TEXT[r.status]}${why}`;
    }),
  ].join('\n');
}

/** How to name a channel in a reply: `@name`, else its title, else its id. */
function channelName(chat: ChatFullInfo): string {
  return chat.username === undefined ? (chat.title ?? String(chat.id)) : `@${chat.username}`;
}

/** The `/track` handler. */
export function trackCommand(s: BotServices): CommandHandler {
  return async (ctx) => {
    const limit = s.config.trackLimit ?? DEFAULT_TRACK_LIMIT;
    const list = words(ctx.match);
    if (list.ok && list.value.length === 0)
      return replyHtml(ctx, requestList(await userTrackRequests(s.control, ctx.viewer.userId), limit));
    const target =
      list.ok && list.value.length === 1 ? trackTarget(list.value[0]) : problem<string>('name one channel');
    if (!target.ok) return replyProblem(ctx, target.problem, 'track');
    const chat = await orExplain(ctx, s, target.value, () => ctx.api.getChat(target.value));
    if (chat === null) return;
    if (chat.type !== 'channel')
      return replyHtml(ctx, `${html(target.value)} is a ${chat.type} chat, not a channel: tgpulse tracks channels.`);
    const name = channelName(chat);
    const admins = await orExplain(ctx, s, name, () => ctx.api.getChatAdministrators(chat.id));
    if (admins === null) return;
    if (!admins.some((a) => String(a.user.id) === ctx.viewer.userId))
      return replyHtml(
        ctx,
        `You're not among the administrators of ${html(name)}, so you can't add it. Ask one of its administrators to send /track.`,
      );
    const channelId = String(chat.id).replace(/^-100/, '');
    await grantChannel(s.control, { userId: ctx.viewer.userId, channelId, via: 'proof', grantedBy: null });
    const tracked = await findChannel(s.control, channelId);
    const n = html(name);
    if (tracked !== null && tracked.removedAt === null && tracked.status === 'active')
      return replyHtml(ctx, `${n} is tracked already, and you now see its figures. Try /overview ${channelId}`);
    const r = await requestTracking(s.control, {
      userId: ctx.viewer.userId,
      channelId,
      username: chat.username ?? null,
      title: chat.title ?? null,
      limit,
    });
    if (r.kind === 'limit_reached')
      return replyHtml(
        ctx,
        `You have added ${r.used} channels, the most one user may add (${r.limit}), so I can't add ${n}. ` +
          'Ask a bot admin to add it or to raise the limit; you have access to its figures once it is tracked.',
      );
    const counted = ` (${r.used} of ${r.limit} channels)`;
    if (r.kind === 'already_requested')
      return replyHtml(ctx, `You asked for ${n} already: ${STATUS_TEXT[r.request.status]}${counted}.`);
    await replyHtml(
      ctx,
      `Added: ${n} is queued for the collectors, which pick it up within minutes${counted}. ` +
        `Its figures are yours to see once the first data is in (/overview ${channelId}); /track shows where your channels stand.`,
    );
  };
}
