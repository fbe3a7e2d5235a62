/**
 * The read-only REST API as a Fastify instance: routes under /v1, the
 * OpenAPI document at /docs, health, readiness and metrics. The request
 * pipeline around every analytics route is the same and lives here:
 *
 *   onRequest   URL size → CORS → API key (401) → rate limit (429) → scope (403)
 *   preHandler  channel allow-list (403) → answer cache (200/304 without a query)
 *   handler     read models → JSON (schema-serialized) or CSV
 *   onSend      ETag, Cache-Control, 304 on a matching If-None-Match, cache fill
 */
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import swagger from '@fastify/swagger';
import { Counter, Histogram, type Registry } from 'prom-client';
import { WarehouseError } from '../clickhouse/index.ts';
import { isTransient } from '../clickhouse/index.ts';
import type { ApiKey, ApiScope } from '../control/index.ts';
import type { Logger } from '../observability/index.ts';
import { KeyVerifier, presentedKey, requireChannel, requireScope } from './auth.ts';
import { AnswerCache, etagOf, matchesEtag } from './cache.ts';
import { ApiError, ErrorBody } from './errors.ts';
import { Memo } from './memo.ts';
import { RateLimiter } from '../common/index.ts';
import { FreshnessBoard } from './freshness-board.ts';
import { Meta } from './schemas.ts';
import type { ApiDeps, RouteContext } from './context.ts';
import { registerChannelRoutes } from './routes/channels.ts';
import { registerChartRoutes } from './routes/charts.ts';
import { registerOpsRoutes } from './routes/ops.ts';
import { registerShareRoutes } from './routes/share.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope an API key needs; routes without one are public. */
    scope?: ApiScope;
    /** Answers may be cached and revalidated with ETags. */
    cache?: boolean;
    /** The answer depends on the key (its channel allow-list), not only on the URL. */
    perKey?: boolean;
    /** CSV: `always` for `.csv` routes, `negotiate` when `Accept: text/csv` chooses it. */
    csv?: 'always' | 'negotiate';
    /** Rate-limit anonymous callers of this public route by address. */
    limitAnonymous?: boolean;
  }
  interface FastifyRequest {
    apiKey: ApiKey | null;
    wantsCsv: boolean;
    cacheKey: string | null;
    cachedEtag: string | null;
  }
}

/** How long a channel's freshness is reused; its `data_updated_at` may be this much behind. */
const FRESHNESS_TTL_MS = 2000;

/** Longest URL accepted (path and query); longer ones get 414. */
export const MAX_URL_LENGTH = 2048;

/** Build the API (not listening yet: call `listen`). */
export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  // Its age is wall-clock time even when a test pins the answers' clock.
  const freshness = new FreshnessBoard(deps.warehouse, FRESHNESS_TTL_MS);
  const ctx: RouteContext = {
    ...deps,
    now: deps.now ?? Date.now,
    freshness: (channelId) => freshness.get(channelId),
    inFlight: new Memo<unknown>(0),
  };
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    // Requests are counted in metrics; logging each one would drown the pipeline's logs.
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { maxParamLength: 200 },
    bodyLimit: 16 * 1024,
    ajv: { customOptions: { removeAdditional: false, allErrors: false } },
  });
  const verifier = new KeyVerifier(deps.control, deps.log);
  const limiter = new RateLimiter();
  const cache = new AnswerCache();
  const metrics = apiMetrics(deps.registry);

  app.decorateRequest('apiKey', null);
  app.decorateRequest('wantsCsv', false);
  app.decorateRequest('cacheKey', null);
  app.decorateRequest('cachedEtag', null);
  app.addSchema(Meta);
  app.addSchema(ErrorBody);

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'tgpulse API',
        version: '1',
        description:
          'Read-only analytics of Telegram channels. Times are epoch milliseconds (UTC) in JSON and ISO 8601 in CSV. ' +
          'Every answer carries `meta`: when its data was last updated, from which sources, and whether a window is still open.',
      },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
      security: [{ apiKey: [] }],
    },
  });

  app.addHook('onRequest', async (req, reply) => {
    if (req.url.length > MAX_URL_LENGTH) {
      throw new ApiError(414, 'uri_too_long', `the URL is longer than ${MAX_URL_LENGTH} characters`);
    }
    applyCors(req, reply, deps.config.corsOrigins);
    const cfg = req.routeOptions.config;
    if (cfg.limitAnonymous) limit(limiter.take(`ip:${req.ip}`, deps.config.ratePerMinute, ctx.now()), reply);
    if (!cfg.scope) return;
    const key = await verifier.authenticate(presentedKey(req.headers), ctx.now());
    limit(limiter.take(`key:${key.id}`, key.ratePerMinute ?? deps.config.ratePerMinute, ctx.now()), reply);
    requireScope(key, cfg.scope);
    req.wantsCsv = cfg.csv === 'always' || (cfg.csv === 'negotiate' && /\btext\/csv\b/i.test(req.headers.accept ?? ''));
    if (req.wantsCsv) requireScope(key, 'export');
    req.apiKey = key;
  });

  app.addHook('preHandler', async (req, reply) => {
    const channelId = (req.params as { id?: string } | undefined)?.id;
    if (req.apiKey && channelId !== undefined) requireChannel(req.apiKey, channelId);
    const cfg = req.routeOptions.config;
    if (!cfg.cache || req.method !== 'GET' || deps.config.cacheSeconds === 0) return;
    req.cacheKey = `${req.url}|${req.wantsCsv ? 'csv' : 'json'}|${cfg.perKey ? req.apiKey?.id : ''}`;
    const hit = cache.get(req.cacheKey, ctx.now());
    if (hit) {
      metrics.cacheHits.inc();
      req.cachedEtag = hit.etag;
      return reply.headers(hit.headers).type(hit.contentType).send(hit.body);
    }
  });

  app.addHook('onSend', async (req, reply, payload) => {
    const cfg = req.routeOptions.config;
    if (reply.statusCode >= 400) {
      reply.header('cache-control', 'no-store');
      return payload;
    }
    if (!cfg.cache || req.method !== 'GET' || reply.statusCode !== 200) return payload;
    if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) return payload;
    const etag = req.cachedEtag ?? etagOf(payload);
    reply.header('etag', etag);
    reply.header(
      'cache-control',
      deps.config.cacheSeconds > 0 ? `private, max-age=${deps.config.cacheSeconds}` : 'private, no-cache',
    );
    if (req.cacheKey !== null && req.cachedEtag === null) {
      cache.set(req.cacheKey, {
        contentType: String(reply.getHeader('content-type') ?? 'application/json'),
        headers: keptHeaders(reply),
        body: payload,
        etag,
        expiresAt: ctx.now() + deps.config.cacheSeconds * 1000,
      });
    }
    if (matchesEtag(req.headers['if-none-match'], etag)) {
      reply.code(304);
      return '';
    }
    return payload;
  });

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ route, method: req.method, status: String(reply.statusCode) });
    metrics.seconds.observe({ route }, reply.elapsedTime / 1000);
  });

  app.setErrorHandler((err, req, reply) => sendError(err, req, reply, deps.log));
  app.setNotFoundHandler((req, reply) => {
    const e = new ApiError(
      404,
      'not_found',
      `no route ${req.method} ${req.url.split('?')[0].slice(0, 200)} (the routes are listed at /docs)`,
    );
    reply.code(404).send(e.body());
  });

  registerOpsRoutes(app, ctx);
  registerChannelRoutes(app, ctx);
  registerChartRoutes(app, ctx);
  registerShareRoutes(app, ctx);
  for (const register of deps.routes ?? []) register(app);
  app.get('/docs', { schema: { hide: true } }, async () => app.swagger());
  app.get('/docs/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app;
}

