/**
 * The operational HTTP endpoint of a role: `/metrics` (prom-client),
 * `/healthz` (the process is alive) and `/readyz` (its dependencies answer).
 * Nothing else: this is the port people open to Prometheus, so it serves no
 * data and runs no SQL (SQL goes to the warehouse as its read-only user).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import type { PipelineMetrics } from './metrics.ts';

export interface OpsServerOptions {
  host: string;
  port: number;
  metrics: PipelineMetrics;
  /** Each check throws (or rejects) when not ready. */
  readiness: Record<string, () => Promise<void>>;
  /** Metrics of other processes served here too (the workers of `up`), each series labelled by its process. */
  more?: () => Promise<Array<MetricObjectWithValues<MetricValue<string>>[]>>;
}

export interface OpsServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

export async function startOpsServer(opts: OpsServerOptions): Promise<OpsServer> {
  const server = createServer(async (req, res) => {
    const send = (status: number, body: unknown, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    try {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method === 'GET' && path === '/metrics') {
        const registry = opts.more
          ? AggregatorRegistry.aggregate([await opts.metrics.registry.getMetricsAsJSON(), ...(await opts.more())])
          : opts.metrics.registry;
        return send(200, await registry.metrics(), opts.metrics.registry.contentType);
      }
      if (req.method === 'GET' && path === '/healthz') return send(200, { status: 'ok' });
      if (req.method === 'GET' && path === '/readyz') {
        const checks: Record<string, string> = {};
        let ready = true;
        for (const [name, check] of Object.entries(opts.readiness)) {
          try {
            await check();
            checks[name] = 'ok';
          } catch (err) {
            ready = false;
            checks[name] = String((err as Error).message ?? err);
          }
        }
        return send(ready ? 200 : 503, { status: ready ? 'ready' : 'not_ready', checks });
      }
      return send(404, { error: 'not_found', message: `no route ${req.method} ${path}` });
    } catch (err) {
      return send(500, { error: 'internal', message: String((err as Error).message ?? err) });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  return {
    url: `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${addr.port}`,
    server,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
