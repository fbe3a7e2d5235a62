/**
 * Logs, metrics and the ops endpoint (health, readiness, /metrics) every role serves.
 */
export { type OpsServer, type OpsServerOptions, startOpsServer } from './http.ts';
export { chooseLogFormat, createLogger, type LogFormat, type Logger, silentLogger } from './log.ts';
export { PipelineMetrics } from './metrics.ts';
export { failSpan, inClientSpan, tracer } from './spans.ts';
