/**
 * Who sees what through the bot. A user sees the channels granted to them
 * (by an admin, or by proving they administer the channel); admins see every
 * channel the warehouse knows. Everything about access lives in Postgres, so
 * a grant or revocation holds for every bot process at once.
 *
 * A refusal never tells whether a channel exists: a user without a grant
 * gets the same answer for a tracked channel and an unknown one.
 */
import type { MiddlewareFn } from 'grammy';
import { grantedChannels, upsertBotUser } from '../control/index.ts';
import { channelFreshness, knownChannels, type ChannelFreshness } from '../read/index.ts';
import { ok, problem, type Parsed } from './args.ts';
import type { BotContext, BotServices, Viewer } from './context.ts';

/**
 * Middleware that records the sender of every update (first contact, current
 * username, admin flag from configuration) and puts them on `ctx.viewer`.
 * Updates without a sender (channel posts, polls) stop here: no command
 * answers them.
 */
export function identify(s: BotServices): MiddlewareFn<BotContext> {
  return async (ctx, next) => {
    const from = ctx.from;
    if (from === undefined || from.is_bot) return;
    const userId = String(from.id);
    const user = await upsertBotUser(s.control, {
      userId,
      username: from.username ?? null,
      admin: s.config.admins.includes(userId),
    });
    ctx.viewer = { userId, username: user.username, isAdmin: user.isAdmin };
    await next();
  };
}

/** The channels a viewer may ask about, sorted by id. */
export async function visibleChannels(s: BotServices, viewer: Viewer): Promise<string[]> {
  if (!viewer.isAdmin) return grantedChannels(s.control, viewer.userId);
  return [...(await knownChannels(s.warehouse, null))].sort();
}

/** May this viewer ask about this channel? */
export async function canSee(s: BotServices, viewer: Viewer, channelId: string): Promise<boolean> {
  return viewer.isAdmin || (await grantedChannels(s.control, viewer.userId)).includes(channelId);
}

/** The refusal for a channel the viewer may not see (plain text). */
export function refusal(channelId: string): string {
  return `You don't have access to channel ${channelId}. Ask an admin, or prove you administer it with /verify ${channelId}`;
}

/**
 * A channel the viewer may see and the warehouse has data for, with its
 * freshness (every answer states it); otherwise the reply to give instead.
 */
export async function openChannel(
  s: BotServices,
  viewer: Viewer,
  channelId: string,
): Promise<Parsed<ChannelFreshness>> {
  if (!(await canSee(s, viewer, channelId))) return problem(refusal(channelId));
  const freshness = await channelFreshness(s.warehouse, channelId);
  if (freshness === null)
    return problem(
      `I have no data for channel ${channelId} yet: it is not tracked, or nothing has been collected so far.`,
    );
  return ok(freshness);
}
