/**
 * Data for read-side tests, produced the way production data is: simulated
 * channels published to a private nats-server and turned into serving tables
 * by the real processors and sinks in chDB. A few hand-made raw events add
 * what the simulator does not make: a post forwarded from another tracked
 * channel with hostile text in it, and official statistics by source.
 */
import { Simulator } from '../../ingest/simulator/simulator.ts';
import { eventId } from '../../streams/contract/ids.ts';
import {
  SCHEMA_VERSION,
  type ChannelStatsEvent,
  type PostCountersEvent,
  type PostEvent,
} from '../../streams/contract/events.ts';
import { startTestNats, tempDir, type TestNats } from './nats.ts';
import { startPipeline, type TestPipeline } from './pipeline.ts';
import { DAY_MS, HOUR_MS } from '../../common/index.ts';
import { publishSimulation } from './simulation.ts';

export interface ReadSideData {
  nats: TestNats;
  pipe: TestPipeline;
  channels: string[];
  start: number;
  end: number;
  /** The hand-made forwarded post: in `channels[1]`, forwarded from `channels[0]`. */
  forwarded: {
    channel_id: string;
    post_id: number;
    from_channel_id: string;
    date: number;
    mention: string;
    views: number;
  };
  /** Official "views by source" points of `channels[0]`: series → values by day. */
  officialBySource: Record<string, number[]>;
  close(): Promise<void>;
}

export const HOSTILE_MENTION = `@x'); DROP TABLE raw_posts; --<script>alert(1)</script>`;

export async function produceReadSideData(opts: {
  channels: number;
  days: number;
  seed: number;
  start: number;
}): Promise<ReadSideData> {
  const nats = await startTestNats();
  const pipe = await startPipeline({ natsUrl: nats.url, dataDir: tempDir('read-side') });
  pipe.startRoles();
  const sim = new Simulator({
    seed: opts.seed,
    channels: opts.channels,
    start: opts.start,
    durationMs: opts.days * DAY_MS,
    anomalyRate: 0.15,
  });
  const channels = sim.profiles.map((p) => p.channelId).sort();
  const end = opts.start + opts.days * DAY_MS;

  const date = end - 3 * DAY_MS + 5 * HOUR_MS;
  const forwarded = {
    channel_id: channels[1],
    post_id: 999_001,
    from_channel_id: channels[0],
    date,
    mention: HOSTILE_MENTION,
    views: 4321,
  };
  const post: PostEvent = {
    v: SCHEMA_VERSION,
    kind: 'post',
    id: eventId('post', forwarded.channel_id, forwarded.post_id),
    channel_id: forwarded.channel_id,
    event_time: date,
    observed_at: date + 60_000,
    source: 'simulator',
    data: {
      post_id: forwarded.post_id,
      date,
      edit_date: null,
      text_length: 42,
      media_type: 'photo',
      grouped_id: null,
      forward_from: { channel_id: forwarded.from_channel_id, post_id: 5 },
      mentions: [HOSTILE_MENTION],
      links: ['https://Example.org/path?q=1'],
      hashtags: ['#=cmd'],
      counters: { views: 10, forwards: 0, replies: 0, reactions_total: 0, reactions: {} },
    },
  };
  const counters: PostCountersEvent = {
    v: SCHEMA_VERSION,
    kind: 'post_counters',
    id: eventId('pc', forwarded.channel_id, forwarded.post_id, date + DAY_MS),
    channel_id: forwarded.channel_id,
    event_time: date + DAY_MS,
    observed_at: date + DAY_MS,
    source: 'simulator',
    data: {
      post_id: forwarded.post_id,
      post_date: date,
      views: forwarded.views,
      forwards: 7,
      replies: 1,
      reactions_total: 12,
      reactions: { '👍': 12 },
    },
  };
  const officialBySource: Record<string, number[]> = {
    Channels: [120, 80, 95],
    Search: [10, 0, 7.5],
    'URL <b>': [1, 2, 3],
  };
  const stats: ChannelStatsEvent[] = Object.entries(officialBySource).flatMap(([series, values]) =>
    values.map((value, i) => {
      const t = end - (7 - i) * DAY_MS;
      return {
        v: SCHEMA_VERSION,
        kind: 'channel_stats' as const,
        id: eventId('cs', channels[0], 'views_by_source', series, t),
        channel_id: channels[0],
        // Official graphs are read some hours after the day they describe.
        event_time: t + 12 * HOUR_MS,
        observed_at: t + 12 * HOUR_MS,
        source: 'mtproto' as const,
        data: { metric: 'views_by_source', series, t, value },
      };
    }),
  );
  await publishSimulation(pipe, sim, [post, counters, ...stats]);
  await pipe.waitIdle(300_000);
  return {
    nats,
    pipe,
    channels,
    start: opts.start,
    end,
    forwarded,
    officialBySource,
    async close() {
      await pipe.close();
      await nats.stop();
    },
  };
}
