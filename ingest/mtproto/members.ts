/**
 * Member snapshots and channel facts from channels.getFullChannel: the
 * participants count becomes a `channel_members` event; whether the account
 * may read official statistics (and on which DC) goes to the registry, so a
 * channel that lost its admin rights stops asking for stats with a log line.
 */
import { Api } from 'telegram';
import { updateChannelFacts } from '../../control/index.ts';
import { advancePts } from './live-updates.ts';
import { channelFacts, membersEvent } from './parse.ts';
import { inputChannel, type ChannelWork, type JobContext } from './work.ts';

export async function snapshotMembers(ctx: JobContext, work: ChannelWork): Promise<void> {
  const ch = work.channel;
  const readAt = ctx.clock();
  const full = await ctx.account.call(new Api.channels.GetFullChannel({ channel: inputChannel(ch) }), {
    signal: ctx.signal,
  });
  const event = membersEvent(full, { channelId: ch.channelId, observedAt: readAt });
  if (event) await ctx.emit('members', [event], readAt);
  // The first snapshot of a lease also gives the update state to follow from.
  if (work.pts === null && full.fullChat instanceof Api.ChannelFull && full.fullChat.pts !== undefined)
    await advancePts(ctx, work, full.fullChat.pts);
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
