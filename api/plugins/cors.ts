/**
 * CORS for browser clients of the allowed origins: the answer names the
 * origin back and exposes the headers a client needs to revalidate and to
 * pace itself. Off when no origin is configured.
 */
import fp from 'fastify-plugin';

export interface CorsOptions {
  /** Allowed origins; `*` allows any; empty = CORS off. */
  origins: readonly string[];
}

export const cors = fp<CorsOptions>(
  async (app, { origins }) => {
    if (origins.length === 0) return;
    app.addHook('onRequest', async (req, reply) => {
      const origin = req.headers.origin;
      if (origin === undefined || (!origins.includes(origin) && !origins.includes('*'))) return;
      reply.header('access-control-allow-origin', origin);
      reply.header('vary', 'Origin');
      reply.header('access-control-allow-headers', 'authorization, x-api-key, if-none-match, content-type');
      reply.header('access-control-expose-headers', 'etag, retry-after, x-ratelimit-limit, x-ratelimit-remaining');
    });
  },
  { name: 'tgpulse-cors', fastify: '5.x' },
);
