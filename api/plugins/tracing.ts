/**
 * Request spans (@fastify/otel): one span per request, its handler a child,
 * so the warehouse queries a request makes (traced by the warehouse driver)
 * join its trace. Registered first, so it sees every hook and route after it.
 * Hook spans are left out: with the plugins of this folder they would be most
 * of every trace. Without a tracer provider (tracing off) the spans are no-ops.
 */
import { FastifyOtelInstrumentation } from '@fastify/otel';

/** Ops routes stay untraced: a scraper polls them every few seconds. */
const UNTRACED = new Set(['/metrics', '/healthz', '/readyz']);

export function requestTracing() {
  return new FastifyOtelInstrumentation({
    instrumentHooks: false,
    ignorePaths: ({ url }) => UNTRACED.has(url),
  }).plugin();
}
