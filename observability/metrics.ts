/**
 * The metrics of every stage, in one prom-client registry per process so one
 * `/metrics` endpoint shows the whole pipeline under `tgpulse up`.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class PipelineMetrics {
  readonly registry = new Registry();

  /** Events through a stage, by stage and outcome (ok, dead_letter, late, duplicate). */
  readonly events = new Counter({
    name: 'tgpulse_events_total',
    help: 'Events handled per stage and outcome',
    labelNames: ['stage', 'kind', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly published = new Counter({
    name: 'tgpulse_published_messages_total',
    help: 'NATS messages published (batches), by stream and outcome',
    labelNames: ['stream', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly publishRetries = new Counter({
    name: 'tgpulse_publish_retries_total',
    help: 'Publish attempts retried after an error',
    labelNames: ['stream'] as const,
    registers: [this.registry],
  });
  readonly deadLetters = new Counter({
    name: 'tgpulse_dead_letters_total',
    help: 'Events sent to TG_DLQ, by stage and reason',
    labelNames: ['stage', 'reason'] as const,
    registers: [this.registry],
  });
  readonly batchSize = new Histogram({
    name: 'tgpulse_batch_size',
    help: 'Messages or rows per batch, per stage',
    labelNames: ['stage'] as const,
    buckets: [1, 10, 50, 100, 500, 1000, 5000, 20000, 100000],
    registers: [this.registry],
  });
  readonly flushSeconds = new Histogram({
    name: 'tgpulse_flush_seconds',
    help: 'Sink flush latency (ClickHouse insert), per table',
    labelNames: ['table'] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly dataFreshness = new Histogram({
    name: 'tgpulse_data_freshness_seconds',
    help: 'Seconds from a message reaching JetStream until the sink made its rows queryable, per stream',
    labelNames: ['stream'] as const,
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 1800, 7200],
    registers: [this.registry],
  });
  readonly consumerLag = new Gauge({
    name: 'tgpulse_consumer_lag_messages',
    help: 'Messages in the stream not yet delivered to the consumer',
    labelNames: ['consumer'] as const,
    registers: [this.registry],
  });
  readonly checkpointAge = new Gauge({
    name: 'tgpulse_checkpoint_age_seconds',
    help: 'Seconds the partition state has held changes its checkpoint lacks (0 when idle and covered)',
    labelNames: ['partition'] as const,
    registers: [this.registry],
  });
  readonly checkpointBytes = new Gauge({
    name: 'tgpulse_checkpoint_bytes',
    help: 'Size of the last checkpoint',
    labelNames: ['partition'] as const,
    registers: [this.registry],
  });
  readonly partitionOwned = new Gauge({
    name: 'tgpulse_partition_owned',
    help: 'Whether this process holds the partition lease and processes it (1) or not (0)',
    labelNames: ['partition'] as const,
    registers: [this.registry],
  });
  readonly ownershipChanges = new Counter({
    name: 'tgpulse_partition_ownership_changes_total',
    help: 'Partition leases acquired, released (handoff or stop) and lost (expired or taken over)',
    labelNames: ['partition', 'change'] as const,
    registers: [this.registry],
  });
  readonly checkpointWrites = new Counter({
    name: 'tgpulse_checkpoint_writes_total',
    help: 'Checkpoint writes: full (base), incremental (delta) and refused by fencing',
    labelNames: ['partition', 'kind'] as const,
    registers: [this.registry],
  });
  readonly watermark = new Gauge({
    name: 'tgpulse_watermark_ms',
    help: 'Event-time watermark per partition (ms since epoch)',
    labelNames: ['partition'] as const,
    registers: [this.registry],
  });
  readonly forgottenDropped = new Counter({
    name: 'tgpulse_forgotten_events_dropped_total',
    help: 'Events and dead letters of forgotten channels dropped instead of processed or written (`tgpulse channels forget`), by stage',
    labelNames: ['stage'] as const,
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: 'tgpulse_errors_total',
    help: 'Errors retried or surfaced, by stage and kind',
    labelNames: ['stage', 'error'] as const,
    registers: [this.registry],
  });

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'tgpulse_' });
  }
}
