/**
 * The API's Prometheus metrics: requests by route, method and status, their
 * latency by route, and answers served from the cache. Routes are labelled
 * by their pattern (`/v1/channels/:id/growth`), never by the raw URL, so
 * the label set stays bounded.
 */
import fp from 'fastify-plugin';
import { Counter, Histogram, type Registry } from 'prom-client';

const NAMES = ['tgpulse_api_requests_total', 'tgpulse_api_request_seconds', 'tgpulse_api_cache_hits_total'];

/** The API's metrics, joined to `registry` (replacing those of an API built before in the same process). */
export function apiMetrics(registry: Registry) {
  for (const name of NAMES) if (registry.getSingleMetric(name)) registry.removeSingleMetric(name);
  return {
    requests: new Counter({
      name: 'tgpulse_api_requests_total',
      help: 'API requests by route, method and status',
      labelNames: ['route', 'method', 'status'] as const,
      registers: [registry],
    }),
    seconds: new Histogram({
      name: 'tgpulse_api_request_seconds',
      help: 'API request latency by route',
      labelNames: ['route'] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    cacheHits: new Counter({
      name: 'tgpulse_api_cache_hits_total',
      help: 'API answers served from the in-process cache',
      registers: [registry],
    }),
  };
}

export type ApiMetrics = ReturnType<typeof apiMetrics>;

export interface RequestMetricsOptions {
  metrics: ApiMetrics;
}

/** Counts and times every answer, errors and 404s included. */
export const requestMetrics = fp<RequestMetricsOptions>(
  async (app, { metrics }) => {
    app.addHook('onResponse', async (req, reply) => {
      const route = req.routeOptions.url ?? 'unmatched';
      metrics.requests.inc({ route, method: req.method, status: String(reply.statusCode) });
      metrics.seconds.observe({ route }, reply.elapsedTime / 1000);
    });
  },
  { name: 'tgpulse-metrics', fastify: '5.x' },
);
