/**
 * "Channel analytics": one channel's audience, reach, engagement, posts,
 * anomalies and sources over the dashboard's range, from the warehouse's
 * serving tables (ClickHouse data source). The SQL is in channel-sql.ts.
 */
import {
  AxisPlacement,
  HeatmapCellLayout,
  StackingConfigBuilder,
  StackingMode,
  VisibilityMode,
} from '@grafana/grafana-foundation-sdk/common';
import {
  CustomVariableBuilder,
  DashboardBuilder,
  DashboardCursorSync,
} from '@grafana/grafana-foundation-sdk/dashboard';
import {
  CellValuesBuilder,
  HeatmapColorMode,
  HeatmapColorOptionsBuilder,
  PanelBuilder as HeatmapPanel,
  RowsHeatmapOptionsBuilder,
  YAxisConfigBuilder,
} from '@grafana/grafana-foundation-sdk/heatmap';
import { Board, type GeneratedDashboard } from './board.ts';
import * as q from './channel-sql.ts';
import { CLICKHOUSE } from './clickhouse.ts';
import { shownAs, stat, table, timeSeries } from './panels.ts';

const HALF = { span: 12, height: 8 };
const QUARTER = { span: 6, height: 8 };

/** Time zones offered for the best-time heatmap (the API takes any IANA name as `tz`). */
const TIME_ZONES = [
  'UTC',
  'Europe/London',
  'Europe/Berlin',
  'Europe/Moscow',
  'Asia/Dubai',
  'Asia/Kolkata',
  'America/New_York',
];

