/**
 * One debug line per answered request: method, route pattern, status,
 * duration and the key's id. Off at the default `info` level, where the
 * metrics carry the same counts without the volume.
 *
 * It logs the route's pattern (`/v1/share/:token`), never the raw URL:
 * URLs carry secrets (`?api_key=`, share tokens) and whatever a caller
 * typed. The key is named by its id, never by its secret.
 */
import fp from 'fastify-plugin';
import type { Logger } from '../../observability/index.ts';

export interface AccessLogOptions {
  log: Logger;
}

export const accessLog = fp<AccessLogOptions>(
  async (app, { log }) => {
    if (!log.isLevelEnabled('debug')) return;
    app.addHook('onResponse', async (req, reply) => {
      log.debug(
        {
          reqId: req.id,
          method: req.method,
          route: req.routeOptions.url ?? 'unmatched',
          status: reply.statusCode,
          ms: Math.round(reply.elapsedTime * 10) / 10,
          key: req.apiKey?.id ?? null,
        },
        'API request',
      );
    });
  },
  { name: 'tgpulse-access-log', fastify: '5.x', dependencies: ['tgpulse-authentication'] },
);
