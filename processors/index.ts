/**
 * The partition runtime: ownership through leases, checkpoints, publishing derived events.
 */
export { runOwnership } from './ownership.ts';
export { runPartition } from './runtime.ts';
