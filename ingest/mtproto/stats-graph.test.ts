import { Api } from 'telegram';
import { describe, expect, it } from 'vitest';
import { validateEvent } from '../../streams/contract/codec.ts';
import type { ChannelStatsEvent } from '../../streams/contract/events.ts';
import { eventId } from '../../streams/contract/ids.ts';
import type { Observation } from './parse.ts';
import { GraphFormatError, graphsOf, metricOfGraphField, pointsOfGraph } from './stats-graph.ts';
import { DAY_MS } from '../../common/index.ts';

const CHANNEL = '1234567890';
const T0 = Date.UTC(2026, 0, 1);
const OBSERVED = T0 + 7 * DAY_MS + 3_600_000;
const obs: Observation = { channelId: CHANNEL, observedAt: OBSERVED };

function expectValid(events: readonly ChannelStatsEvent[]): void {
  for (const e of events) {
    const r = validateEvent(JSON.parse(JSON.stringify(e)));
    expect(r.ok ? 'valid' : r.detail).toBe('valid');
  }
}

function graph(json: unknown): Api.StatsGraph {
  return new Api.StatsGraph({
    json: new Api.DataJSON({ data: typeof json === 'string' ? json : JSON.stringify(json) }),
  });
}

/** value of `series` at `t`, from a list of points. */
function at(events: readonly ChannelStatsEvent[], series: string, t: number): number | undefined {
  return events.find((e) => e.data.series === series && e.data.t === t)?.data.value;
}

const days = (n: number) => Array.from({ length: n }, (_, i) => T0 + i * DAY_MS);

// Shaped like Telegram's answers: chart metadata besides columns/types/names is ignored.
const growthJson = {
  columns: [
    ['x', ...days(3)],
    ['y0', 15_010, 15_042, 15_097],
  ],
  types: { y0: 'line', x: 'x' },
  names: { y0: 'Total followers' },
  colors: { y0: '#3497ED' },
  hidden: [],
  subchart: { show: true, defaultZoom: [T0, T0 + 2 * DAY_MS] },
  title: 'Growth',
  xTickFormatter: 'function(x){ return new Date(x).toDateString(); }',
};
const followersJson = {
  columns: [
    ['x', ...days(3)],
    ['y0', 40, 61, 70],
    ['y1', 8, 6, 15],
  ],
  types: { y0: 'line', y1: 'line', x: 'x' },
  names: { y0: 'Joined', y1: 'Left' },
  colors: { y0: 'green#4BD964', y1: 'red#FE3C30' },
};
const viewsBySourceJson = {
  columns: [
    ['x', ...days(2)],
    ['y0', 9000, 9400],
    ['y1', 1200, null],
    ['y2', 300, 250],
    ['y3', 150, 210],
    ['y4', 20, 35],
    ['y5', 5, 0],
  ],
  types: { y0: 'bar', y1: 'bar', y2: 'bar', y3: 'bar', y4: 'bar', y5: 'bar', x: 'x' },
  names: { y0: 'Followers', y1: 'Channels', y2: 'Groups', y3: 'Private chats', y4: 'Search', y5: 'Other' },
  stacked: true,
};

describe('metricOfGraphField names metrics after BroadcastStats fields', () => {
  it.each([
    ['growthGraph', 'growth'],
    ['followersGraph', 'followers'],
    ['viewsBySourceGraph', 'views_by_source'],
    ['newFollowersBySourceGraph', 'new_followers_by_source'],
    ['topHoursGraph', 'top_hours'],
    ['reactionsByEmotionGraph', 'reactions_by_emotion'],
    ['ivInteractionsGraph', 'iv_interactions'],
    ['storyReactionsByEmotionGraph', 'story_reactions_by_emotion'],
  ])('%s → %s', (field, metric) => {
    expect(metricOfGraphField(field)).toBe(metric);
  });
});

