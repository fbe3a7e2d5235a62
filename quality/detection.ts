/**
 * Detection quality without NATS: a simulator run fed straight through the
 * pure partition operator, its anomaly events scored against the simulator's
 * labels. Pure and fast (seconds for weeks of a dozen channels), so a
 * detector change can be judged on several seeds before it reaches the
 * end-to-end test, which scores the same way from the warehouse.
 *
 * ```ts
 * const sim = new Simulator({ seed: 7, channels: 12, start, durationMs: 21 * DAY_MS, anomalyRate: 0.1 });
 * const run = runDetection(sim, defaultProcessorConfig);
 * const score = scoreDetections(run.labels, run.detections);
 * ```
 */
import type { AnomalyLabel, Simulator } from '../ingest/simulator/index.ts';
import { type AnomalyEvent, type RawEvent, partitionOf } from '../streams/contract/index.ts';
import {
  type ProcessorConfig,
  createPartitionState,
  processEvent,
  type PartitionState,
} from '../processors/operators/index.ts';
import { DAY_MS, HOUR_MS } from '../common/index.ts';

/** An opened anomaly as the scorer sees it (one row of `anomaly_events` with state `opened`). */
export interface DetectedAnomaly {
  anomaly_id: string;
  channel_id: string;
  metric: string;
  direction: string;
  window_start: number;
  opened_at: number;
  post_id: number | null;
}

/** Metrics of detections that count as finding a label of each simulated kind. */
export const MATCHING_METRICS: Readonly<Record<AnomalyLabel['kind'], readonly string[]>> = {
  viral_post: ['views_at_age', 'views', 'forwards', 'reactions'],
  view_spike: ['views', 'forwards', 'reactions', 'views_at_age'],
  subscriber_burst: ['subscribers_gained'],
  mass_unsubscribe: ['subscribers_lost'],
  channel_quiet: ['posting_gap_hours', 'posts', 'views', 'forwards', 'reactions'],
};

/**
 * A detection matches a label on the same channel, with a fitting metric,
 * opened from an hour before the label's start (a window that began before the
 * anomaly may catch it) until its window starts a day after the label's end.
 */
export function matches(label: AnomalyLabel, a: DetectedAnomaly): boolean {
  if (a.channel_id !== label.channel_id) return false;
  if (
    !MATCHING_METRICS[label.kind].some(
      (m) => a.metric === m || a.metric.startsWith(`${m}_`) || a.metric.startsWith(`${m}@`),
    )
  )
    return false;
  return a.opened_at >= label.start - HOUR_MS && a.window_start <= label.end + 24 * HOUR_MS;
}

export interface DetectionScore {
  labels: number;
  detections: number;
  /** Detections matching at least one label. */
  truePositives: number;
  /** Labels matched by at least one detection. */
  foundLabels: number;
  /** truePositives / detections (1 with no detections). */
  precision: number;
  /** foundLabels / labels (1 with no labels). */
  recall: number;
  missed: AnomalyLabel[];
  falseAlarms: DetectedAnomaly[];
}

/** Precision over detections, recall over labels (several detections of one label all count as true). */
export function scoreDetections(
  labels: readonly AnomalyLabel[],
  detections: readonly DetectedAnomaly[],
): DetectionScore {
  const missed = labels.filter((l) => !detections.some((a) => matches(l, a)));
  const falseAlarms = detections.filter((a) => !labels.some((l) => matches(l, a)));
  const truePositives = detections.length - falseAlarms.length;
  return {
    labels: labels.length,
    detections: detections.length,
    truePositives,
    foundLabels: labels.length - missed.length,
    precision: detections.length ? truePositives / detections.length : 1,
    recall: labels.length ? (labels.length - missed.length) / labels.length : 1,
    missed,
    falseAlarms,
  };
}

/** The detection of an `opened` anomaly event. */
export function detectionOf(e: AnomalyEvent): DetectedAnomaly {
  const d = e.data;
  return {
    anomaly_id: d.anomaly_id,
    channel_id: e.channel_id,
    metric: d.metric,
    direction: d.direction,
    window_start: d.window_start,
    opened_at: d.opened_at,
    post_id: d.post_id,
  };
}

export interface DetectionRun {
  /** Every anomaly opened, in emission order. */
  detections: DetectedAnomaly[];
  /** The simulator's ground truth for the run. */
  labels: AnomalyLabel[];
  /** Channels × simulated days: the denominator of a false-alarm rate. */
  channelDays: number;
  /** Raw events fed. */
  events: number;
}

/** How the events reach the partitions; see {@link runDetection}. */
export type FeedOrder = 'step' | 'batch';

/**
 * Feeds every event of `sim` (from where it stands to its end) through one
 * partition state per partition, as the process role does with `partitions`
 * partitions (the watermark is per partition, so the split matters), and
 * collects the anomalies opened. The simulator must be finite.
 *
 * `order` is the order events reach a partition: `step` (default) as the
 * simulate role and the end-to-end tests publish, one publish per simulator
 * step coalesced per (kind, partition) in first-seen order (so within a step
 * a partition reads all its posts, then all its counters, ...); `batch` in the
 * simulator's own batch order. Both are valid orders for the operators; the
 * detections can differ slightly where an event's place moves the watermark.
 */
export function runDetection(
  sim: Simulator,
  cfg: ProcessorConfig,
  opts: { partitions?: number; order?: FeedOrder } = {},
): DetectionRun {
  if (!Number.isFinite(sim.end)) throw new RangeError('runDetection needs a finite simulator run (set durationMs)');
  const partitions = opts.partitions ?? 8;
  const states: PartitionState[] = Array.from({ length: partitions }, createPartitionState);
  const partitionByChannel = new Map<string, number>();
  const partitionOfChannel = (id: string): number => {
    let p = partitionByChannel.get(id);
    if (p === undefined) partitionByChannel.set(id, (p = partitionOf(id, partitions)));
    return p;
  };
  const detections: DetectedAnomaly[] = [];
  const startedAt = sim.now;
  let events = 0;
  const feed = (state: PartitionState, event: RawEvent) => {
    events++;
    for (const d of processEvent(state, event, cfg).derived) {
      if (d.kind === 'anomaly' && d.data.state === 'opened') detections.push(detectionOf(d));
    }
  };
  if (opts.order === 'batch') {
    for (const batch of sim.batches()) {
      const state = states[partitionOfChannel(batch[0].channel_id)];
      for (const event of batch as RawEvent[]) feed(state, event);
    }
  } else {
    for (const tick of sim.ticks()) {
      const groups = new Map<string, { partition: number; events: RawEvent[] }>();
      for (const batch of tick.batches) {
        for (const event of batch as RawEvent[]) {
          const partition = partitionOfChannel(event.channel_id);
          const key = `${event.kind}.${partition}`;
          let g = groups.get(key);
          if (!g) groups.set(key, (g = { partition, events: [] }));
          g.events.push(event);
        }
      }
      for (const g of groups.values()) for (const event of g.events) feed(states[g.partition], event);
    }
  }
  return {
    detections,
    labels: sim.labels(),
    channelDays: (sim.options.channels * (sim.end - startedAt)) / DAY_MS,
    events,
  };
}

/** Counts per metric of a detection list (metric → count), sorted by metric. */
export function countByMetric(detections: readonly DetectedAnomaly[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const d of [...detections].sort((a, b) => a.metric.localeCompare(b.metric)))
    out[d.metric] = (out[d.metric] ?? 0) + 1;
  return out;
}
