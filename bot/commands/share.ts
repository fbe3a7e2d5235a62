/**
 * `/share [channel] [period]`: a signed, expiring, read-only link to the
 * channel's report (every section), served by the REST API. Someone without
 * the bot or an API key can read that report, and only that, until it expires.
 */
import { audit, createShareLink, SHARE_SECTIONS } from '../../control/index.ts';
import { html, periodText, utc } from '../format.ts';
import { recentPeriod, type ChannelCommand } from './channel-command.ts';
import { replyHtml } from './reply.ts';

/** As long as the API's default, so links made either way behave alike. */
export const SHARE_TTL_SECONDS = 7 * 86_400;

/** Makes a share link for the period, for readers who have neither the bot nor an API key. */
export const shareCommand: ChannelCommand = {
  name: 'share',
  defaultDays: 30,
  async run(ctx, s, t) {
    const period = recentPeriod(t);
    const now = s.now();
    // created_by names an API key; a bot user is recorded in the audit log instead.
    const { link, token } = await createShareLink(
      s.control,
      s.shareSecret,
      {
        channelId: t.channelId,
        ...period,
        sections: [...SHARE_SECTIONS],
        ttlSeconds: SHARE_TTL_SECONDS,
        createdBy: null,
      },
      now,
    );
    await audit(s.control, {
      actor: `bot_user:${ctx.viewer.userId}`,
      action: 'share_link.create_by_bot',
      target: link.id,
      details: { channelId: t.channelId },
    });
    const url = `${s.config.publicApiUrl}/v1/share/${token}`;
    await replyHtml(
      ctx,
      [
        `<b>Channel ${html(t.channelId)}</b> · report of the ${periodText(period, t.days)}`,
        '',
        `<a href="${html(url)}">${html(url)}</a>`,
        '',
        `Anyone with this link can read the report until <b>${utc(link.expiresAt)}</b>. Share it only with people who may see these figures.`,
      ].join('\n'),
    );
  },
};
