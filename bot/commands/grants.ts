/**
 * Access commands: `/verify <channel>` grants a channel to a user who proves
 * they administer it (Telegram's own list of the channel's administrators,
 * which the bot can read once it is a member), and the admin-only
 * `/grant <user id> <channel>` and `/revoke <user id> <channel>`.
 */
import { GrammyError } from 'grammy';
import { grantChannel, removeUserSubscriptions, revokeGrant } from '../../control/index.ts';
import { channelFreshness } from '../../read/index.ts';
import { canSee } from '../access.ts';
import { parseChannelId, quote, words, type Parsed, ok, problem } from '../args.ts';
import type { BotServices, CommandHandler } from '../context.ts';
import { html } from '../format.ts';
import { replyHtml, replyProblem } from './reply.ts';

/** The Bot API's chat id of a channel: `-100` and its id. */
export function botApiChatId(channelId: string): string {
  return `-100${channelId}`;
}

/**
 * `/verify <channel>`: proof by Telegram itself, so channel owners get their
 * figures without waiting for a bot admin.
 */
export function verifyCommand(s: BotServices): CommandHandler {
  return async (ctx) => {
    const list = words(ctx.match);
    const channelId = list.ok && list.value.length === 1 ? parseChannelId(list.value[0]) : null;
    if (channelId === null) return replyProblem(ctx, 'name one channel by its id', 'verify');
    const c = html(channelId);
    if (await canSee(s, ctx.viewer, channelId))
      return replyHtml(ctx, `You already have access to channel ${c}: try /overview ${c}`);
    let admins: number[];
    try {
      admins = (await ctx.api.getChatAdministrators(botApiChatId(channelId))).map((m) => m.user.id);
    } catch (err) {
      // Telegram answers 400 (chat not found) or 403 when the bot is not in the channel: the user can fix that.
      if (!(err instanceof GrammyError)) throw err;
      s.log.info(
        { channelId, code: err.error_code, description: err.description },
        'bot: cannot read channel administrators',
      );
      return replyHtml(
        ctx,
        `I couldn't read the administrators of channel ${c} (Telegram says: ${html(err.description)}).\n` +
          'Add this bot to the channel as an administrator, then send /verify again.',
      );
    }
    if (!admins.includes(Number(ctx.viewer.userId))) {
      return replyHtml(
        ctx,
        `You're not among the administrators of channel ${c}, so I can't give you access. Ask a bot admin if you should see it.`,
      );
    }
    await grantChannel(s.control, { userId: ctx.viewer.userId, channelId, via: 'proof', grantedBy: null });
    await replyHtml(
      ctx,
      `Verified: you administer channel ${c}, so you now see its figures.${await noDataNote(s, channelId)} Try /overview ${c}`,
    );
  };
}

/** Reads `<user id> <channel>`. */
function userAndChannel(text: string): Parsed<{ userId: string; channelId: string }> {
  const list = words(text);
  if (!list.ok) return list;
  if (list.value.length !== 2) return problem('give a user id and a channel id');
  const [user, channel] = list.value;
  const channelId = parseChannelId(channel);
  if (!/^[0-9]{1,20}$/.test(user))
    return problem(`${quote(user)} is not a Telegram user id (digits; the user can see theirs in @userinfobot)`);
  if (channelId === null) return problem(`${quote(channel)} is not a channel id`);
  return ok({ userId: user, channelId });
}

const ADMINS_ONLY =
  'Only bot admins can grant or revoke access. To see a channel you administer, use <code>/verify &lt;channel id&gt;</code>.';

async function noDataNote(s: BotServices, channelId: string): Promise<string> {
  return (await channelFreshness(s.warehouse, channelId)) === null ? ' (I have no data for it yet.)' : '';
}

/** The admin-only commands share their checks; `apply` does the change and says what happened (HTML). */
function adminCommand(
  command: 'grant' | 'revoke',
  apply: (s: BotServices, by: string, userId: string, channelId: string) => Promise<string>,
) {
  return (s: BotServices): CommandHandler =>
    async (ctx) => {
      if (!ctx.viewer.isAdmin) return replyHtml(ctx, ADMINS_ONLY);
      const args = userAndChannel(ctx.match);
      if (!args.ok) return replyProblem(ctx, args.problem, command);
      await replyHtml(ctx, await apply(s, ctx.viewer.userId, args.value.userId, args.value.channelId));
    };
}

/** `/grant <user id> <channel>` (admins): let a user see a channel. */
export const grantCommand = adminCommand('grant', async (s, by, userId, channelId) => {
  await grantChannel(s.control, { userId, channelId, via: 'admin', grantedBy: by });
  return `Granted: user ${html(userId)} may now see channel ${html(channelId)}.${await noDataNote(s, channelId)}`;
});

/** `/revoke <user id> <channel>` (admins): take it back, with the user's alert subscriptions to it. */
export const revokeCommand = adminCommand('revoke', async (s, by, userId, channelId) => {
  if (!(await revokeGrant(s.control, { userId, channelId, by })))
    return `User ${html(userId)} had no grant for channel ${html(channelId)}.`;
  const removed = await removeUserSubscriptions(s.control, { userId, channelId, by });
  const subs =
    removed === 0 ? '' : ` ${removed} alert subscription${removed === 1 ? '' : 's'} of theirs to it removed.`;
  return `Revoked: user ${html(userId)} no longer sees channel ${html(channelId)}.${subs}`;
});
