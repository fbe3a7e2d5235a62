/**
 * When the warehouse and the streams disagree about what was written: the
 * sinks' durable consumers live in NATS, the rows in ClickHouse. A new or
 * emptied warehouse on an old NATS never receives the history the consumers
 * already acked. These helpers notice that and rewind the sinks to the start
 * of what the streams still keep; rewriting is safe because every write is
 * idempotent (ReplacingMergeTree ids, insert deduplication tokens).
 */
import type { JetStreamManager } from '@nats-io/jetstream';
import { resetDurable, isNotFound, type StreamsConfig } from '../../streams/index.ts';
import type { Warehouse } from '../../clickhouse/index.ts';
import { sinkConsumer, type SinkSource } from './sink.ts';

/** Messages of TG_RAW the raw sink has acked while the warehouse holds no raw row, or 0 when they agree. */
export async function ackedButMissing(
  jsm: JetStreamManager,
  warehouse: Warehouse,
  streams: StreamsConfig,
): Promise<number> {
  const spec = sinkConsumer(streams, 'raw');
  const info = await jsm.consumers.info(spec.stream, spec.name).catch((err: unknown) => {
    if (isNotFound(err)) return null;
    throw err;
  });
  const acked = info?.ack_floor.stream_seq ?? 0;
  if (acked === 0) return 0;
  const [row] = await warehouse.query<{ rows: string }>(
    "SELECT toString(sum(rows)) AS rows FROM system.parts WHERE database = currentDatabase() AND active AND startsWith(table, 'raw_')",
  );
  return Number(row?.rows ?? 0) === 0 ? acked : 0;
}

/** Recreate the sinks' consumers so they deliver again from the first message the streams keep. */
export async function rewindSinks(
  jsm: JetStreamManager,
  streams: StreamsConfig,
  sources: readonly SinkSource[],
): Promise<void> {
  for (const source of sources) await resetDurable(jsm, sinkConsumer(streams, source), 0);
}
