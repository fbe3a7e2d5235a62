/**
 * Live updates of a channel, in pts order. Telegram numbers each channel's
 * changes (pts); an update says which pts it brings the channel to and how
 * many changes it covers. gramjs does not track channel pts itself, so this
 * does: an update that continues the sequence is applied, one already
 * applied is dropped, and a gap (or UpdateChannelTooLong) is filled with
 * updates.getChannelDifference from the last applied pts. The pts is saved in
 * the registry after the events it covers were acknowledged, so a restart
 * resumes from it.
 *
 * Pushed view, forward and reaction counts carry only one of the counters, so
 * they do not become events themselves: they make the post due for a poll.
 */
import { Api } from 'telegram';
import type { RawEvent } from '../../streams/contract/index.ts';
import { savePts } from '../../control/index.ts';
import { channelIdOfPeer, deletedEvents, postEvent, seenCounters } from './parse.ts';
import { maxPollAge } from './schedule.ts';
import { inputChannel, trackPost, type ChannelWork, type JobContext } from './work.ts';

/** What an update with a pts means for the sequence applied so far. */
export type PtsStep = 'apply' | 'duplicate' | 'gap';

/** Pure: local pts `local`, update reaching `pts` over `ptsCount` changes. */
export function ptsStep(local: number | null, pts: number, ptsCount: number): PtsStep {
  if (local === null) return 'apply';
  if (pts <= local) return 'duplicate';
  return local + ptsCount === pts ? 'apply' : 'gap';
}

/** The channel an update concerns, or null for updates of other peers. */
export function channelOfUpdate(update: Api.TypeUpdate): string | null {
  if (update instanceof Api.UpdateNewChannelMessage || update instanceof Api.UpdateEditChannelMessage) {
    return update.message instanceof Api.Message || update.message instanceof Api.MessageService
      ? channelIdOfPeer(update.message.peerId)
      : null;
  }
  if (
    update instanceof Api.UpdateDeleteChannelMessages ||
    update instanceof Api.UpdateChannelTooLong ||
    update instanceof Api.UpdateChannelMessageViews ||
    update instanceof Api.UpdateChannelMessageForwards
  ) {
    return update.channelId.toString();
  }
  if (update instanceof Api.UpdateMessageReactions) return channelIdOfPeer(update.peer);
  return null;
}

/** Applies one pushed update to its channel's work. */
export async function applyUpdate(ctx: JobContext, work: ChannelWork, update: Api.TypeUpdate): Promise<void> {
  if (update instanceof Api.UpdateChannelTooLong) {
    await recoverDifference(ctx, work, 'too_long');
    return;
  }
  if (update instanceof Api.UpdateChannelMessageViews || update instanceof Api.UpdateChannelMessageForwards) {
    markDue(work, update.id);
    return;
  }
  if (update instanceof Api.UpdateMessageReactions) {
    markDue(work, update.msgId);
    return;
  }
  if (
    !(
      update instanceof Api.UpdateNewChannelMessage ||
      update instanceof Api.UpdateEditChannelMessage ||
      update instanceof Api.UpdateDeleteChannelMessages
    )
  )
    return;
  const step = ptsStep(work.pts, update.pts, update.ptsCount);
  if (step === 'duplicate') return;
  if (step === 'gap') {
    ctx.log.info(
      { channel: work.channel.channelId, local: work.pts, pts: update.pts, ptsCount: update.ptsCount },
      'gap in the update sequence; fetching the difference',
    );
    await recoverDifference(ctx, work, 'gap');
    return;
  }
  const readAt = ctx.clock();
  await ctx.emit('live', eventsOf(ctx, work, [update], readAt, true), readAt);
  await advancePts(ctx, work, update.pts);
  // In order, so everything up to this pts arrived: the safety net can wait.
  work.ptsConfirmedAt = readAt;
}

/**
 * Fetches everything after the last applied pts with
 * updates.getChannelDifference, page by page until Telegram says final.
 * Returns the number of changes recovered.
 */
