/**
 * Counter polling. Pushed view and reaction updates are unreliable, so the
 * posts the schedule says are due are read with messages.getMessagesViews
 * (increment=false: reading must not add a view) and
 * messages.getMessagesReactions, 100 ids per call, and published as
 * `post_counters` snapshots. Posts nearly due ride along with the due ones
 * (see `pollBatch`), so a channel's posts share calls.
 */
import { Api } from 'telegram';
import { countersFromViews, reactionsFromUpdates } from './parse.ts';
import { chunk, maxPollAge, pollBatch } from './schedule.ts';
import { inputPeer, type ChannelWork, type JobContext } from './work.ts';

const IDS_PER_CALL = 100;

/** Polls the due posts of one channel; returns how many snapshots it published. */
export async function pollCounters(ctx: JobContext, work: ChannelWork): Promise<number> {
  const now = ctx.clock();
  const due = pollBatch(work.posts.values(), now, ctx.schedule.pollTiers);
  // Posts past the schedule's oldest age will never be due again.
  for (const [id, p] of work.posts) if (now - p.dateMs >= maxPollAge(ctx.schedule.pollTiers)) work.posts.delete(id);
  let published = 0;
  for (const ids of chunk(due, IDS_PER_CALL)) {
    if (ctx.signal?.aborted) break;
    const peer = inputPeer(work.channel);
    const readAt = ctx.clock();
    const views = await ctx.account.call(new Api.messages.GetMessagesViews({ peer, id: ids, increment: false }), {
      signal: ctx.signal,
    });
    const reactions = await ctx.account.call(new Api.messages.GetMessagesReactions({ peer, id: ids }), {
      signal: ctx.signal,
    });
    const dates = new Map(ids.map((id) => [id, work.posts.get(id)!.dateMs]));
    const events = countersFromViews(
      ids,
      views,
      reactionsFromUpdates(reactions, work.channel.channelId),
      { channelId: work.channel.channelId, observedAt: readAt },
      dates,
    );
    await ctx.emit('counters', events, readAt);
    published += events.length;
    const answered = new Set(events.map((e) => e.data.post_id));
    for (const id of ids) {
      // No view count in the answer: the post is gone; stop polling it.
      if (!answered.has(id)) work.posts.delete(id);
      else work.posts.get(id)!.lastPolledMs = readAt;
    }
  }
  return published;
}
