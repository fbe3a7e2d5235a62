/**
 * Traces across NATS. A publish injects the W3C trace context (`traceparent`,
 * `tracestate`) into the message headers and a consumer continues the trace
 * from them, so one batch is followed from the collector's publish through
 * the processor and its derived publish to the sink's insert. No NATS
 * instrumentation exists for the JavaScript client, hence this explicit
 * propagation. Without a tracer provider (tracing is off by default, see
 * observability/tracing.ts) every call here is a cheap no-op.
 */
import type { JsMsg } from '@nats-io/jetstream';
import type { MsgHdrs } from '@nats-io/transport-node';
import {
  type Attributes,
  type Context,
  context,
  type Link,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  trace,
} from '@opentelemetry/api';
import { failSpan, tracer } from '../observability/index.ts';

const headerGetter = {
  get: (h: MsgHdrs, key: string) => h.get(key) || undefined,
  keys: (h: MsgHdrs) => h.keys(),
};

/** The trace a message carries, or none (a root) when it carries no context. */
export function messageContext(m: JsMsg): Context {
  return m.headers ? propagation.extract(ROOT_CONTEXT, m.headers, headerGetter) : ROOT_CONTEXT;
}

/** A span for publishing one message; its context goes into the message's headers. */
export function startPublishSpan(stream: string, subject: string, count: number, h: MsgHdrs): Span {
  const span = tracer.startSpan(`publish ${stream}`, {
    kind: SpanKind.PRODUCER,
    attributes: {
      'messaging.system': 'nats',
      'messaging.operation.type': 'send',
      'messaging.destination.name': subject,
      'messaging.batch.message_count': count,
    },
  });
  propagation.inject(trace.setSpan(context.active(), span), h, {
    set: (carrier, key, value) => carrier.set(key, value),
  });
  return span;
}

/** A span continuing the trace of message `m`, started now; the caller ends it. */
export function startMessageSpan(name: string, m: JsMsg, attributes: Attributes = {}): Span {
  return tracer.startSpan(
    name,
    {
      kind: SpanKind.CONSUMER,
      attributes: { 'messaging.system': 'nats', 'messaging.destination.name': m.subject, ...attributes },
    },
    messageContext(m),
  );
}

/** Runs `fn` inside a span continuing message `m`'s trace: what `fn` publishes joins that trace. */
export async function inMessageSpan<T>(
  name: string,
  m: JsMsg,
  attributes: Attributes,
  fn: () => Promise<T>,
): Promise<T> {
  const span = startMessageSpan(name, m, attributes);
  try {
    return await context.with(trace.setSpan(context.active(), span), fn);
  } catch (err) {
    failSpan(span, err);
    throw err;
  } finally {
    span.end();
  }
}

/** A client span (a warehouse insert of many messages), linked to the traces of the first few. */
export function startBatchSpan(name: string, messages: readonly JsMsg[], attributes: Attributes): Span {
  const links: Link[] = [];
  for (const m of messages.slice(0, MAX_LINKS)) {
    const linked = trace.getSpanContext(messageContext(m));
    if (linked) links.push({ context: linked });
  }
  return tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes, links });
}

/** Links per batch span: enough to find the traces it served, bounded for batches of thousands. */
const MAX_LINKS = 32;
