/**
 * Official statistics, for channels whose account may view them:
 * stats.getBroadcastStats goes to the channel's stats DC (Telegram answers
 * STATS_MIGRATE_X elsewhere; the account follows it and the registry learns
 * the DC). Every graph is loaded, async ones with stats.loadAsyncGraph on the
 * same DC, and turned into `channel_stats` points. For the top posts,
 * stats.getMessageStats and the public-forward count are read too.
 *
 * A graph Telegram reports as an error ("not enough data") is logged and
 * counted; a graph that cannot be parsed goes to the dead-letter stream. Neither
 * stops the other graphs.
 */
import { Api } from 'telegram';
import { type ChannelStatsEvent, eventId } from '../../streams/contract/index.ts';
import { updateChannelFacts } from '../../control/index.ts';
import { GraphFormatError, graphsOf, pointsOfGraph } from './stats-graph.ts';
import { inputChannel, type ChannelWork, type JobContext } from './work.ts';
import type { Observation } from './parse.ts';

/** What one stats run read, for logs and tests. */
export interface StatsRun {
  points: number;
  graphErrors: string[];
  malformed: string[];
  statsDc: number | null;
}

export async function collectOfficialStats(ctx: JobContext, work: ChannelWork): Promise<StatsRun> {
  const ch = work.channel;
  const run: StatsRun = { points: 0, graphErrors: [], malformed: [], statsDc: ch.statsDc };
  if (!ch.canViewStats) return run;
  const channel = inputChannel(ch);
  const onMigrate = (dcId: number) => {
    run.statsDc = dcId;
  };
  const stats = await ctx.account.call(new Api.stats.GetBroadcastStats({ channel, dark: false }), {
    dcId: run.statsDc ?? undefined,
    signal: ctx.signal,
    onMigrate,
  });
  // Read when Telegram answered, not when the call started: it may have waited on the rate limit.
  const readAt = ctx.clock();
  const obs: Observation = { channelId: ch.channelId, observedAt: readAt };
  if (run.statsDc !== ch.statsDc) {
    ctx.log.info(
      { channel: ch.channelId, statsDc: run.statsDc },
      'statistics of this channel live on another DC; remembered',
    );
    await updateChannelFacts(ctx.control, ch.channelId, {
      canViewStats: ch.canViewStats,
      statsDc: run.statsDc,
      members: ch.members,
      title: ch.title,
      username: ch.username,
    });
    ch.statsDc = run.statsDc;
  }
  const dcId = run.statsDc ?? undefined;
  const events: ChannelStatsEvent[] = [];
  for (const { metric, graph } of graphsOf(stats)) {
    const loaded =
      graph instanceof Api.StatsGraphAsync
        ? await ctx.account.call(new Api.stats.LoadAsyncGraph({ token: graph.token }), {
            dcId,
            signal: ctx.signal,
            onMigrate,
          })
        : graph;
    events.push(...(await pointsOrRecord(ctx, metric, loaded, obs, run)));
  }
  for (const postId of topPosts(stats, ctx.schedule.topPostsForStats)) {
    const msgStats = await ctx.account.call(new Api.stats.GetMessageStats({ channel, msgId: postId, dark: false }), {
      dcId,
      signal: ctx.signal,
      onMigrate,
    });
    events.push(...(await pointsOrRecord(ctx, 'post_views', msgStats.viewsGraph, obs, run, `${postId}/`)));
    events.push(
      ...(await pointsOrRecord(
        ctx,
        'post_reactions_by_emotion',
        msgStats.reactionsByEmotionGraph,
        obs,
        run,
        `${postId}/`,
      )),
    );
    const forwards = await ctx.account.call(
      new Api.stats.GetMessagePublicForwards({ channel, msgId: postId, offset: '', limit: 0 }),
      { dcId, signal: ctx.signal, onMigrate },
    );
    events.push({
      v: 1,
      kind: 'channel_stats',
      id: eventId('cs', ch.channelId, 'post_public_forwards', String(postId), readAt),
      channel_id: ch.channelId,
      event_time: readAt,
      observed_at: readAt,
      source: 'mtproto',
      data: { metric: 'post_public_forwards', series: String(postId), t: readAt, value: forwards.count },
    });
  }
  await ctx.emit('stats', events, readAt);
  run.points = events.length;
  return run;
}

/** Points of a loaded graph, or nothing with the problem logged, counted and (if malformed) dead-lettered. */
async function pointsOrRecord(
  ctx: JobContext,
  metric: string,
  graph: Api.TypeStatsGraph,
  obs: Observation,
  run: StatsRun,
  prefix = '',
): Promise<ChannelStatsEvent[]> {
  if (graph instanceof Api.StatsGraphError) {
    run.graphErrors.push(`${prefix}${metric}`);
    ctx.metrics?.channelProblems.inc({ problem: 'graph_error' });
    ctx.log.info(
      { channel: obs.channelId, metric: `${prefix}${metric}`, error: graph.error },
      'Telegram has no data for this statistics graph',
    );
    return [];
  }
  if (!(graph instanceof Api.StatsGraph)) {
    run.graphErrors.push(`${prefix}${metric}`);
    ctx.log.warn({ channel: obs.channelId, metric }, 'an async statistics graph stayed async after loading; skipped');
    return [];
  }
  try {
    return pointsOfGraph(metric, graph, obs, prefix);
  } catch (err) {
    if (!(err instanceof GraphFormatError)) throw err;
    run.malformed.push(`${prefix}${metric}`);
    ctx.metrics?.channelProblems.inc({ problem: 'malformed_graph' });
    ctx.log.warn(
      { channel: obs.channelId, metric: `${prefix}${metric}`, reason: err.reason },
      'malformed statistics graph sent to the dead-letter stream',
    );
    await ctx.deadLetter(obs.channelId, `stats.${prefix}${metric}`, err.message, graph.json.data);
    return [];
  }
}

/** The posts whose own stats are read: the most viewed of the recent posts Telegram lists with the channel's stats. */
function topPosts(stats: Api.stats.BroadcastStats, n: number): number[] {
  if (n <= 0) return [];
  const recent = (stats.recentPostsInteractions ?? [])
    .filter((p): p is Api.PostInteractionCountersMessage => p instanceof Api.PostInteractionCountersMessage)
    .sort((a, b) => b.views - a.views)
    .map((p) => p.msgId);
  return recent.slice(0, n);
}
