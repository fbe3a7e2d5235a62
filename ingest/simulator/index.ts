/**
 * Simulated channels with labelled anomalies, a pure function of a seed.
 */
export { type AnomalyLabel, Simulator } from './simulator.ts';
