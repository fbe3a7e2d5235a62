/**
 * The commands that are about the bot rather than one channel: `/start`,
 * `/help`, `/channels`, and the answer to anything it does not understand.
 */
import { channelNames } from '../../control/index.ts';
import { listChannels, type ChannelListing } from '../../read/index.ts';
import { visibleChannels } from '../access.ts';
import type { BotContext, BotServices, CommandHandler } from '../context.ts';
import { clip, compact, html, utc } from '../format.ts';
import { commandList } from './catalog.ts';
import { NO_CHANNELS } from './channel-command.ts';
import { replyHtml } from './reply.ts';

/** Channels listed in one message; beyond, a note says how many more. */
const LISTED = 40;
/**
 * Channels `/channels` lists with their figures: at most about 190 visible characters a line
 * (a 48-character title, a 32-character username), so the list stays within Telegram's 4,096.
 */
const LISTED_WITH_FIGURES = 20;

const ABOUT =
  'I show analytics of Telegram channels: subscribers and views, charts, top posts, anomalies and the best time to post, ' +
  'and I can alert this chat within seconds when something unusual happens.';

/** `/start`: the first thing a user sees, so it says what the bot does and what they can ask about. */
export function startCommand(s: BotServices): CommandHandler {
  return async (ctx) => {
    const channels = await visibleChannels(s, ctx.viewer);
    const yours =
      channels.length === 0
        ? NO_CHANNELS
        : `Your channels: ${channels
            .slice(0, LISTED)
            .map((c) => `<code>${html(c)}</code>`)
            .join(
              ', ',
            )}${channels.length > LISTED ? ` and ${channels.length - LISTED} more` : ''}.\nTry /overview or /channels.`;
    await replyHtml(ctx, `<b>Hi!</b> ${ABOUT}\n\n${yours}\n\nSend /help for all commands.`);
  };
}

/** `/help`: every command with its arguments (admin commands for admins only). */
export async function helpCommand(ctx: BotContext): Promise<void> {
  await replyHtml(
    ctx,
    `<b>Commands</b>\n${commandList(ctx.viewer.isAdmin)}\n\nA channel is its id (see /channels); a period is a number of days like 7d, 30d or 90d. ` +
      'Leave the channel out to choose it from buttons.',
  );
}

/** A channel's latest figures in a line (HTML). */
export function channelLine(c: ChannelListing): string {
  const subscribers = c.subscribers === null ? 'subscribers unknown' : `<b>${compact(c.subscribers)}</b> subscribers`;
  const open =
    c.open_anomalies === 0 ? '' : ` · ${c.open_anomalies} open anomal${c.open_anomalies === 1 ? 'y' : 'ies'}`;
  return `${namePrefix(c)}<code>${html(c.channel_id)}</code> · ${subscribers} · ${compact(c.views_24h)} views and ${c.posts_24h} posts in 24 h${open}`;
}

/** The channel's title and @username (HTML), to stand before its id (which commands take); empty when unknown. */
function namePrefix(c: Pick<ChannelListing, 'title' | 'username'>): string {
  const parts = [
    c.title === null ? '' : `<b>${html(clip(c.title, 48))}</b>`,
    c.username === null ? '' : `@${html(c.username)}`,
  ];
  const name = parts.filter((p) => p !== '').join(' ');
  return name === '' ? '' : `${name} · `;
}

/** `/channels`: the user's channels at a glance, to pick one by id. */
export function channelsCommand(s: BotServices): CommandHandler {
  return async (ctx) => {
    const ids = await visibleChannels(s, ctx.viewer);
    if (ids.length === 0) return replyHtml(ctx, NO_CHANNELS);
    const now = s.now();
    const listed = ids.slice(0, LISTED_WITH_FIGURES);
    const page = await listChannels(s.warehouse, {
      ids: listed,
      limit: LISTED_WITH_FIGURES,
      offset: 0,
      now,
      names: (page) => channelNames(s.control, page),
    });
    const known = new Set(page.channels.map((c) => c.channel_id));
    const waiting = listed.filter((id) => !known.has(id));
    const latest = Math.max(0, ...page.channels.map((c) => c.data_updated_at));
    await replyHtml(
      ctx,
      [
        '<b>Your channels</b>',
        ...page.channels.map(channelLine),
        ...waiting.map((id) => `<code>${html(id)}</code> · no data yet`),
        ...(ids.length > listed.length ? [`…and ${ids.length - listed.length} more.`] : []),
        '',
        latest > 0
          ? `<i>Data as of ${utc(latest)}; the last 24 hours end ${utc(now)}.</i>`
          : '<i>No data collected yet.</i>',
      ].join('\n'),
    );
  };
}

/** The answer to a command this bot does not have. */
export async function unknownCommand(ctx: BotContext): Promise<void> {
  const text = ctx.message?.text ?? '';
  const name = clip(text.split(/\s/)[0], 40);
  await replyHtml(
    ctx,
    `I don't know the command <code>${html(name)}</code>. These are the ones I have:\n\n${commandList(ctx.viewer.isAdmin)}`,
  );
}
