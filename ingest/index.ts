/**
 * What the collectors share: pacing publishes by event time.
 */
export { EventTimePacer, type Sleep } from './pacing.ts';
