/**
 * NATS JetStream: connections, topology, the publisher, the consumer runner, checkpoints,
 * partition leases, dead letters, and stream snapshots and restores. The event contract
 * itself is streams/contract.
 */
export { assignPartitions } from './assignment.ts';
export { CheckpointStore } from './checkpoint.ts';
export { defaultStreamsConfig, type StreamsConfig } from './config.ts';
export { deleteConsumer, type DurableSpec, removeOtherConsumers, resetDurable } from './consumers.ts';
export { DeadLetterPublisher, deadLetterRecord, type DeadLetterRecord } from './dlq.ts';
export {
  channelDigest,
  type ForgottenEntry,
  purgeChannelSubjects,
  readmitForgotten,
  registerForgotten,
} from './forgotten.ts';
export { ForgottenChannels, type ForgottenLookup } from './forgotten-watch.ts';
export { LeaseTable, type LeaseValue, type ObservedLease } from './leases.ts';
export { isNatsTimeout, reportRetry, retryNats } from './nats-errors.ts';
export { connectNats, natsReachable } from './nats.ts';
export { EventPublisher, rawEventPublisher } from './publisher.ts';
export { CooperativeSlice, runConsumer } from './runner.ts';
export { readStreamSizes, type StreamSize, tgpulseStreams } from './stream-sizes.ts';
export { snapshotStream, type StreamSnapshot } from './snapshot.ts';
export { StreamSnapshotError } from './snapshot-api.ts';
export { restoreStream } from './snapshot-restore.ts';
export { ensureStreams, isNotFound, openCheckpointBucket } from './topology.ts';
export { inMessageSpan, startBatchSpan, startMessageSpan } from './tracing.ts';
