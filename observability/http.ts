/**
 * The operational HTTP endpoint of a role: `/metrics` (prom-client),
 * `/healthz` (the process is alive), `/readyz` (its dependencies answer) and,
 * when a warehouse is attached, `POST /query` so `tgpulse query` can reach a
 * running instance (chDB lets only one process open a data folder).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PipelineMetrics } from './metrics.ts';

export interface OpsServerOptions {
  host: string;
  port: number;
  metrics: PipelineMetrics;
  /** Each check throws (or rejects) when not ready. */
  readiness: Record<string, () => Promise<void>>;
  /** Read-only SQL runner for `POST /query`; absent = 404. */
  query?: (sql: string) => Promise<unknown[]>;
}

export interface OpsServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

const MAX_SQL_BYTES = 64 * 1024;

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => {
      size += d.length;
      if (size > limit) {
        reject(new Error(`body larger than ${limit} bytes`));
        req.destroy();
      } else parts.push(d);
    });
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startOpsServer(opts: OpsServerOptions): Promise<OpsServer> {
  const server = createServer(async (req, res) => {
    const send = (status: number, body: unknown, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    try {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method === 'GET' && path === '/metrics') return send(200, await opts.metrics.registry.metrics(), opts.metrics.registry.contentType);
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
      if (req.method === 'POST' && path === '/query' && opts.query) {
        const sql = await readBody(req, MAX_SQL_BYTES);
        return send(200, { rows: await opts.query(sql) });
      }
      return send(404, { error: 'not_found', message: `no route ${req.method} ${path}` });
    } catch (err) {
      return send(400, { error: 'bad_request', message: String((err as Error).message ?? err) });
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