describe('graphsOf finds every graph of a BroadcastStats', () => {
  it('lists loaded, async and failed graphs with their metrics, and nothing else', () => {
    const abs = new Api.StatsAbsValueAndPrev({ current: 1, previous: 1 });
    const loaded = graph(growthJson);
    const pending = new Api.StatsGraphAsync({ token: 'tok-followers' });
    const failed = new Api.StatsGraphError({ error: 'NOT_ENOUGH_DATA' });
    const stats = new Api.stats.BroadcastStats({
      period: new Api.StatsDateRangeDays({ minDate: T0 / 1000, maxDate: T0 / 1000 + 7 * 86_400 }),
      followers: abs,
      viewsPerPost: abs,
      sharesPerPost: abs,
      reactionsPerPost: abs,
      viewsPerStory: abs,
      sharesPerStory: abs,
      reactionsPerStory: abs,
      enabledNotifications: new Api.StatsPercentValue({ part: 10, total: 100 }),
      growthGraph: loaded,
      followersGraph: pending,
      muteGraph: failed,
      topHoursGraph: failed,
      interactionsGraph: failed,
      ivInteractionsGraph: failed,
      viewsBySourceGraph: graph(viewsBySourceJson),
      newFollowersBySourceGraph: failed,
      languagesGraph: failed,
      reactionsByEmotionGraph: failed,
      storyInteractionsGraph: failed,
      storyReactionsByEmotionGraph: failed,
      recentPostsInteractions: [
        new Api.PostInteractionCountersMessage({ msgId: 1, views: 1, forwards: 0, reactions: 0 }),
      ],
    });
    const found = graphsOf(stats);
    expect(found.map((g) => g.metric)).toEqual([
      'growth',
      'followers',
      'mute',
      'top_hours',
      'interactions',
      'iv_interactions',
      'views_by_source',
      'new_followers_by_source',
      'languages',
      'reactions_by_emotion',
      'story_interactions',
      'story_reactions_by_emotion',
    ]);
    expect(found[0].graph).toBe(loaded);
    expect(found[1].graph).toBe(pending);
    expect(found[2].graph).toBe(failed);
  });
});

