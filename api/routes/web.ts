/**
 * The web app: `/` (and `/index.html`) is its one page, `/assets/*` its
 * built scripts, styles and fonts. Public, limited per address like every
 * anonymous route, and left out of the OpenAPI document (they are not API).
 * The app routes by URL hash, so no other path needs to answer its page;
 * share links (`/v1/share/{token}`) answer it too, see share.ts.
 */
import type { FastifyReply } from 'fastify';
import type { ApiApp, RouteContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import { CONTENT_SECURITY_POLICY, notBuiltPage } from '../web-pages.ts';

/** Hashed file names never change content: a year, and no revalidation. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

/** An HTML answer: the strict CSP, no sniffing, no referrer (a share page's URL holds its token). */
export function sendHtml(reply: FastifyReply, status: number, body: string | Buffer, cacheControl: string) {
  return reply
    .code(status)
    .header('content-security-policy', CONTENT_SECURITY_POLICY)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', cacheControl)
    .type('text/html; charset=utf-8')
    .send(body);
}

/** The app's page, or 503 with how to build it. Never stored: a rebuild must show at once. */
export async function sendAppPage(ctx: RouteContext, reply: FastifyReply) {
  const index = await ctx.web.index();
  if (index === null) return sendHtml(reply, 503, notBuiltPage(), 'no-store');
  return sendHtml(reply, 200, index, 'no-cache');
}

export function registerWebRoutes(app: ApiApp, ctx: RouteContext): void {
  const options = { schema: { hide: true }, config: { limitAnonymous: true } };
  app.get('/', options, (_req, reply) => sendAppPage(ctx, reply));
  app.get('/index.html', options, (_req, reply) => sendAppPage(ctx, reply));
  app.get('/assets/*', options, async (req, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    // The path as sent, not as the router decoded it: an encoded slash or dot is refused, never interpreted.
    const path = req.url.split('?')[0].slice('/assets/'.length);
    const asset = await ctx.web.asset(path);
    if (asset === null) throw new ApiError(404, 'unknown_asset', 'the web app has no such file');
    reply.header('cache-control', IMMUTABLE).type(asset.contentType);
    return asset.body;
  });
}
