/**
 * Tracing, configured by the standard OpenTelemetry environment: off unless
 * an OTLP endpoint is set (`OTEL_EXPORTER_OTLP_ENDPOINT` or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`), then spans go out over OTLP/HTTP.
 * `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none` keep it off,
 * `OTEL_SERVICE_NAME` names the service, `OTEL_TRACES_SAMPLER(_ARG)` samples
 * (a busy pipeline publishes thousands of messages a second: sample its roots).
 * Only traces: metrics stay with Prometheus, logs with pino. The SDK is loaded
 * only when tracing is on.
 */
export interface Tracing {
  /** Exports what is buffered and stops; safe to call when tracing is off. */
  shutdown(): Promise<void>;
}

const OFF: Tracing = { shutdown: async () => {} };

/** Whether the environment asks for traces. */
export function tracingWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED === 'true') return false;
  if ((env.OTEL_TRACES_EXPORTER ?? '').split(',').includes('none')) return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/** Starts tracing for a process when the environment asks for it; `role` names the service by default. */
export async function startTracing(role: string, env: NodeJS.ProcessEnv = process.env): Promise<Tracing> {
  if (!tracingWanted(env)) return OFF;
  const [{ NodeSDK }, { OTLPTraceExporter }] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
  ]);
  const sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME || `tgpulse-${role}`,
    traceExporter: new OTLPTraceExporter(),
    // Empty lists, not absent: absent, the SDK would also start OTLP metric and log exporters.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [],
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}
