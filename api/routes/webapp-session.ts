/**
 * Sign-in of the Telegram Mini App: the web app, opened from the bot's
 * /dashboard button, posts the initData Telegram gave it and gets a session
 * token (`tgw_…`, one hour) it then sends like an API key. The token reads
 * the channels granted to that Telegram user, and nothing else (see
 * ../webapp/sessions.ts). Public: initData is the credential.
 */
import { Type } from '@sinclair/typebox';
import { grantedChannels } from '../../control/index.ts';
import type { ApiApp, RouteContext } from '../context.ts';
import { ApiError, ErrorBody } from '../errors.ts';
import { type InitDataRefusal, MAX_INIT_DATA_CHARS, verifyInitData } from '../webapp/init-data.ts';
import { issueSession, sessionKey } from '../webapp/session-token.ts';

const Body = Type.Object(
  {
    init_data: Type.String({
      minLength: 1,
      maxLength: MAX_INIT_DATA_CHARS,
      description:
        "Telegram.WebApp.initData exactly as the Mini App received it (a query string signed with the bot's token)",
    }),
  },
  { additionalProperties: false },
);

const Session = Type.Object({
  token: Type.String({ description: 'send as `Authorization: Bearer <token>`: scopes read and export' }),
  expires_at: Type.Number({ description: 'epoch ms; sign in again with fresh initData after it' }),
  user: Type.Object({ id: Type.String(), name: Type.String() }),
  channels: Type.Array(Type.String(), { description: 'the channels granted to this Telegram user, sorted' }),
});

/** What each refusal of initData tells the app; only age is worth a retry (reopening the app signs again). */
const REFUSALS: Record<InitDataRefusal, { code: string; message: string }> = {
  malformed: { code: 'init_data_invalid', message: 'init_data is not Telegram Mini App initData' },
  bad_hash: {
    code: 'init_data_invalid',
    message: "init_data is not signed with this bot's token (altered, or from another bot)",
  },
  from_future: {
    code: 'init_data_invalid',
    message: "init_data is dated ahead of this server's clock: check the server's time",
  },
  expired: { code: 'init_data_expired', message: 'init_data is too old: close the Mini App and open it again' },
};

/** `POST /v1/webapp/session`: initData in, a session token out (or the refusal and its reason). */
export function registerWebAppRoutes(app: ApiApp, ctx: RouteContext): void {
  const key = sessionKey(ctx.shareSecret);
  app.post(
    '/v1/webapp/session',
    {
      schema: {
        summary: "Sign in as the Telegram user who opened the Mini App (no API key: Telegram's initData is the proof)",
        tags: ['webapp'],
        security: [],
        body: Body,
        response: { 201: Session, 400: ErrorBody, 401: ErrorBody, 429: ErrorBody, 503: ErrorBody },
      },
      // Public, so callers are rate-limited by address, as share pages are.
      config: { limitAnonymous: true },
    },
    async (req, reply) => {
      const webApp = ctx.config.webApp;
      if (!webApp?.botToken) {
        throw new ApiError(
          503,
          'webapp_unavailable',
          'Telegram Mini App sign-in is off: the API needs the bot token (TGPULSE_BOT_TOKEN) to check initData',
        );
      }
      const now = ctx.now();
      const check = verifyInitData(req.body.init_data, webApp.botToken, now, webApp.maxAgeSeconds);
      if (!check.ok) {
        const { code, message } = REFUSALS[check.reason];
        throw new ApiError(401, code, message);
      }
      const { user } = check;
      const channels = await grantedChannels(ctx.control, user.id);
      const session = issueSession(key, user.id, now);
      // A bearer credential: no cache, shared or private, may keep it.
      reply.code(201).header('cache-control', 'no-store');
      return {
        token: session.token,
        expires_at: session.expiresAt,
        user: {
          id: user.id,
          name: user.username === undefined ? user.firstName : `${user.firstName} (@${user.username})`,
        },
        channels,
      };
    },
  );
}
