/** Waiting for the pipeline to be done with everything published so far. */
import type { ConsumerInfo, JetStreamManager } from '@nats-io/jetstream';
import type { StreamsConfig } from '../../streams/config.ts';
import { sleep } from '../../streams/retry.ts';
import { processorConsumer } from '../../processors/runtime.ts';
import { sinkConsumer } from '../../sinks/clickhouse/sink.ts';
import type { DurableSpec } from '../../streams/consumers.ts';

export function pipelineConsumers(streams: StreamsConfig): DurableSpec[] {
  return [
    ...Array.from({ length: streams.partitions }, (_, p) => processorConsumer(streams, p)),
    sinkConsumer(streams, 'raw'),
    sinkConsumer(streams, 'derived'),
    sinkConsumer(streams, 'dlq'),
  ];
}

/** Waits until every consumer exists and has nothing pending or unacked, on two checks in a row. */
export async function waitIdle(jsm: JetStreamManager, streams: StreamsConfig, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let quietRounds = 0;
  while (quietRounds < 2) {
    if (Date.now() > deadline) throw new Error('pipeline did not become idle in time');
    await sleep(300);
    let busy = false;
    for (const spec of pipelineConsumers(streams)) {
      let info: ConsumerInfo;
      try {
        info = await jsm.consumers.info(spec.stream, spec.name);
      } catch {
        busy = true; // not created yet
        continue;
      }
      if (info.num_pending > 0 || info.num_ack_pending > 0) busy = true;
    }
    quietRounds = busy ? 0 : quietRounds + 1;
  }
}
