/**
 * "Pipeline health": is data flowing, how far behind is it, what is being
 * refused, and how the state, sinks, collectors, API and alerts behave, from
 * the Prometheus metrics every tgpulse role exports. Histograms are read
 * through their `_bucket` series; counters through rate/increase.
 */
import {
  DashboardBuilder,
  DashboardCursorSync,
  DashboardLinkBuilder,
  DashboardLinkType,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { Board, type GeneratedDashboard } from './board.ts';
import { stat, type PanelSize, timeSeries } from './panels.ts';
import { owned, PROMETHEUS, prom, quantile, scopeVariables, sel } from './prometheus.ts';

const THIRD: PanelSize = { span: 8, height: 8 };
const HALF: PanelSize = { span: 12, height: 8 };
const TILE: PanelSize = { span: 4, height: 4 };

/** `sum by (labels) (rate(metric{…}[$__rate_interval]))`. */
const rate = (metric: string, by: string, matchers = ''): string =>
  `sum by (${by}) (rate(${sel(metric, matchers)}[$__rate_interval]))`;
/** `sum by (labels) (increase(metric{…}[$__rate_interval]))`: counts per interval, for bars. */
const increase = (metric: string, by: string): string => `sum by (${by}) (increase(${sel(metric)}[$__rate_interval]))`;

export function pipelineHealth(): GeneratedDashboard {
  const board = new Board(
    new DashboardBuilder('Pipeline health')
      .uid('tgpulse-pipeline-health')
      .description('Throughput, lag, freshness, dead letters, state, sinks, collectors, API and alerts of tgpulse')
      .tags(['tgpulse'])
      .time({ from: 'now-3h', to: 'now' })
      .refresh('30s')
      .tooltip(DashboardCursorSync.Crosshair)
      .link(
        new DashboardLinkBuilder('Channel analytics')
          .type(DashboardLinkType.Dashboards)
          .tags(['tgpulse'])
          .asDropdown(false)
          .keepTime(true),
      ),
  );
  for (const variable of scopeVariables()) board.plainVariable(variable);

  board
    .row('At a glance')
    .panel(
      stat('Events/s', PROMETHEUS, TILE, { sparkline: true }).withTarget(
        prom('A', `sum(rate(${sel('tgpulse_events_total')}[$__rate_interval]))`, 'events/s'),
      ),
    )
    .panel(
      stat('Consumer lag (max)', PROMETHEUS, TILE, { sparkline: true }).withTarget(
        prom('A', `max(${sel('tgpulse_consumer_lag_messages')})`, 'messages'),
      ),
    )
    .panel(
      stat('Watermark behind now (max)', PROMETHEUS, TILE, { unit: 's', sparkline: true }).withTarget(
        prom('A', `time() - min(${owned('tgpulse_watermark_ms')}) / 1000`, 'seconds'),
      ),
    )
    .panel(
      stat('Dead letters in range', PROMETHEUS, TILE).withTarget(
        prom('A', `sum(increase(${sel('tgpulse_dead_letters_total')}[$__range]))`, 'dead letters'),
      ),
    )
    .panel(
      stat('Checkpoint age (max)', PROMETHEUS, TILE, { unit: 's', sparkline: true }).withTarget(
        prom('A', `max(${owned('tgpulse_checkpoint_age_seconds')})`, 'seconds'),
      ),
    )
    .panel(
      stat('API p95', PROMETHEUS, TILE, { unit: 's', sparkline: true }).withTarget(
        prom('A', quantile(0.95, 'tgpulse_api_request_seconds', ''), 'p95'),
      ),
    );

  board
    .row('Throughput')
    .panel(
      timeSeries('Events/s per stage', PROMETHEUS, THIRD, { unit: 'ops' }).withTarget(
        prom('A', rate('tgpulse_events_total', 'stage'), '{{stage}}'),
      ),
    )
    .panel(
      timeSeries('Events/s not ok, by stage and outcome', PROMETHEUS, THIRD, {
        unit: 'ops',
        description: 'Dead-lettered, late, duplicate or invalid events',
      }).withTarget(
        prom('A', rate('tgpulse_events_total', 'stage, outcome', 'outcome!="ok"'), '{{stage}} {{outcome}}'),
      ),
    )
    .panel(
      timeSeries('Published batches/s by stream', PROMETHEUS, THIRD, { unit: 'ops' })
        .withTarget(prom('A', rate('tgpulse_published_messages_total', 'stream, outcome'), '{{stream}} {{outcome}}'))
        .withTarget(prom('B', rate('tgpulse_publish_retries_total', 'stream'), '{{stream}} retries')),
    );

  board
    .row('Lag and freshness')
    .panel(
      timeSeries('Consumer lag', PROMETHEUS, HALF, {
        description: 'Messages in the stream not yet delivered to or acknowledged by each durable consumer',
      }).withTarget(prom('A', `max by (consumer) (${sel('tgpulse_consumer_lag_messages')})`, '{{consumer}}')),
    )
    .panel(
      timeSeries('Data freshness: JetStream → queryable', PROMETHEUS, HALF, {
        unit: 's',
        description: 'From a message reaching JetStream until its rows are queryable in the warehouse, per stream',
      })
        .withTarget(prom('A', quantile(0.5, 'tgpulse_data_freshness_seconds', 'stream'), 'p50 {{stream}}'))
        .withTarget(prom('B', quantile(0.99, 'tgpulse_data_freshness_seconds', 'stream'), 'p99 {{stream}}')),
    )
    .panel(
      timeSeries('Watermark behind now, per partition', PROMETHEUS, HALF, {
        unit: 's',
        description: 'Event-time freshness: now minus the partition watermark (large while a backfill replays history)',
      }).withTarget(
        prom('A', `time() - max by (partition) ${owned('tgpulse_watermark_ms')} / 1000`, 'partition {{partition}}'),
      ),
    )
    .panel(
      timeSeries('Collector: read → JetStream ack', PROMETHEUS, HALF, { unit: 's' })
        // The collectors' own `job` label arrives as `exported_job`: Prometheus keeps `job` for the scrape job.
        .withTarget(
          prom('A', quantile(0.5, 'tgpulse_collector_publish_lag_seconds', 'exported_job'), 'p50 {{exported_job}}'),
        )
        .withTarget(
          prom('B', quantile(0.95, 'tgpulse_collector_publish_lag_seconds', 'exported_job'), 'p95 {{exported_job}}'),
        ),
    );

  board
    .row('Dead letters and errors')
    .panel(
      timeSeries('Dead letters by stage and reason', PROMETHEUS, HALF, {
        bars: true,
        description: 'Events sent to TG_DLQ per interval (the dead_letters table holds each one)',
      }).withTarget(prom('A', increase('tgpulse_dead_letters_total', 'stage, reason'), '{{stage}} {{reason}}')),
    )
    .panel(
      timeSeries('Errors by stage', PROMETHEUS, HALF, { bars: true }).withTarget(
        prom('A', increase('tgpulse_errors_total', 'stage, error'), '{{stage}} {{error}}'),
      ),
    );

  board
    .row('Processor state')
    .panel(
      timeSeries('Checkpoint age', PROMETHEUS, THIRD, { unit: 's' }).withTarget(
        prom('A', `max by (partition) ${owned('tgpulse_checkpoint_age_seconds')}`, 'partition {{partition}}'),
      ),
    )
    .panel(
      timeSeries('Checkpoint size', PROMETHEUS, THIRD, { unit: 'bytes' }).withTarget(
        prom('A', `max by (partition) (${sel('tgpulse_checkpoint_bytes')})`, 'partition {{partition}}'),
      ),
    )
    .panel(
      timeSeries('Checkpoint writes and lease changes', PROMETHEUS, THIRD, { unit: 'ops' })
        .withTarget(prom('A', rate('tgpulse_checkpoint_writes_total', 'kind'), 'checkpoint {{kind}}'))
        .withTarget(prom('B', rate('tgpulse_partition_ownership_changes_total', 'change'), 'lease {{change}}'))
        .withTarget(prom('C', `sum(${sel('tgpulse_partition_owned')})`, 'partitions owned')),
    );

  board
    .row('Sinks')
    .panel(
      timeSeries('Sink flush latency by table', PROMETHEUS, HALF, {
        unit: 's',
        description: 'ClickHouse insert time per flush',
      })
        .withTarget(prom('A', quantile(0.5, 'tgpulse_flush_seconds', 'table'), 'p50 {{table}}'))
        .withTarget(prom('B', quantile(0.95, 'tgpulse_flush_seconds', 'table'), 'p95 {{table}}')),
    )
    .panel(
      timeSeries('Rows written/s and batch size', PROMETHEUS, HALF, { unit: 'ops' })
        .withTarget(prom('A', rate('tgpulse_events_total', 'kind', 'stage="sink", outcome="ok"'), '{{kind}} rows/s'))
        .withTarget(prom('B', quantile(0.95, 'tgpulse_batch_size', 'stage'), 'p95 batch {{stage}}'))
        .overrideByRegexp('^p95 batch', [
          { id: 'unit', value: 'short' },
          { id: 'custom.axisPlacement', value: 'right' },
        ]),
    );

  board
    .row('Collectors (MTProto)')
    .panel(
      timeSeries('Requests/s by method and outcome', PROMETHEUS, THIRD, { unit: 'reqps' }).withTarget(
        prom('A', rate('tgpulse_mtproto_requests_total', 'method, outcome'), '{{method}} {{outcome}}'),
      ),
    )
    .panel(
      timeSeries('FLOOD_WAIT parking', PROMETHEUS, THIRD, {
        description:
          'Seconds accounts were parked per second (1 = one account parked all the time), and FLOOD_WAIT answers per interval',
      })
        .withTarget(prom('A', rate('tgpulse_mtproto_flood_wait_seconds_total', 'method'), 'parked {{method}}'))
        .withTarget(prom('B', increase('tgpulse_mtproto_flood_waits_total', 'method'), 'FLOOD_WAITs {{method}}')),
    )
    .panel(
      timeSeries('Request latency p95 and leased channels', PROMETHEUS, THIRD, { unit: 's' })
        .withTarget(prom('A', quantile(0.95, 'tgpulse_mtproto_request_seconds', 'method'), 'p95 {{method}}'))
        .withTarget(prom('B', `sum by (account) (${sel('tgpulse_collector_leased_channels')})`, 'channels {{account}}'))
        .overrideByRegexp('^channels', [
          { id: 'unit', value: 'short' },
          { id: 'custom.axisPlacement', value: 'right' },
        ]),
    )
    .panel(
      timeSeries('Freshness and request budget per account', PROMETHEUS, THIRD, {
        unit: 'percentunit',
        description:
          "Share of each account's channels whose every polled post is within its freshness target (TGPULSE_FRESHNESS), and share of its request budget the last hour used",
      })
        .withTarget(
          prom(
            'A',
            `sum by (account) (${sel('tgpulse_collector_channels_fresh')}) / sum by (account) (${sel('tgpulse_collector_leased_channels')})`,
            'fresh {{account}}',
          ),
        )
        .withTarget(
          prom('B', `max by (account) (${sel('tgpulse_collector_budget_used_ratio')})`, 'budget {{account}}'),
        ),
    );

  board
    .row('API and alerts')
    .panel(
      timeSeries('API p95 by route', PROMETHEUS, THIRD, { unit: 's' }).withTarget(
        prom('A', quantile(0.95, 'tgpulse_api_request_seconds', 'route'), '{{route}}'),
      ),
    )
    .panel(
      timeSeries('API requests/s by status', PROMETHEUS, THIRD, { unit: 'reqps' })
        .withTarget(prom('A', rate('tgpulse_api_requests_total', 'status'), '{{status}}'))
        .withTarget(prom('B', `sum(rate(${sel('tgpulse_api_cache_hits_total')}[$__rate_interval]))`, 'cache hits')),
    )
    .panel(
      timeSeries('Alert delay and decisions', PROMETHEUS, THIRD, {
        unit: 's',
        description: 'From the anomaly event to the Telegram alert sent; decisions per interval on the right axis',
      })
        .withTarget(prom('A', quantile(0.5, 'tgpulse_alert_delay_seconds', ''), 'delay p50'))
        .withTarget(prom('B', quantile(0.95, 'tgpulse_alert_delay_seconds', ''), 'delay p95'))
        .withTarget(prom('C', increase('tgpulse_alerts_total', 'outcome'), '{{outcome}}'))
        .overrideByQuery('C', [
          { id: 'unit', value: 'short' },
          { id: 'custom.drawStyle', value: 'bars' },
          { id: 'custom.axisPlacement', value: 'right' },
        ]),
    );

  board
    .row('Processes')
    .panel(
      timeSeries('CPU', PROMETHEUS, THIRD, { unit: 'percentunit' }).withTarget(
        prom('A', rate('tgpulse_process_cpu_seconds_total', 'instance'), '{{instance}}'),
      ),
    )
    .panel(
      timeSeries('Resident memory', PROMETHEUS, THIRD, { unit: 'bytes' }).withTarget(
        prom('A', `sum by (instance) (${sel('tgpulse_process_resident_memory_bytes')})`, '{{instance}}'),
      ),
    )
    .panel(
      timeSeries('Event loop lag p99', PROMETHEUS, THIRD, { unit: 's' }).withTarget(
        prom('A', `max by (instance) (${sel('tgpulse_nodejs_eventloop_lag_p99_seconds')})`, '{{instance}}'),
      ),
    );
  return board.build();
}
