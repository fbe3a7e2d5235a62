/** Liveness, readiness (the warehouse and Postgres answer) and Prometheus metrics. */
import type { ApiApp, RouteContext } from '../context.ts';
import { ApiError } from '../errors.ts';

export function registerOpsRoutes(app: ApiApp, ctx: RouteContext): void {
  const hidden = { schema: { hide: true } };
  app.get('/healthz', hidden, async () => ({ status: 'ok' }));
  app.get('/readyz', hidden, async () => {
    const checks = await Promise.allSettled([ctx.warehouse.ping(), ctx.control.query('SELECT 1')]);
    const failed = ['warehouse', 'postgres'].filter((_, i) => checks[i].status === 'rejected');
    if (failed.length > 0)
      throw new ApiError(503, 'not_ready', `not ready: ${failed.join(' and ')} did not answer`, { failed });
    return { status: 'ready' };
  });
  app.get('/metrics', hidden, async (_req, reply) => {
    reply.type(ctx.registry.contentType);
    return ctx.registry.metrics();
  });
}
