/**
 * Every failure answers in the API's one error shape (../errors.ts): our own
 * `ApiError`s as they are, Fastify's validation errors as 400 naming the
 * parameter, other 4xx as they came, a warehouse or a control plane
 * (Postgres) that does not answer as 503, and anything else as 500, logged.
 * Unknown routes are 404 in the same shape.
 */
import fp from 'fastify-plugin';
import { isTransient, WarehouseError } from '../../clickhouse/index.ts';
import { isControlPlaneDown } from '../../control/index.ts';
import type { Logger } from '../../observability/index.ts';
import { ApiError, ErrorBody } from '../errors.ts';

export interface ErrorMappingOptions {
  /** Where unexpected (5xx) failures are logged. */
  log: Logger;
}

export const errorMapping = fp<ErrorMappingOptions>(
  async (app, { log }) => {
    app.addSchema(ErrorBody);
    app.setErrorHandler((err, req, reply) => {
      const e = toApiError(err);
      const where = { err, url: req.url.slice(0, 300), reqId: req.id };
      // A store that is away is an outage to see, not a bug to fix: one level lower.
      if (e.status === 503) log.warn(where, 'API request failed: a store did not answer');
      else if (e.status >= 500) log.error(where, 'API request failed');
      reply.headers(e.headers).code(e.status).send(e.body());
    });
    app.setNotFoundHandler((req, reply) => {
      const path = req.url.split('?')[0].slice(0, 200);
      const e = new ApiError(404, 'not_found', `no route ${req.method} ${path} (the routes are listed at /docs)`);
      reply.code(404).send(e.body());
    });
  },
  { name: 'tgpulse-error-mapping', fastify: '5.x' },
);

/** What Fastify's own errors carry, validation errors included. */
interface FastifyLikeError {
  validation?: Array<{ instancePath: string; message?: string; params?: Record<string, unknown> }>;
  validationContext?: string;
  statusCode?: number;
  code?: string;
  message: string;
}

/** Any error as the API's error shape; only the unexpected ones are 5xx. */
function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const f = (err ?? {}) as FastifyLikeError;
  if (f.validation && f.validation.length > 0) {
    const v = f.validation[0];
    const where = `${f.validationContext ?? 'request'}${v.instancePath.replace(/\//g, '.')}`;
    const allowed = v.params?.allowedValues as unknown[] | undefined;
    const extra = v.params?.additionalProperty as string | undefined;
    const message =
      extra !== undefined
        ? `unknown parameter ${JSON.stringify(extra.slice(0, 64))}`
        : `${v.message ?? 'is invalid'}${allowed ? `: one of ${allowed.join(', ')}` : ''}`;
    return new ApiError(400, 'invalid_parameter', `${where}: ${message}`, { parameter: extra ?? where });
  }
  if (typeof f.statusCode === 'number' && f.statusCode >= 400 && f.statusCode < 500) {
    return new ApiError(f.statusCode, (f.code ?? 'bad_request').toLowerCase(), f.message);
  }
  // The store being down is worth a retry; a query it rejected is our bug (500).
  if (err instanceof WarehouseError && isTransient(err.cause ?? err)) {
    return new ApiError(503, 'warehouse_unavailable', 'the analytics store did not answer; retry shortly', undefined, {
      'retry-after': '5',
    });
  }
  // Keys and share links live there: nothing can be checked until it is back.
  if (isControlPlaneDown(err)) {
    return new ApiError(
      503,
      'control_plane_unavailable',
      'the control plane (Postgres, where API keys and share links are kept) did not answer; retry shortly',
      undefined,
      { 'retry-after': '5' },
    );
  }
  return new ApiError(500, 'internal', 'the request failed on our side; it has been logged');
}
