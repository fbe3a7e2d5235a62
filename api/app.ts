/**
 * The read-only REST API as a Fastify instance: routes under /v1, the
 * OpenAPI document at /docs, health, readiness and metrics. Every concern
 * around the routes is a plugin of plugins/ (named in brackets below), and
 * the order they are registered in below is the order a request meets them:
 *
 *   (all)       a span per request and its handler [tracing]
 *   onRequest   URL size 414 [url-limit] → CORS [cors] → API key 401 [authentication] → rate limit 429 [rate-limit]
 *   preParsing  scope 403, and `export` for CSV [authentication]
 *   preValidation  numeric query and path parameters written as plain decimals, else 400 [decimal-numbers]
 *   preHandler  channel allow-list 403 [authentication] → answer cache: 200/304 without a query [answer-cache]
 *   handler     read models → JSON (schema-serialized) or CSV
 *   onSend      Cache-Control (no-store on errors), ETag, 304 on a matching If-None-Match, cache fill [answer-cache]
 *   onResponse  request count and latency [metrics]
 *
 * A failure at any step answers in the one error shape [error-mapping], as does an unknown route (404)
 * and a request refused by Node's HTTP parser or Fastify's router before any hook runs [client-errors.ts].
 */
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { clientErrorHandler, frameworkErrors } from './client-errors.ts';
import type { ApiDeps, RouteContext } from './context.ts';
import { FreshnessBoard } from './freshness-board.ts';
import { answerCache } from './plugins/answer-cache.ts';
import { authentication } from './plugins/authentication.ts';
import { cors } from './plugins/cors.ts';
import { decimalNumbers } from './plugins/decimal-numbers.ts';
import { errorMapping } from './plugins/error-mapping.ts';
import { accessLog } from './plugins/access-log.ts';
import { apiMetrics, requestMetrics } from './plugins/metrics.ts';
import { rateLimit } from './plugins/rate-limit.ts';
import { requestTracing } from './plugins/tracing.ts';
import { urlLimit } from './plugins/url-limit.ts';
import { registerBotEventRoutes } from './routes/bot-events.ts';
import { registerChannelRoutes } from './routes/channels.ts';
import { registerChartRoutes } from './routes/charts.ts';
import { registerForecastRoutes } from './routes/forecast.ts';
import { registerOpsRoutes } from './routes/ops.ts';
import { registerRankingRoutes } from './routes/rankings.ts';
import { registerShareRoutes } from './routes/share.ts';
import { registerWebRoutes } from './routes/web.ts';
import { registerWebAppRoutes } from './routes/webapp-session.ts';
import { Meta } from './schemas.ts';
import { WebFiles } from './web-files.ts';

/** How long a channel's freshness is reused; its `data_updated_at` may be this much behind. */
const FRESHNESS_TTL_MS = 2000;

/** Longest URL accepted (path and query); longer ones get 414. */
const MAX_URL_LENGTH = 2048;

/** Build the API (not listening yet: call `listen`). */
export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  // Its age is wall-clock time even when a test pins the answers' clock.
  const freshness = new FreshnessBoard(deps.warehouse, FRESHNESS_TTL_MS);
  const ctx: RouteContext = {
    ...deps,
    now: deps.now ?? Date.now,
    freshness: (channelId) => freshness.get(channelId),
    web: new WebFiles(deps.config.webRoot),
  };
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    // Requests are counted in metrics; logging each one would drown the pipeline's logs.
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { maxParamLength: 200 },
    bodyLimit: 16 * 1024,
    ajv: { customOptions: { removeAdditional: false, allErrors: false } },
    clientErrorHandler,
    frameworkErrors,
  });
  const metrics = apiMetrics(deps.registry);
  const { config } = deps;

  // First, so the OpenAPI document keeps naming it `def-0`.
  app.addSchema(Meta);
  await app.register(requestTracing());
  await app.register(errorMapping, { log: deps.log });
  await app.register(requestMetrics, { metrics });
  await app.register(urlLimit, { maxLength: MAX_URL_LENGTH });
  await app.register(cors, { origins: config.corsOrigins });
  await app.register(authentication, {
    control: deps.control,
    shareSecret: deps.shareSecret,
    log: deps.log,
    now: ctx.now,
  });
  await app.register(accessLog, { log: deps.log });
  await app.register(rateLimit, { ratePerMinute: config.ratePerMinute, now: ctx.now });
  await app.register(decimalNumbers);
  await app.register(answerCache, {
    cacheSeconds: config.cacheSeconds,
    now: ctx.now,
    onHit: () => metrics.cacheHits.inc(),
  });

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

  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  registerOpsRoutes(api, ctx);
  registerChannelRoutes(api, ctx);
  registerChartRoutes(api, ctx);
  registerBotEventRoutes(api, ctx);
  registerForecastRoutes(api, ctx);
  registerShareRoutes(api, ctx);
  registerRankingRoutes(api, ctx);
  registerWebRoutes(api, ctx);
  registerWebAppRoutes(api, ctx);
  for (const register of deps.routes ?? []) register(app);
  app.get('/docs', { schema: { hide: true } }, async () => app.swagger());
  app.get('/docs/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app;
}