export async function recoverDifference(
  ctx: JobContext,
  work: ChannelWork,
  reason: 'gap' | 'too_long' | 'periodic' | 'snapshot',
): Promise<number> {
  const channel = inputChannel(work.channel);
  if (work.pts === null) {
    // Nothing applied yet: start from the channel's current state.
    const full = await ctx.account.call(new Api.channels.GetFullChannel({ channel }), { signal: ctx.signal });
    const pts = full.fullChat instanceof Api.ChannelFull ? full.fullChat.pts : undefined;
    if (pts !== undefined) await advancePts(ctx, work, pts);
    return 0;
  }
  let recovered = 0;
  for (let page = 0; page < 100; page++) {
    if (ctx.signal?.aborted) break;
    const diff = await ctx.account.call(
      new Api.updates.GetChannelDifference({
        channel,
        filter: new Api.ChannelMessagesFilterEmpty(),
        pts: work.pts,
        limit: 100,
        force: false,
      }),
      { signal: ctx.signal },
    );
    // Read when Telegram answered, not when the call started: it may have waited on the rate limit.
    const readAt = ctx.clock();
    if (diff instanceof Api.updates.ChannelDifferenceEmpty) {
      await advancePts(ctx, work, diff.pts);
      work.ptsConfirmedAt = readAt;
      break;
    }
    if (diff instanceof Api.updates.ChannelDifferenceTooLong) {
      // Too far behind for a difference: take the newest messages Telegram gives and jump to its pts.
      const events = diff.messages.flatMap((m) => postOf(ctx, work, m, readAt));
      await ctx.emit('difference', events, readAt);
      recovered += events.length;
      const pts = diff.dialog instanceof Api.Dialog ? diff.dialog.pts : undefined;
      if (pts !== undefined) await advancePts(ctx, work, pts);
      ctx.log.warn(
        { channel: work.channel.channelId },
        'update gap too long for a difference: jumped to the current state; older changes come from counter polling',
      );
      break;
    }
    const events = [
      ...diff.newMessages.flatMap((m) => postOf(ctx, work, m, readAt)),
      ...eventsOf(ctx, work, diff.otherUpdates, readAt),
    ];
    await ctx.emit('difference', events, readAt);
    recovered += diff.newMessages.length + diff.otherUpdates.length;
    await advancePts(ctx, work, diff.pts);
    if (diff.final) {
      work.ptsConfirmedAt = readAt;
      break;
    }
  }
  if (recovered > 0) ctx.metrics?.gapsRecovered.inc({ reason });
  return recovered;
}

function eventsOf(
  ctx: JobContext,
  work: ChannelWork,
  updates: readonly Api.TypeUpdate[],
  readAt: number,
  pushed = false,
): RawEvent[] {
  const out: RawEvent[] = [];
  for (const u of updates) {
    if (u instanceof Api.UpdateNewChannelMessage || u instanceof Api.UpdateEditChannelMessage)
      out.push(...postOf(ctx, work, u.message, readAt, pushed));
    else if (u instanceof Api.UpdateDeleteChannelMessages) {
      for (const id of u.messages) work.posts.delete(id);
      out.push(...deletedEvents(u.messages, { channelId: work.channel.channelId, observedAt: readAt }));
    }
  }
  return out;
}

/** The post event of a message, tracking the post for polling (see {@link firstRead}). */
function postOf(ctx: JobContext, work: ChannelWork, msg: Api.TypeMessage, readAt: number, pushed = false): RawEvent[] {
  const event = postEvent(msg, { channelId: work.channel.channelId, observedAt: readAt });
  if (!event) return [];
  if (readAt - event.data.date < maxPollAge(ctx.schedule.freshness))
    trackPost(work, event.data.post_id, event.data.date, firstRead(work, msg, event.data.date, readAt, pushed));
  return [event];
}

/**
 * Whether the counters a post event carries count as the post's first read.
 * A post event's id is the same whenever the post is read again (a history
 * read or a difference after a restart), so JetStream may drop the repeat as
 * a duplicate, and counters counted as read would never reach the pipeline:
 * such posts are polled at once instead. A pushed new post, or one dated
 * after this process took the lease, cannot have been read before.
 */
export function firstRead(
  work: ChannelWork,
  msg: Api.TypeMessage,
  dateMs: number,
  readAt: number,
  pushed = false,
): { at: number; views: number } | undefined {
  return pushed || dateMs >= work.since ? seenCounters(msg, readAt) : undefined;
}

function markDue(work: ChannelWork, postId: number): void {
  const p = work.posts.get(postId);
  if (p) p.pushed = true;
}

/** Records that everything up to `pts` was published; only moves forward. */
export async function advancePts(ctx: JobContext, work: ChannelWork, pts: number): Promise<void> {
  if (work.pts !== null && pts <= work.pts) return;
  work.pts = pts;
  await savePts(ctx.control, work.channel.channelId, pts);
}
