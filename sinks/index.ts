/**
 * The ClickHouse sinks: batched, idempotent writes of the streams into the warehouse.
 */
export { ackedButMissing, rewindSinks } from './clickhouse/rewind.ts';
export { defaultSinkConfig, runSink, type SinkConfig, type SinkSource } from './clickhouse/sink.ts';
