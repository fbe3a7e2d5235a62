/**
 * `/dashboard`: a button that opens the web dashboard inside Telegram as a
 * Mini App. Telegram signs who opened it (initData), so the app signs the
 * user in without a key and shows the channels granted to them here.
 *
 * Telegram opens Mini Apps only from https URLs and shows their buttons only
 * in private chats, so elsewhere the answer says why and gives the link or
 * the way to a private chat instead of a button Telegram would refuse.
 */
import { InlineKeyboard } from 'grammy';
import { grantedChannels } from '../../control/index.ts';
import type { CommandHandler, BotServices } from '../context.ts';
import { html } from '../format.ts';
import { replyHtml } from './reply.ts';

const BUTTON = 'Open the dashboard';

/** `/dashboard`: the Mini App button (private chat, https), or the reason there is none and the link. */
export function dashboardCommand(s: BotServices): CommandHandler {
  return async (ctx) => {
    const url = `${s.config.publicApiUrl}/`;
    const link = `<a href="${html(url)}">${html(url)}</a>`;
    if (!url.startsWith('https://')) {
      await replyHtml(
        ctx,
        `The dashboard is at ${link}, but Telegram opens Mini Apps only from https addresses, so it cannot open inside Telegram here. ` +
          'Open the link in a browser and sign in with an API key, or ask the operator to serve the API over https (TGPULSE_PUBLIC_API_URL).',
      );
      return;
    }
    if (ctx.chat.type !== 'private') {
      const me = `https://t.me/${ctx.me.username}`;
      await replyHtml(
        ctx,
        `Telegram shows the dashboard button only in a private chat: send /dashboard to <a href="${html(me)}">me</a> directly.`,
      );
      return;
    }
    // The app shows exactly the granted channels (an admin's "every channel" is a bot privilege, not the app's).
    const channels = await grantedChannels(s.control, ctx.viewer.userId);
    const what =
      channels.length === 0
        ? 'No channel is granted to you yet: get one with /verify or /track first, then open the dashboard.'
        : `Charts, top posts, anomalies and the best time to post for your ${channels.length === 1 ? 'channel' : `${channels.length} channels`}, inside Telegram.`;
    await replyHtml(ctx, `<b>Your dashboard</b>\n${what}`, {
      reply_markup: new InlineKeyboard().webApp(BUTTON, url),
    });
  };
}
