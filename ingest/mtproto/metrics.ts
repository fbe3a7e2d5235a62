/**
 * Metrics of the MTProto collectors, registered in the process's one
 * registry (see observability/metrics.ts) so `/metrics` shows them beside the
 * pipeline's.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export class CollectorMetrics {
  /** Calls by method and outcome (ok, flood, migrate, transient, channel_gone, no_rights, auth, refused). */
  readonly requests: Counter<'method' | 'outcome'>;
  readonly requestSeconds: Histogram<'method'>;
  readonly floodWaits: Counter<'method'>;
  readonly floodWaitSeconds: Counter<'method'>;
  /** Calls that waited for the account's own rate limit. */
  readonly rateLimited: Counter<'method'>;
  /** Leases taken, renewed, lost and released. */
  readonly leaseChanges: Counter<'change'>;
  readonly leasedChannels: Gauge<'account'>;
  /** Seconds from reading a fact from Telegram to JetStream acknowledging it. */
  readonly publishLag: Histogram<'job'>;
  /** Events published, by job and kind. */
  readonly events: Counter<'job' | 'kind'>;
  /** Problems of channels (gone, no rights, malformed graph), by kind. */
  readonly channelProblems: Counter<'problem'>;
  /** Gaps in a channel's pts sequence recovered through getChannelDifference. */
  readonly gapsRecovered: Counter<'reason'>;
  readonly jobFailures: Counter<'job' | 'kind'>;
  /** Accounts that reconnected through the next proxy route after repeated connection failures. */
  readonly reconnects: Counter<'outcome'>;
  /** Join decisions by outcome (joined, account_full, refused, not_public). */
  readonly joins: Counter<'outcome'>;
  /** Share of each account's request budget used over the last hour. */
  readonly budgetUsed: Gauge<'account'>;
  /** Channels of each account whose every polled post is within its freshness target. */
  readonly channelsFresh: Gauge<'account'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.requests = new Counter({
      name: 'tgpulse_mtproto_requests_total',
      help: 'MTProto calls by method and outcome',
      labelNames: ['method', 'outcome'],
      registers,
    });
    this.requestSeconds = new Histogram({
      name: 'tgpulse_mtproto_request_seconds',
      help: 'MTProto call latency',
      labelNames: ['method'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.floodWaits = new Counter({
      name: 'tgpulse_mtproto_flood_waits_total',
      help: 'FLOOD_WAIT answers by method',
      labelNames: ['method'],
      registers,
    });
    this.floodWaitSeconds = new Counter({
      name: 'tgpulse_mtproto_flood_wait_seconds_total',
      help: 'Seconds accounts were parked by FLOOD_WAIT',
      labelNames: ['method'],
      registers,
    });
    this.rateLimited = new Counter({
      name: 'tgpulse_mtproto_rate_limited_total',
      help: 'Calls held back by the per-account rate limiter',
      labelNames: ['method'],
      registers,
    });
    this.leaseChanges = new Counter({
      name: 'tgpulse_collector_lease_changes_total',
      help: 'Channel leases acquired, lost, released and moved',
      labelNames: ['change'],
      registers,
    });
    this.leasedChannels = new Gauge({
      name: 'tgpulse_collector_leased_channels',
      help: 'Channels leased per account',
      labelNames: ['account'],
      registers,
    });
    this.publishLag = new Histogram({
      name: 'tgpulse_collector_publish_lag_seconds',
      help: 'From reading Telegram to the JetStream ack',
      labelNames: ['job'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 30],
      registers,
    });
    this.events = new Counter({
      name: 'tgpulse_collector_events_total',
      help: 'Events published by the collectors',
      labelNames: ['job', 'kind'],
      registers,
    });
    this.channelProblems = new Counter({
      name: 'tgpulse_collector_channel_problems_total',
      help: 'Channels that became unreadable, lost rights, or sent malformed data',
      labelNames: ['problem'],
      registers,
    });
    this.gapsRecovered = new Counter({
      name: 'tgpulse_collector_gaps_recovered_total',
      help: 'getChannelDifference recoveries by reason',
      labelNames: ['reason'],
      registers,
    });
    this.reconnects = new Counter({
      name: 'tgpulse_mtproto_reconnects_total',
      help: 'Reconnects through the next route after repeated connection failures',
      labelNames: ['outcome'],
      registers,
    });
    this.joins = new Counter({
      name: 'tgpulse_collector_joins_total',
      help: 'Decisions to join a channel, by outcome (joined, account_full, refused, not_public)',
      labelNames: ['outcome'],
      registers,
    });
    this.budgetUsed = new Gauge({
      name: 'tgpulse_collector_budget_used_ratio',
      help: "Share of the account's request budget used over the last hour",
      labelNames: ['account'],
      registers,
    });
    this.channelsFresh = new Gauge({
      name: 'tgpulse_collector_channels_fresh',
      help: "Channels of the account whose every polled post's counters are within the freshness target",
      labelNames: ['account'],
      registers,
    });
    this.jobFailures = new Counter({
      name: 'tgpulse_collector_job_failures_total',
      help: 'Collector jobs that failed and will run again',
      labelNames: ['job', 'kind'],
      registers,
    });
  }
}
