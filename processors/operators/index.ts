/**
 * The pure operators of a partition: deltas, windows, trends, the series detector, quiet channels,
 * post views at age, and their checkpointable state. They import only the contract and common.
 */
export { defaultProcessorConfig, type ProcessorConfig, type SeriesTransform } from './config.ts';
export type { SeriesDetectorConfig } from './detector.ts';
export { genericSeriesConfig, scoreSeries } from './score-series.ts';
export {
  advanceClock,
  createPartitionState,
  forgetChannel,
  type PartitionState,
  partitionWatermark,
  processEvent,
  restoreState,
  serializeState,
} from './partition.ts';
export { applyDelta, serializeDelta, StateChanges } from './state-delta.ts';
