/**
 * Scoring detected anomalies against the simulator's labels. The matcher lives
 * in processors/quality.ts (one source for the offline bench and this test).
 */
export {
  matches,
  MATCHING_METRICS,
  scoreDetections,
  type DetectedAnomaly,
  type DetectionScore,
} from '../../quality/detection.ts';
