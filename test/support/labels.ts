/**
 * Scoring detected anomalies against the simulator's labels. The matcher lives
 * in quality/detection.ts (one source for the offline bench and this test).
 */
export { scoreDetections, type DetectedAnomaly } from '../../quality/detection.ts';