describe('pointsOfGraph turns a loaded graph into channel_stats points', () => {
  it('reads a growth graph: one named series, one point per day', () => {
    const events = pointsOfGraph('growth', graph(growthJson), obs);
    expectValid(events);
    expect(events.map((e) => e.data)).toEqual([
      { metric: 'growth', series: 'total_followers', t: T0, value: 15_010 },
      { metric: 'growth', series: 'total_followers', t: T0 + DAY_MS, value: 15_042 },
      { metric: 'growth', series: 'total_followers', t: T0 + 2 * DAY_MS, value: 15_097 },
    ]);
    expect(events[0]).toMatchObject({
      v: 1,
      kind: 'channel_stats',
      id: eventId('cs', CHANNEL, 'growth', 'total_followers', T0),
      channel_id: CHANNEL,
      event_time: OBSERVED,
      observed_at: OBSERVED,
      source: 'mtproto',
    });
  });

  it('reads a followers graph with two named series', () => {
    const events = pointsOfGraph('followers', graph(followersJson), obs);
    expectValid(events);
    expect(events).toHaveLength(6);
    expect(at(events, 'joined', T0 + DAY_MS)).toBe(61);
    expect(at(events, 'left', T0 + 2 * DAY_MS)).toBe(15);
  });

  it('reads views by source with several series and skips null values', () => {
    const events = pointsOfGraph('views_by_source', graph(viewsBySourceJson), obs);
    expectValid(events);
    expect([...new Set(events.map((e) => e.data.series))]).toEqual([
      'followers',
      'channels',
      'groups',
      'private_chats',
      'search',
      'other',
    ]);
    expect(events).toHaveLength(11);
    expect(at(events, 'channels', T0)).toBe(1200);
    expect(at(events, 'channels', T0 + DAY_MS)).toBeUndefined();
    // A zero is a value, a null is a gap.
    expect(at(events, 'other', T0 + DAY_MS)).toBe(0);
  });

  it('skips values that are not finite numbers, as gaps', () => {
    // 1e999 parses to Infinity: the contract's value must be finite.
    const events = pointsOfGraph(
      'interactions',
      graph(
        `{"columns":[["x",${T0},${T0 + DAY_MS},${T0 + 2 * DAY_MS},${T0 + 3 * DAY_MS}],["y0",1e999,"12",true,7]],"types":{"x":"x"},"names":{"y0":"Views"}}`,
      ),
      obs,
    );
    expectValid(events);
    expect(events.map((e) => [e.data.t, e.data.value])).toEqual([[T0 + 3 * DAY_MS, 7]]);
  });

  it('gives the same ids when the same graph is read again later', () => {
    const first = pointsOfGraph('growth', graph(growthJson), obs);
    const again = pointsOfGraph('growth', graph(growthJson), { ...obs, observedAt: OBSERVED + DAY_MS });
    expect(again.map((e) => e.id)).toEqual(first.map((e) => e.id));
  });

  it('scopes per-post graphs with a prefix', () => {
    const postViews = graph({
      columns: [
        ['x', T0, T0 + 300_000],
        ['y0', 120, 480],
        ['y1', 3, 9],
      ],
      types: { x: 'x', y0: 'line', y1: 'line' },
      names: { y0: 'Views', y1: 'Shares' },
    });
    const events = pointsOfGraph('post_views', postViews, obs, '42/');
    expectValid(events);
    expect([...new Set(events.map((e) => e.data.series))]).toEqual(['42/views', '42/shares']);
    expect(events[0].id).toBe(eventId('cs', CHANNEL, 'post_views', '42/views', T0));
  });

  it('names unnamed series by their key, and finds the x column by its type', () => {
    const events = pointsOfGraph(
      'mute',
      graph({
        columns: [
          ['y0', 4],
          ['t', T0],
        ],
        types: { t: 'x', y0: 'line' },
      }),
      obs,
    );
    expectValid(events);
    expect(events.map((e) => e.data)).toEqual([{ metric: 'mute', series: 'y0', t: T0, value: 4 }]);
  });

  it('normalises names to snake_case, falls back to the key when nothing is left, caps at 64 characters and keeps colliding names apart', () => {
    const events = pointsOfGraph(
      'reactions_by_emotion',
      graph({
        columns: [
          ['x', T0],
          ['y0', 1],
          ['y1', 2],
          ['y2', 3],
          ['y3', 4],
          ['y4', 5],
        ],
        types: { x: 'x' },
        names: {
          y0: '  Views — (Last 7 days)  ',
          y1: '👍',
          y2: 'Подписчики',
          y3: 'A'.repeat(100),
          y4: 'views, last 7 days',
        },
      }),
      obs,
    );
    expectValid(events);
    expect(events.map((e) => e.data.series)).toEqual([
      'views_last_7_days',
      'y1',
      'подписчики',
      'a'.repeat(64),
      'views_last_7_days_y4',
    ]);
  });

  it('makes nothing of a graph without data points', () => {
    expect(pointsOfGraph('growth', graph({ columns: [['x'], ['y0']], types: { x: 'x', y0: 'line' } }), obs)).toEqual(
      [],
    );
  });

  describe('throws GraphFormatError with a reason for a graph it cannot read', () => {
    const cases: Array<[string, string, RegExp]> = [
      ['bad JSON', '{"columns": [["x", 1', /invalid JSON/],
      ['no columns array', JSON.stringify({ types: { x: 'x' } }), /no columns array/],
      ['columns that are not an array', JSON.stringify({ columns: { x: [1] } }), /no columns array/],
      ['a JSON value that is not an object', '[1,2,3]', /no columns array/],
      [
        'a column without a key',
        JSON.stringify({
          columns: [
            ['x', T0],
            [5, 1],
          ],
        }),
        /column #1 is not \[key, \.\.\.values\]/,
      ],
      ['no x column', JSON.stringify({ columns: [['y0', 1, 2]], types: { y0: 'line' } }), /no x column/],
      [
        'a column shorter than x',
        JSON.stringify({
          columns: [
            ['x', T0, T0 + DAY_MS],
            ['y0', 1],
          ],
          types: { x: 'x' },
        }),
        /column "y0" has 1 values for 2 x values/,
      ],
      [
        'a column longer than x',
        JSON.stringify({
          columns: [
            ['x', T0],
            ['y0', 1, 2],
          ],
          types: { x: 'x' },
        }),
        /column "y0" has 2 values for 1 x values/,
      ],
      [
        'a non-numeric x',
        JSON.stringify({
          columns: [
            ['x', T0, '2026-01-02'],
            ['y0', 1, 2],
          ],
          types: { x: 'x' },
        }),
        /x value #1 is not a finite number/,
      ],
      [
        'a null x',
        JSON.stringify({
          columns: [
            ['x', null],
            ['y0', 1],
          ],
          types: { x: 'x' },
        }),
        /x value #0 is not a finite number/,
      ],
      ['a non-finite x', '{"columns":[["x",1e999],["y0",1]],"types":{"x":"x"}}', /x value #0 is not a finite number/],
      [
        'a negative x',
        JSON.stringify({
          columns: [
            ['x', -1],
            ['y0', 1],
          ],
          types: { x: 'x' },
        }),
        /x value #0 \(-1\) is not a time in ms/,
      ],
      // Seconds where milliseconds belong: 1970 as the contract sees it.
      ['an x in seconds', '{"columns":[["x",1767225600],["y0",1]],"types":{"x":"x"}}', /is not a time in ms from 2013/],
    ];
    it.each(cases)('%s', (_name, json, reason) => {
      let error: unknown;
      try {
        pointsOfGraph('growth', graph(json), obs);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(GraphFormatError);
      const e = error as GraphFormatError;
      expect(e.metric).toBe('growth');
      expect(e.reason).toMatch(reason);
      expect(e.message).toContain('growth');
      expect(e.message).toContain(e.reason);
    });
  });
});
