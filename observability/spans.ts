/**
 * Span helpers shared by the modules that trace their calls to other systems
 * (NATS, the warehouse, Postgres, the Bot API). Without a tracer provider
 * (tracing is off by default, see observability/tracing/) every span is a
 * cheap no-op.
 */
import { type Attributes, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';

export const tracer = trace.getTracer('tgpulse');

/** Marks `span` failed with `err`, so a trace viewer shows the failure where it happened. */
export function failSpan(span: Span, err: unknown): void {
  span.recordException(err instanceof Error ? err : String(err));
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
}

/** Runs `fn` in a client span (a call to another system), the active span while it runs. */
export function inClientSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, { kind: SpanKind.CLIENT, attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      failSpan(span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}
