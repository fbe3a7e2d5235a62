/**
 * The answer cache over HTTP: a cacheable GET (`cache` in its route config)
 * is answered from the in-process cache when it can be, and every successful
 * one carries a strong ETag and Cache-Control, so a client revalidating with
 * If-None-Match gets 304. Errors are never stored by anyone (`no-store`).
 * The store itself is ../cache.ts.
 */
import type { FastifyReply } from 'fastify';
import fp from 'fastify-plugin';
import { AnswerCache, etagOf, matchesEtag } from '../cache.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Answers may be cached and revalidated with ETags. */
    cache?: boolean;
    /** The answer depends on the key (its channel allow-list), not only on the URL. */
    perKey?: boolean;
  }
  interface FastifyRequest {
    /** Where this request's answer is cached; null when it is not cacheable. */
    cacheKey: string | null;
    /** ETag of the cached answer this request is served from; null when it is computed. */
    cachedEtag: string | null;
  }
}

export interface AnswerCacheOptions {
  /** How long an answer is kept and advertised in Cache-Control (0 = not kept, always revalidated). */
  cacheSeconds: number;
  now: () => number;
  /** Called for every answer served from the cache. */
  onHit?: () => void;
}

/** Answer headers a cache hit must repeat. */
const KEPT_HEADERS = ['content-disposition', 'x-data-updated-at', 'x-data-sources', 'x-window-open'];

export const answerCache = fp<AnswerCacheOptions>(
  async (app, { cacheSeconds, now, onHit }) => {
    const cache = new AnswerCache();
    app.decorateRequest('cacheKey', null);
    app.decorateRequest('cachedEtag', null);

    app.addHook('preHandler', async (req, reply) => {
      const cfg = req.routeOptions.config;
      if (!cfg.cache || req.method !== 'GET' || cacheSeconds === 0) return;
      req.cacheKey = `${req.url}|${req.wantsCsv ? 'csv' : 'json'}|${cfg.perKey ? req.apiKey?.id : ''}`;
      const hit = cache.get(req.cacheKey, now());
      if (hit) {
        onHit?.();
        req.cachedEtag = hit.etag;
        return reply.headers(hit.headers).type(hit.contentType).send(hit.body);
      }
    });

    app.addHook('onSend', async (req, reply, payload) => {
      if (reply.statusCode >= 400) {
        reply.header('cache-control', 'no-store');
        return payload;
      }
      if (!req.routeOptions.config.cache || req.method !== 'GET' || reply.statusCode !== 200) return payload;
      if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) return payload;
      const etag = req.cachedEtag ?? etagOf(payload);
      reply.header('etag', etag);
      reply.header('cache-control', cacheSeconds > 0 ? `private, max-age=${cacheSeconds}` : 'private, no-cache');
      if (req.cacheKey !== null && req.cachedEtag === null) {
        cache.set(req.cacheKey, {
          contentType: String(reply.getHeader('content-type') ?? 'application/json'),
          headers: keptHeaders(reply),
          body: payload,
          etag,
          expiresAt: now() + cacheSeconds * 1000,
        });
      }
      if (matchesEtag(req.headers['if-none-match'], etag)) {
        reply.code(304);
        return '';
      }
      return payload;
    });
  },
  // The cache key names the representation and, for per-key answers, the key.
  { name: 'tgpulse-answer-cache', fastify: '5.x', dependencies: ['tgpulse-authentication'] },
);

function keptHeaders(reply: FastifyReply): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of KEPT_HEADERS) {
    const value = reply.getHeader(name);
    if (value !== undefined) out[name] = String(value);
  }
  return out;
}
