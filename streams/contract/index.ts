/**
 * The event contract: event kinds and their schemas, deterministic ids, subjects and the wire
 * codec. Pure (no NATS): every folder may depend on it.
 */
export { type DeadLetterReason, decodeBatch, type DecodeFailure, validateEvent } from './codec.ts';
export {
  type Anomaly,
  AnomalyData,
  AnomalyDirection,
  type AnomalyEvent,
  AnomalyReason,
  anomalyReasonOf,
  AnomalyState,
  BotEventData,
  type ChannelMembersEvent,
  type ChannelStatsEvent,
  type DeltaFlag,
  type DerivedEvent,
  EVENT_SCHEMAS,
  type EventKind,
  type EventOf,
  isRawKind,
  type PostCountersEvent,
  type PostDeletedEvent,
  type PostDelta,
  type PostDeltaEvent,
  type PostEvent,
  type RawEvent,
  type RawKind,
  SCHEMA_VERSION,
  EARLIEST_EVENT_MS,
  LATEST_EVENT_MS,
  SEVERITIES,
  Severity,
  POST_VIEWS_METRIC,
  QUIET_METRIC,
  WINDOW_METRICS,
  type WindowMetric,
  type Source,
  type TgEvent,
  type Trend,
  TrendData,
  type TrendEvent,
  type WindowAgg,
  type WindowAggEvent,
} from './events.ts';
export { batchId, eventId, partitionOf } from './ids.ts';
export { batchSubject, dlqSubject, eventSubject, parseSubject, partitionFilter, partitionToken } from './subjects.ts';
