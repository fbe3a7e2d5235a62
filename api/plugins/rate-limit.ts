/**
 * Rate limiting: a token bucket per API key (its own budget, or the default),
 * and per address on public routes that ask for it (`limitAnonymous`). Every
 * limited answer says the budget and what is left; a refused one says when
 * to retry (429).
 */
import fp from 'fastify-plugin';
import type { FastifyReply } from 'fastify';
import { RateLimiter } from '../../common/index.ts';
import { ApiError } from '../errors.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Rate-limit anonymous callers of this public route by address. */
    limitAnonymous?: boolean;
  }
}

export interface RateLimitOptions {
  /** Requests per minute of a caller whose key names no budget of its own. */
  ratePerMinute: number;
  now: () => number;
}

export const rateLimit = fp<RateLimitOptions>(
  async (app, { ratePerMinute, now }) => {
    const limiter = new RateLimiter();
    app.addHook('onRequest', async (req, reply) => {
      if (req.routeOptions.config.limitAnonymous) charge(limiter.take(`ip:${req.ip}`, ratePerMinute, now()), reply);
      const key = req.apiKey;
      if (key !== null) charge(limiter.take(`key:${key.id}`, key.ratePerMinute ?? ratePerMinute, now()), reply);
    });
  },
  // The key is known only after authentication.
  { name: 'tgpulse-rate-limit', fastify: '5.x', dependencies: ['tgpulse-authentication'] },
);

function charge(r: ReturnType<RateLimiter['take']>, reply: FastifyReply): void {
  reply.header('x-ratelimit-limit', String(r.limit));
  reply.header('x-ratelimit-remaining', String(r.remaining));
  if (r.ok) return;
  const seconds = Math.max(1, Math.ceil(r.retryAfterMs / 1000));
  throw new ApiError(
    429,
    'rate_limited',
    `too many requests: this caller may make ${r.limit} per minute; retry in ${seconds} s`,
    { retry_after_s: seconds },
    { 'retry-after': String(seconds) },
  );
}
