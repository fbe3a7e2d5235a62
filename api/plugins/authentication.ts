/**
 * Who is calling and what they may read. A route names the scope it needs
 * in its config (`scope`); routes without one are public. The checks are
 * spread over three steps of the request, each as early as it can be:
 *
 *   onRequest   the API key (401), so the rate limit after it can charge the key
 *   preParsing  the route's scope (403), and `export` for a CSV answer: after
 *               the rate limit, so a refused request still counts, and before
 *               a body is read
 *   preHandler  the key's channel allow-list (403), once the path is validated
 */
import fp from 'fastify-plugin';
import type pg from 'pg';
import type { ApiKey, ApiScope } from '../../control/index.ts';
import type { Logger } from '../../observability/index.ts';
import { KeyVerifier, presentedKey, requireChannel, requireScope } from '../auth.ts';
import { channelIdOf } from '../params.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope an API key needs; routes without one are public. */
    scope?: ApiScope;
    /** CSV: `always` for `.csv` routes, `negotiate` when `Accept: text/csv` chooses it. */
    csv?: 'always' | 'negotiate';
  }
  interface FastifyRequest {
    /** The caller's key on routes with a scope; null on public routes. */
    apiKey: ApiKey | null;
    /** The answer is CSV (and the key has the `export` scope). */
    wantsCsv: boolean;
  }
}

export interface AuthenticationOptions {
  /** The control plane, where keys are kept. */
  control: pg.Pool;
  log: Logger;
  now: () => number;
}

export const authentication = fp<AuthenticationOptions>(
  async (app, { control, log, now }) => {
    const verifier = new KeyVerifier(control, log);
    app.decorateRequest('apiKey', null);
    app.decorateRequest('wantsCsv', false);

    app.addHook('onRequest', async (req) => {
      if (!req.routeOptions.config.scope) return;
      req.apiKey = await verifier.authenticate(presentedKey(req.headers), now());
    });

    app.addHook('preParsing', async (req) => {
      const { scope, csv } = req.routeOptions.config;
      if (!scope || req.apiKey === null) return;
      requireScope(req.apiKey, scope);
      req.wantsCsv = csv === 'always' || (csv === 'negotiate' && /\btext\/csv\b/i.test(req.headers.accept ?? ''));
      if (req.wantsCsv) requireScope(req.apiKey, 'export');
    });

    app.addHook('preHandler', async (req) => {
      const channelId = channelIdOf(req.params);
      if (req.apiKey !== null && channelId !== undefined) requireChannel(req.apiKey, channelId);
    });
  },
  { name: 'tgpulse-authentication', fastify: '5.x' },
);
