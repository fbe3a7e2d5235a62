/**
 * The API as a running role: opens the control plane, builds the app on the
 * given warehouse, listens, and closes in order.
 */
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Warehouse } from '../clickhouse/index.ts';
import { type ControlPlane, shareSecret, type ControlConfig } from '../control/index.ts';
import type { Logger } from '../observability/index.ts';
import { buildApi } from './app.ts';
import type { ApiConfig } from './config.ts';
import type { ApiDeps } from './context.ts';

export interface ApiServer {
  app: FastifyInstance;
  /** Base URL, e.g. http://127.0.0.1:8080 */
  url: string;
  close(): Promise<void>;
}

/** Build and start the API on an open warehouse and control plane. */
export async function startApiServer(opts: {
  warehouse: Warehouse;
  control: ControlPlane;
  controlConfig: ControlConfig;
  config: ApiConfig;
  log: Logger;
  registry: Registry;
  now?: () => number;
  routes?: Array<(app: FastifyInstance) => void>;
  /** Where `POST /v1/events` publishes (see `ApiDeps.publish`). */
  publish?: ApiDeps['publish'];
}): Promise<ApiServer> {
  const secret = await shareSecret(opts.control.pool, opts.controlConfig.shareSecret);
  const app = await buildApi({
    warehouse: opts.warehouse,
    control: opts.control.pool,
    shareSecret: secret,
    config: opts.config,
    log: opts.log,
    registry: opts.registry,
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.routes ? { routes: opts.routes } : {}),
    ...(opts.publish ? { publish: opts.publish } : {}),
  });
  try {
    await app.listen({ host: opts.config.host, port: opts.config.port });
  } catch (err) {
    await app.close();
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(
        `the REST API cannot listen on ${opts.config.host}:${opts.config.port}: the port is in use; set TGPULSE_API_PORT to a free port (0 = any)`,
        {
          cause: err,
        },
      );
    }
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.config.port;
  const host = opts.config.host.includes(':') ? `[${opts.config.host}]` : opts.config.host;
  return { app, url: `http://${host}:${port}`, close: () => app.close() };
}