export function channelAnalytics(): GeneratedDashboard {
  const board = new Board(
    new DashboardBuilder('Channel analytics')
      .uid('tgpulse-channel-analytics')
      .description("One channel's audience, reach, engagement, posts, anomalies and sources (tgpulse warehouse)")
      .tags(['tgpulse'])
      .time({ from: 'now-7d', to: 'now' })
      .refresh('5m')
      .tooltip(DashboardCursorSync.Crosshair),
  );
  board
    .variable('channel', 'Channel', q.CHANNELS)
    .plainVariable(
      new CustomVariableBuilder('tz')
        .label('Time zone (best time)')
        .values(TIME_ZONES.join(','))
        .current({ text: 'UTC', value: 'UTC' }),
    )
    .annotation('Anomalies', 'red', q.ANOMALY_ANNOTATIONS);

  const overview = 'Period overview';
  board.row('Overview').panel(
    stat(
      overview,
      CLICKHOUSE,
      { span: 24, height: 4 },
      {
        description:
          'Subscribers at the last snapshot and their net change; views gained by all posts; posts published in the range, their average views (reach), ERR (reach / subscribers) and engagement rate ((forwards + reactions + replies) / views).',
      },
    )
      .withTarget(board.query(overview, 'A', 'table', q.OVERVIEW))
      .overrideByName('subscribers', shownAs('Subscribers'))
      .overrideByName('net_change', shownAs('Net change'))
      .overrideByName('views', shownAs('Views gained'))
      .overrideByName('posts', shownAs('Posts'))
      .overrideByName('reach_per_post', shownAs('Reach per post'))
      .overrideByName('err', shownAs('ERR', 'percentunit'))
      .overrideByName('engagement_rate', shownAs('Engagement rate', 'percentunit')),
  );

  const subscribers = 'Subscribers';
  const change = 'Subscribers gained and lost';
  board
    .row('Audience')
    .panel(
      timeSeries(subscribers, CLICKHOUSE, HALF, { description: 'At the last snapshot of each interval' })
        .interval('1h')
        .withTarget(board.query(subscribers, 'A', 'timeseries', q.SUBSCRIBERS)),
    )
    .panel(
      timeSeries(change, CLICKHOUSE, HALF, { bars: true, description: 'Joins and leaves between snapshots' })
        .interval('1h')
        .withTarget(board.query(change, 'A', 'timeseries', q.SUBSCRIBER_CHANGE))
        .overrideByName('net_change', [
          { id: 'custom.drawStyle', value: 'line' },
          { id: 'custom.fillOpacity', value: 0 },
          { id: 'displayName', value: 'net change' },
        ]),
    );

  board.row('Views and reach');
  for (const [title, views, reach] of [
    ['Views and reach per hour', q.VIEWS_HOURLY, q.REACH_HOURLY],
    ['Views and reach per day', q.VIEWS_DAILY, q.REACH_DAILY],
  ] as const) {
    board.panel(
      timeSeries(title, CLICKHOUSE, HALF, {
        bars: true,
        description: 'Bars: views gained by all posts. Line: average views so far of the posts published in it.',
      })
        .withTarget(board.query(title, 'A', 'timeseries', views))
        .withTarget(board.query(title, 'B', 'timeseries', reach))
        .overrideByName('views', shownAs('views gained'))
        .overrideByName('reach_per_post', [
          ...shownAs('reach per post'),
          { id: 'custom.drawStyle', value: 'line' },
          { id: 'custom.fillOpacity', value: 0 },
          { id: 'custom.showPoints', value: VisibilityMode.Always },
          { id: 'custom.axisPlacement', value: AxisPlacement.Right },
        ]),
    );
  }

  const engagement = 'ERR and engagement rate per day';
  const bestTime = 'Best time to post';
  board
    .row('Engagement')
    .panel(
      timeSeries(engagement, CLICKHOUSE, HALF, {
        unit: 'percentunit',
        description:
          'Of the posts published each day: ERR = average views / subscribers; engagement rate = (forwards + reactions + replies) / views.',
      })
        .withTarget(board.query(engagement, 'A', 'timeseries', q.ENGAGEMENT_DAILY))
        .overrideByName('err', shownAs('ERR'))
        .overrideByName('engagement_rate', shownAs('engagement rate')),
    )
    .panel(
      new HeatmapPanel()
        .title(bestTime)
        .description(
          'Average views of the posts published in each hour of the week (time zone variable), posts at least 48 hours old.',
        )
        .datasource(CLICKHOUSE)
        .span(HALF.span)
        .height(HALF.height)
        .withTarget(board.query(bestTime, 'A', 'table', q.BEST_TIME))
        .calculate(false)
        .rowsFrame(new RowsHeatmapOptionsBuilder().value('avg views').layout(HeatmapCellLayout.Unknown))
        .yAxis(new YAxisConfigBuilder().axisLabel('weekday').reverse(true))
        .color(new HeatmapColorOptionsBuilder().mode(HeatmapColorMode.Scheme).scheme('Oranges').steps(64))
        .cellValues(new CellValuesBuilder().unit('short').decimals(0))
        .cellGap(2)
        .showValue(VisibilityMode.Never),
    );

  const top = 'Top posts';
  board.row('Posts').panel(
    table(top, CLICKHOUSE, { span: 24, height: 10 }, 'Posts published in the range, by views')
      .withTarget(board.query(top, 'A', 'table', q.TOP_POSTS))
      .overrideByName('date', shownAs('published', 'dateTimeAsIso'))
      .overrideByName('engagement_rate', shownAs('engagement rate', 'percentunit')),
  );

  const anomalies = 'Anomalies';
  const trends = 'Trends (EWMA)';
  board
    .row('Anomalies and trends')
    .panel(
      table(
        anomalies,
        CLICKHOUSE,
        { span: 14, height: 9 },
        'Latest state of each anomaly whose window starts in the range',
      )
        .withTarget(board.query(anomalies, 'A', 'table', q.ANOMALIES))
        .overrideByName('window_start', shownAs('window start', 'dateTimeAsIso')),
    )
    .panel(
      table(
        trends,
        CLICKHOUSE,
        { span: 10, height: 9 },
        'Latest EWMA mean, sd and z of each channel metric',
      ).withTarget(board.query(trends, 'A', 'table', q.TRENDS)),
    );

  const sources = [
    ['Forwarded from', q.FORWARDED_FROM, 'Channels whose posts this channel forwarded'],
    ['Forwarded by tracked channels', q.FORWARDED_BY, "Tracked channels that forwarded this channel's posts"],
    ['Mentions', q.MENTIONS, 'Usernames mentioned in posts'],
    ['Link domains', q.LINK_DOMAINS, 'Sites linked from posts'],
  ] as const;
  board.row('Sources');
  for (const [title, sql, description] of sources)
    board.panel(table(title, CLICKHOUSE, QUARTER, description).withTarget(board.query(title, 'A', 'table', sql)));
  const official = 'Official statistics by source';
  const provenance = 'Provenance and freshness';
  board
    .panel(
      timeSeries(official, CLICKHOUSE, HALF, {
        bars: true,
        description: "Telegram's own statistics by source, where the collecting account may read them",
      })
        .stacking(new StackingConfigBuilder().mode(StackingMode.Normal))
        .withTarget(board.query(official, 'A', 'timeseries', q.OFFICIAL_BY_SOURCE)),
    )
    .panel(
      table(
        provenance,
        CLICKHOUSE,
        HALF,
        'Which sources delivered what, and when they last observed it (now, not the range)',
      )
        .withTarget(board.query(provenance, 'A', 'table', q.PROVENANCE))
        .overrideByName('seconds_since_last_observed', shownAs('since last observed', 's')),
    );
  return board.build();
}
