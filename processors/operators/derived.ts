/**
 * Envelopes of derived events and their deterministic ids. An id names the
 * fact, so a replay after a crash re-emits the same ids and downstream writes
 * deduplicate:
 * - post_delta: the counters event it was computed from;
 * - window_agg: (channel, window, start, revision);
 * - trend: (channel, metric, window, start[, post]);
 * - anomaly: (anomaly_id, revision), with anomaly_id = (channel, metric,
 *   series key, post, openedAt), stable across the anomaly's events.
 */
import {
  SCHEMA_VERSION,
  type AnomalyEvent,
  type PostDelta,
  type PostDeltaEvent,
  type Source,
  type TrendEvent,
  type WindowAgg,
  type WindowAggEvent,
  type Anomaly,
  type Trend,
  eventId,
} from '../../streams/contract/index.ts';

/** The envelope fields a derived event takes from its context. */
export interface EmitContext {
  channelId: string;
  source: Source;
  /** `observed_at` of the raw event that triggered the output. */
  observedAt: number;
}

/** The delta of one counters observation (`observationId`: CounterSnapshot.id). */
export function postDeltaEvent(
  ctx: EmitContext,
  eventTime: number,
  observationId: string,
  data: PostDelta,
): PostDeltaEvent {
  return {
    v: SCHEMA_VERSION,
    kind: 'post_delta',
    id: eventId('pd', observationId),
    channel_id: ctx.channelId,
    event_time: eventTime,
    observed_at: ctx.observedAt,
    source: ctx.source,
    data,
  };
}

export function windowAggEvent(ctx: EmitContext, data: WindowAgg): WindowAggEvent {
  return {
    v: SCHEMA_VERSION,
    kind: 'window_agg',
    id: eventId('wa', ctx.channelId, data.window, data.window_start, data.revision),
    channel_id: ctx.channelId,
    event_time: data.window_start,
    observed_at: ctx.observedAt,
    source: ctx.source,
    data,
  };
}

export function trendEvent(ctx: EmitContext, data: Trend): TrendEvent {
  return {
    v: SCHEMA_VERSION,
    kind: 'trend',
    id: eventId('tr', ctx.channelId, data.metric, data.window, data.window_start, data.post_id ?? ''),
    channel_id: ctx.channelId,
    event_time: data.window_start,
    observed_at: ctx.observedAt,
    source: ctx.source,
    data,
  };
}

/**
 * The stable id of one anomaly. `seriesKey` is the window name for window
 * metrics and a fixed key for post series (whose window changes with the age).
 */
export function anomalyId(
  channelId: string,
  metric: string,
  seriesKey: string,
  postId: number | null,
  openedAt: number,
): string {
  return eventId('anom', channelId, metric, seriesKey, postId ?? '', openedAt);
}

export function anomalyEvent(ctx: EmitContext, data: Anomaly): AnomalyEvent {
  return {
    v: SCHEMA_VERSION,
    kind: 'anomaly',
    id: eventId('an', data.anomaly_id, data.revision),
    channel_id: ctx.channelId,
    event_time: data.window_start,
    observed_at: ctx.observedAt,
    source: ctx.source,
    data,
  };
}
