/**
 * Counter polling. The posts the schedule (schedule.ts) picks are read with
 * channels.getMessages, 100 ids per call: one call gives views, forwards,
 * replies and reactions of each post (getMessagesViews plus
 * getMessagesReactions took two), and reading a message does not count as a
 * view. Each read becomes a `post_counters` snapshot, and teaches the post's
 * growth and the channel's curve, which space the next reads.
 */
import { Api } from 'telegram';
import { countersFromMessage } from './parse.ts';
import { chunk, IDS_PER_CALL, maxPollAge, pollBatch, recordRead } from './schedule.ts';
import { inputChannel, type ChannelWork, type JobContext } from './work.ts';

/** Polls the due posts of one channel; returns how many snapshots it published. */
export async function pollCounters(ctx: JobContext, work: ChannelWork): Promise<number> {
  const now = ctx.clock();
  const { freshness } = ctx.schedule;
  // Posts past the targets' oldest age will never be due again.
  for (const [id, p] of work.posts) if (now - p.dateMs >= maxPollAge(freshness)) work.posts.delete(id);
  const picked = pollBatch(work.posts.values(), work.curve, now, freshness, ctx.passMs);
  let published = 0;
  for (const ids of chunk(picked, IDS_PER_CALL)) {
    if (ctx.signal?.aborted) break;
    const answer = await ctx.account.call(
      new Api.channels.GetMessages({
        channel: inputChannel(work.channel),
        id: ids.map((id) => new Api.InputMessageID({ id })),
      }),
      { signal: ctx.signal },
    );
    // Without a message list nothing says which posts are gone: fail the job rather than drop them all.
    if (!('messages' in answer))
      throw new Error(`channels.getMessages answered ${answer.className} for channel ${work.channel.channelId}`);
    const { messages } = answer;
    // Read when Telegram answered, not when the call started: it may have waited on the rate limit.
    const readAt = ctx.clock();
    const obs = { channelId: work.channel.channelId, observedAt: readAt };
    const events = messages.flatMap((m) => {
      const e = countersFromMessage(m, obs);
      return e && work.posts.has(e.data.post_id) ? [e] : [];
    });
    await ctx.emit('counters', events, readAt);
    published += events.length;
    const read = new Map(events.map((e) => [e.data.post_id, e.data.views]));
    for (const id of ids) {
      const views = read.get(id);
      // An empty message or one without a view count: the post is gone or hidden; stop polling it.
      if (views === undefined) work.posts.delete(id);
      else recordRead(work.posts.get(id)!, work.curve, readAt, views);
    }
  }
  return published;
}
