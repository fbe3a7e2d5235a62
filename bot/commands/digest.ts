/**
 * `/digest daily|weekly [channel] [time zone]`: this chat gets a channel's
 * KPI summary with a chart every day, or every Monday, at 09:00 in the time
 * zone (UTC by default), about the day or week before. `/digest off
 * [channel]` stops them, `/digest` lists them. The bot role's digest loop
 * (digests/scheduler.ts) sends them; here they are only checked and stored.
 */
import {
  chatDigests,
  type DigestCadence,
  type DigestSubscription,
  removeDigests,
  upsertDigest,
} from '../../control/index.ts';
import { canSee, refusal, visibleChannels } from '../access.ts';
import { ok, parseChannelId, problem, quote, words, type Parsed } from '../args.ts';
import type { BotServices, CommandHandler } from '../context.ts';
import { DIGEST_HOUR, nextDigestAt } from '../digests/period.ts';
import { html, utc } from '../format.ts';
import { timeZoneOf } from './best-time.ts';
import { replyHtml, replyProblem } from './reply.ts';

/** What `/digest …` asks for. */
export type DigestRequest =
  | { action: 'list' }
  | { action: 'off'; channelId: string | null }
  | { action: 'on'; cadence: DigestCadence; channelId: string | null; timeZone: string };

/** Reads the words after `/digest`: a cadence or `off`, then a channel and a time zone in any order. */
export function parseDigestRequest(list: readonly string[]): Parsed<DigestRequest> {
  if (list.length === 0) return ok({ action: 'list' });
  const [verb, ...rest] = list;
  const action = verb.toLowerCase();
  if (action !== 'daily' && action !== 'weekly' && action !== 'off')
    return problem(`${quote(verb)} is not a digest: daily, weekly, or off`);
  let channelId: string | null = null;
  let timeZone: string | null = null;
  for (const word of rest) {
    const id = parseChannelId(word);
    const zone = id === null ? timeZoneOf(word) : null;
    if (id !== null && channelId === null) channelId = id;
    else if (zone !== null && timeZone === null && action !== 'off') timeZone = zone;
    else
      return problem(
        `${quote(word)} is not a channel id${action === 'off' ? '' : ' or a time zone (like Europe/Berlin)'}, or is given twice`,
      );
  }
  if (action === 'off') return ok({ action, channelId });
  return ok({ action: 'on', cadence: action, channelId, timeZone: timeZone ?? 'UTC' });
}

/** A digest in a line (HTML). */
function digestLine(d: DigestSubscription): string {
  const when = d.cadence === 'daily' ? 'daily' : 'weekly, on Mondays';
  return `• Channel <b>${html(d.channelId)}</b>: ${when} at ${DIGEST_HOUR}:00 ${html(d.timeZone)}`;
}

/** `/digest`: list, start or stop this chat's digests. */
export function digestCommand(s: BotServices): CommandHandler {
  return async (ctx) => {
    const list = words(ctx.match);
    const request = list.ok ? parseDigestRequest(list.value) : list;
    if (!request.ok) return replyProblem(ctx, request.problem, 'digest');
    const r = request.value;
    const chatId = String(ctx.chat?.id ?? ctx.viewer.userId);
    if (r.action === 'list') {
      const digests = await chatDigests(s.control, chatId);
      return replyHtml(
        ctx,
        digests.length === 0
          ? 'No digests in this chat yet. Start one with <code>/digest daily &lt;channel&gt; [Europe/Berlin]</code>.'
          : [
              '<b>Digests in this chat</b>',
              ...digests.map(digestLine),
              '',
              'Stop with <code>/digest off [channel]</code>',
            ].join('\n'),
      );
    }
    if (r.action === 'off') {
      const removed = await removeDigests(s.control, {
        chatId,
        channelId: r.channelId,
        by: `bot_user:${ctx.viewer.userId}`,
      });
      const which = r.channelId === null ? '' : ` of channel ${html(r.channelId)}`;
      return replyHtml(
        ctx,
        removed === 0 ? `This chat had no digests${which}.` : `Digests${which} stopped in this chat.`,
      );
    }
    let channelId = r.channelId;
    if (channelId === null) {
      const channels = await visibleChannels(s, ctx.viewer);
      if (channels.length !== 1)
        return replyProblem(
          ctx,
          channels.length === 0 ? 'you have no channel yet' : 'which channel? name it',
          'digest',
        );
      channelId = channels[0];
    }
    if (!(await canSee(s, ctx.viewer, channelId))) return replyHtml(ctx, html(refusal(channelId)));
    const digest = await upsertDigest(s.control, {
      chatId,
      channelId,
      cadence: r.cadence,
      timeZone: r.timeZone,
      createdBy: ctx.viewer.userId,
      at: s.now(),
    });
    const first = nextDigestAt(digest.cadence, digest.timeZone, digest.createdAt);
    await replyHtml(
      ctx,
      `Digest on for this chat:\n${digestLine(digest)}\n` +
        `Each sums up the ${digest.cadence === 'daily' ? 'day' : 'week'} before; the first comes at ${utc(first)}.`,
    );
  };
}