/** Answer headers a cache hit must repeat. */
const KEPT_HEADERS = ['content-disposition', 'x-data-updated-at', 'x-data-sources', 'x-window-open'];

function keptHeaders(reply: FastifyReply): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of KEPT_HEADERS) {
    const value = reply.getHeader(name);
    if (value !== undefined) out[name] = String(value);
  }
  return out;
}

function limit(r: ReturnType<RateLimiter['take']>, reply: FastifyReply): void {
  reply.header('x-ratelimit-limit', String(r.limit));
  reply.header('x-ratelimit-remaining', String(r.remaining));
  if (!r.ok) {
    const seconds = Math.max(1, Math.ceil(r.retryAfterMs / 1000));
    throw new ApiError(
      429,
      'rate_limited',
      `too many requests: this caller may make ${r.limit} per minute; retry in ${seconds} s`,
      { retry_after_s: seconds },
      {
        'retry-after': String(seconds),
      },
    );
  }
}

function applyCors(req: FastifyRequest, reply: FastifyReply, origins: readonly string[]): void {
  const origin = req.headers.origin;
  if (origins.length === 0 || origin === undefined) return;
  if (!origins.includes(origin) && !origins.includes('*')) return;
  reply.header('access-control-allow-origin', origin);
  reply.header('vary', 'Origin');
  reply.header('access-control-allow-headers', 'authorization, x-api-key, if-none-match, content-type');
  reply.header('access-control-expose-headers', 'etag, retry-after, x-ratelimit-limit, x-ratelimit-remaining');
}

interface FastifyLikeError {
  validation?: Array<{ instancePath: string; message?: string; params?: Record<string, unknown> }>;
  validationContext?: string;
  statusCode?: number;
  code?: string;
  message: string;
}

function sendError(err: unknown, req: FastifyRequest, reply: FastifyReply, log: Logger): void {
  const e = toApiError(err);
  if (e.status >= 500) log.error({ err, url: req.url.slice(0, 300), reqId: req.id }, 'API request failed');
  reply.headers(e.headers).code(e.status).send(e.body());
}

/** Any error as the API's error shape; only the unexpected ones are 5xx. */
export function toApiError(err: unknown): ApiError {
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
  return new ApiError(500, 'internal', 'the request failed on our side; it has been logged');
}

function apiMetrics(registry: Registry) {
  const existing = registry.getSingleMetric('tgpulse_api_requests_total');
  if (existing) registry.removeSingleMetric('tgpulse_api_requests_total');
  for (const n of ['tgpulse_api_request_seconds', 'tgpulse_api_cache_hits_total'])
    if (registry.getSingleMetric(n)) registry.removeSingleMetric(n);
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
