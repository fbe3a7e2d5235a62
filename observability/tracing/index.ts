/**
 * Tracing setup, apart from the rest of observability/ so that starting a
 * command loads nothing when tracing is off (the SDK itself loads only when on).
 */
export { startTracing } from './tracing.ts';
