/**
 * Postgres queries as client spans, children of whatever the caller traces
 * (an API request's key check, a bot command, a collector's lease renewal).
 * The OpenTelemetry `pg` instrumentation patches the module through the
 * CommonJS loader, which an ES module import of `pg` bypasses without a
 * loader hook; wrapping each pooled connection's `query` is explicit and
 * covers both `pool.query` and queries inside a transaction. Statements are
 * recorded as written, with `$n` placeholders: parameter values (API key
 * hashes, session data) never reach a span.
 */
import { context, type Span, SpanKind, trace } from '@opentelemetry/api';
import type { Pool, PoolClient } from 'pg';
import { failSpan, tracer } from '../observability/index.ts';

/** What every span of this pool says about the database it talks to. */
export interface PoolTarget {
  /** `server` for a Postgres server, `embedded` for PGlite. */
  driver: string;
  database: string;
}

/** Traces every query of `pool`'s connections from now on; call it before the pool's first query. */
export function traceQueries(pool: Pool, target: PoolTarget): void {
  pool.on('connect', (client) => traceClient(client, target));
}

type QueryFn = (...args: unknown[]) => unknown;

function traceClient(client: PoolClient, target: PoolTarget): void {
  const query = client.query.bind(client) as QueryFn;
  (client as unknown as { query: QueryFn }).query = (...args: unknown[]) => {
    const [config] = args;
    // A submittable (a cursor, a stream) runs over many calls: left untraced.
    if (typeof (config as { submit?: unknown } | null)?.submit === 'function') return query(...args);
    const text = typeof config === 'string' ? config : ((config as { text?: string } | null)?.text ?? '');
    const span = tracer.startSpan(spanName(text), {
      kind: SpanKind.CLIENT,
      attributes: {
        'db.system.name': 'postgresql',
        'db.namespace': target.database,
        'db.query.text': text,
        'tgpulse.control.driver': target.driver,
      },
    });
    const last = args.at(-1);
    if (typeof last === 'function') {
      // The callback form, which pg's pool uses for `pool.query`.
      args[args.length - 1] = (err: unknown, result: unknown) => {
        finish(span, err);
        (last as QueryFn)(err, result);
      };
      return context.with(trace.setSpan(context.active(), span), () => query(...args));
    }
    return (query(...args) as Promise<unknown>).then(
      (result) => {
        finish(span, null);
        return result;
      },
      (err: unknown) => {
        finish(span, err);
        throw err;
      },
    );
  };
}

function finish(span: Span, err: unknown): void {
  if (err) failSpan(span, err);
  span.end();
}

/** `postgres SELECT`, `postgres INSERT`…: the statement's first word names the span (low cardinality). */
function spanName(text: string): string {
  const verb = /^\s*([A-Za-z]+)/.exec(text)?.[1]?.toUpperCase();
  return verb ? `postgres ${verb}` : 'postgres query';
}
