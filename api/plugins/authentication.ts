/**
 * Who is calling and what they may read. A route names the scope it needs
 * in its config (`scope`); routes without one are public. The checks are
 * spread over three steps of the request, each as early as it can be:
 *
 *   onRequest   the API key or Mini App session token (401), so the rate limit after it can charge it
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
import { isSessionToken, sessionKey } from '../webapp/session-token.ts';
import { WebAppSessions } from '../webapp/sessions.ts';

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
  /** The deployment's share secret: Mini App session tokens are signed with a key derived from it. */
  shareSecret: Buffer;
  log: Logger;
  now: () => number;
}

export const authentication = fp<AuthenticationOptions>(
  async (app, { control, shareSecret, log, now }) => {
    const verifier = new KeyVerifier(control, log);
    const sessions = new WebAppSessions(control, sessionKey(shareSecret));
    app.decorateRequest('apiKey', null);
    app.decorateRequest('wantsCsv', false);

    app.addHook('onRequest', async (req) => {
      if (!req.routeOptions.config.scope) return;
      const token = presentedKey(req.headers);
      // A Mini App session (`tgw_…`) stands in for a key: read and export of the user's granted channels.
      req.apiKey =
        token !== null && isSessionToken(token)
          ? await sessions.authenticate(token, now())
          : await verifier.authenticate(token, now());
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
