/**
 * Share links: a key with the `share` scope creates a signed, expiring,
 * revocable link to a report of one channel and period; anyone holding the
 * link reads that report, and only that, without a key until it expires.
 * A tampered token is 401; an expired, revoked or unknown one is 404. A key
 * limited to some channels creates and revokes links of those channels only.
 */
import { Type } from '@sinclair/typebox';
import {
  createShareLink,
  findShareLink,
  resolveShareToken,
  revokeShareLink,
  SHARE_TTL_SECONDS,
} from '../../control/index.ts';
import { answerMeta, channelReport, Report } from '../../read/index.ts';
import { REPORT_SECTIONS } from '../../common/index.ts';
import type { ApiApp, RouteContext } from '../context.ts';
import { ApiError, ErrorBody, unknownChannel } from '../errors.ts';
import { ChannelParams, PeriodQuery } from '../params.ts';
import { resolvePeriod } from '../period.ts';
import { answer } from '../schemas.ts';

const Section = Type.Union(REPORT_SECTIONS.map((s) => Type.Literal(s)));

const CreateBody = Type.Object(
  {
    ...PeriodQuery,
    sections: Type.Optional(Type.Array(Section, { minItems: 1, maxItems: REPORT_SECTIONS.length, uniqueItems: true })),
    ttl_seconds: Type.Optional(
      Type.Integer({
        minimum: SHARE_TTL_SECONDS.min,
        maximum: SHARE_TTL_SECONDS.max,
        default: 7 * 86_400,
        description: 'life of the link',
      }),
    ),
  },
  { additionalProperties: false },
);

const Created = Type.Object({
  id: Type.String(),
  token: Type.String(),
  url: Type.String({ description: 'path of the report, relative to the API root' }),
  channel_id: Type.String(),
  from: Type.Number(),
  to: Type.Number(),
  sections: Type.Array(Type.String()),
  expires_at: Type.Number(),
});

const ERRORS = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 429: ErrorBody };

export function registerShareRoutes(app: ApiApp, ctx: RouteContext): void {
  app.post(
    '/v1/channels/:id/share',
    {
      schema: {
        summary: 'Create a signed, expiring link to a report of this channel',
        tags: ['share'],
        params: ChannelParams,
        body: CreateBody,
        response: { 201: Created, ...ERRORS },
      },
      config: { scope: 'share' },
    },
    async (req, reply) => {
      const { id } = req.params;
      // Every field is optional, and a request may send no body at all.
      const body = req.body ?? {};
      if ((await ctx.freshness(id)) === null) throw unknownChannel(id);
      const period = resolvePeriod(body, { now: ctx.now(), defaultDays: 30, maxRangeDays: ctx.config.maxRangeDays });
      const sections = body.sections ?? [...REPORT_SECTIONS];
      const { link, token } = await createShareLink(
        ctx.control,
        ctx.shareSecret,
        {
          channelId: id,
          from: period.from,
          to: period.to,
          sections,
          ttlSeconds: body.ttl_seconds ?? 7 * 86_400,
          createdBy: req.apiKey?.id ?? null,
        },
        ctx.now(),
      );
      reply.code(201);
      return {
        id: link.id,
        token,
        url: `/v1/share/${token}`,
        channel_id: id,
        from: link.from,
        to: link.to,
        sections: link.sections,
        expires_at: link.expiresAt,
      };
    },
  );

  app.delete(
    '/v1/share/:linkId',
    {
      schema: {
        summary: 'Revoke a share link at once',
        tags: ['share'],
        params: Type.Object(
          { linkId: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }) },
          { additionalProperties: false },
        ),
        response: { 204: Type.Null(), ...ERRORS },
      },
      config: { scope: 'share' },
    },
    async (req, reply) => {
      const { linkId } = req.params;
      const gone = () =>
        new ApiError(404, 'unknown_share_link', `share link ${linkId} does not exist or is already revoked`);
      // A key limited to some channels revokes only their links: to it, another channel's link is as
      // unknown as one that never existed (a 403 would say that it exists, and for which channel).
      const link = await findShareLink(ctx.control, linkId);
      const channels = req.apiKey?.channels ?? null;
      if (link === null || (channels !== null && !channels.includes(link.channelId))) throw gone();
      if (!(await revokeShareLink(ctx.control, linkId, { actor: req.apiKey ? `api_key:${req.apiKey.id}` : 'api' })))
        throw gone();
      reply.code(204);
      return null;
    },
  );

  app.get(
    '/v1/share/:token',
    {
      schema: {
        summary: 'The report a share link grants (no API key needed)',
        tags: ['share'],
        security: [],
        params: Type.Object({ token: Type.String({ maxLength: 200 }) }, { additionalProperties: false }),
        response: { 200: answer(Report), 401: ErrorBody, 404: ErrorBody, 429: ErrorBody },
      },
      // Not cached: a revoked link must stop working at once.
      config: { limitAnonymous: true },
    },
    async (req) => {
      const { token } = req.params;
      const resolved = await resolveShareToken(ctx.control, ctx.shareSecret, token, ctx.now());
      if (!resolved.ok) {
        if (resolved.reason === 'bad_signature' || resolved.reason === 'malformed') {
          throw new ApiError(401, 'invalid_share_token', 'this share link is not valid (it may have been altered)');
        }
        throw new ApiError(
          404,
          'share_link_gone',
          `this share link is ${resolved.reason === 'unknown' ? 'unknown' : resolved.reason}`,
        );
      }
      const { link } = resolved;
      const freshness = await ctx.freshness(link.channelId);
      if (freshness === null) throw unknownChannel(link.channelId);
      const period = { from: link.from, to: link.to };
      const data = await channelReport(ctx.warehouse, {
        channel_id: link.channelId,
        period,
        sections: link.sections,
        now: ctx.now(),
      });
      return { meta: { ...answerMeta(freshness, period), granularity: data.granularity }, data };
    },
  );
}
