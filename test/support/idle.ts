/** Waiting for the pipeline to be done with everything published so far. */
import { listConsumers } from '../../streams/consumers.ts';
import type { ConsumerInfo, JetStreamManager } from '@nats-io/jetstream';
import type { StreamsConfig } from '../../streams/config.ts';
import { sleep } from '../../common/retry.ts';
import { processorConsumerPrefix } from '../../processors/runtime.ts';
import { sinkConsumer } from '../../sinks/clickhouse/sink.ts';

/**
 * The pipeline's consumers as they stand, or null while one is missing: one
 * per partition (named after its owner's epoch) and the three sinks.
 */
async function pipelineConsumers(jsm: JetStreamManager, streams: StreamsConfig): Promise<ConsumerInfo[] | null> {
  const raw = await listConsumers(jsm, streams.names.raw);
  const out: ConsumerInfo[] = [];
  for (let p = 0; p < streams.partitions; p++) {
    const prefix = `${processorConsumerPrefix(p)}_`;
    const mine = raw.filter((c) => c.name.startsWith(prefix));
    if (!mine.length) return null;
    out.push(...mine);
  }
  for (const source of ['raw', 'derived', 'dlq'] as const) {
    const spec = sinkConsumer(streams, source);
    try {
      out.push(await jsm.consumers.info(spec.stream, spec.name));
    } catch {
      return null; // not created yet
    }
  }
  return out;
}

/** Waits until every consumer exists and has nothing pending or unacked, on two checks in a row. */
export async function waitIdle(jsm: JetStreamManager, streams: StreamsConfig, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let quietRounds = 0;
  while (quietRounds < 2) {
    if (Date.now() > deadline) throw new Error('pipeline did not become idle in time');
    await sleep(300);
    const consumers = await pipelineConsumers(jsm, streams).catch(() => null);
    const busy = consumers === null || consumers.some((c) => c.num_pending > 0 || c.num_ack_pending > 0);
    quietRounds = busy ? 0 : quietRounds + 1;
  }
}
