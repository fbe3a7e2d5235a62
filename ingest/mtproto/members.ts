/**
 * Member snapshots and channel facts from channels.getFullChannel: the
 * participants count becomes a `channel_members` event; whether the account
 * may read official statistics (and on which DC) goes to the registry, so a
 * channel that lost its admin rights stops asking for stats with a log line.
 *
 * The same answer says whether the account is a member (so Telegram pushes
 * the channel's updates) and Telegram's pts for the channel: a pts ahead of
 * the one applied means an update was lost without a gap to show it, and the
 * difference is fetched at once. That check is what lets a joined channel go
 * without a periodic difference (safety-nets.ts).
 */
import { Api } from 'telegram';
import { updateChannelFacts } from '../../control/index.ts';
import { advancePts, recoverDifference } from './live-updates.ts';
import { noteMembership } from './membership.ts';
import { channelFacts, membersEvent } from './parse.ts';
import { nextMembersTrack } from './safety-nets.ts';
import { inputChannel, type ChannelWork, type JobContext } from './work.ts';

export async function snapshotMembers(ctx: JobContext, work: ChannelWork): Promise<void> {
  const ch = work.channel;
  const full = await ctx.account.call(new Api.channels.GetFullChannel({ channel: inputChannel(ch) }), {
    signal: ctx.signal,
  });
  // Read when Telegram answered, not when the call started: it may have waited on the rate limit.
  const readAt = ctx.clock();
  const event = membersEvent(full, { channelId: ch.channelId, observedAt: readAt });
  if (event) await ctx.emit('members', [event], readAt);
  work.members = nextMembersTrack(
    work.members,
    event?.data.members ?? work.members?.count ?? 0,
    readAt,
    ctx.schedule.nets,
  );
  const entity = full.chats.find((c) => c instanceof Api.Channel && c.id.toString() === ch.channelId);
  if (entity instanceof Api.Channel) await noteMembership(ctx, work, !entity.left);
  const pts = full.fullChat instanceof Api.ChannelFull ? full.fullChat.pts : undefined;
  if (pts !== undefined) {
    // The first snapshot of a lease gives the update state to follow from; later ones check it.
    if (work.pts === null) await advancePts(ctx, work, pts);
    else if (pts > work.pts) {
      ctx.log.info(
        { channel: ch.channelId, local: work.pts, pts },
        'Telegram is ahead of the applied updates without a gap having shown; fetching the difference',
      );
      await recoverDifference(ctx, work, 'snapshot');
    }
    if (work.pts !== null && pts <= work.pts) work.ptsConfirmedAt = readAt;
  }
  const facts = channelFacts(full, ch.channelId);
  if (ch.canViewStats && !facts.canViewStats) {
    ctx.log.warn(
      { channel: ch.channelId },
      'the account lost the right to view statistics of this channel: official stats stop until it is an admin again',
    );
    ctx.metrics?.channelProblems.inc({ problem: 'lost_stats_rights' });
  }
  // The registry is written only when a fact changed: a snapshot every few minutes per channel adds up.
  const changed =
    facts.canViewStats !== ch.canViewStats ||
    facts.statsDc !== ch.statsDc ||
    facts.members !== ch.members ||
    facts.title !== ch.title ||
    facts.username !== ch.username;
  if (changed) await updateChannelFacts(ctx.control, ch.channelId, facts);
  ch.canViewStats = facts.canViewStats;
  ch.statsDc = facts.statsDc;
  if (facts.members !== null) ch.members = facts.members;
  if (facts.title !== null) ch.title = facts.title;
  ch.username = facts.username;
}
