/**
 * Share links: a key with the `share` scope creates a signed, expiring,
 * revocable link to a report of one channel and period; anyone holding the
 * link reads that report, and only that, without a key until it expires.
 * A tampered token is 401; an expired, revoked or unknown one is 404. A key
 * limited to some channels creates and revokes links of those channels only.
 *
 * A browser opening the link (Accept preferring HTML) gets the web app's
 * page, which renders the report from the same URL as JSON and its charts
 * from `/v1/share/{token}/charts/…`; a link that does not work gets a page
 * saying so instead (401 not valid, 410 expired or revoked, 404 unknown).
 */
import { Type } from '@sinclair/typebox';
import {
  createShareLink,
  findShareLink,
  resolveShareToken,
  revokeShareLink,
  SHARE_TTL_SECONDS,
} from '../../control/index.ts';
import type { ChartName } from '../../read/charts/index.ts';
import { alignPeriod, answerMeta, channelReport, Report, reportGranularity } from '../../read/index.ts';
import { REPORT_SECTIONS, type ReportSection } from '../../common/index.ts';
import { prefersHtml } from '../accept.ts';
import { Chart, chartAnswer, chartFile } from '../chart-answer.ts';
import type { ApiApp, RouteContext } from '../context.ts';
import { ApiError, ErrorBody, unknownChannel } from '../errors.ts';
import { ChannelParams, PeriodQuery, Query, ShareChartParams } from '../params.ts';
import { resolvePeriod } from '../period.ts';
import { answer } from '../schemas.ts';
import { shareGonePage, shareInvalidPage } from '../web-pages.ts';
import { checkedTimeZone, drawChannelChart } from './charts.ts';
import { sendAppPage, sendHtml } from './web.ts';

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

/** The report section a shared chart belongs to: a link shows the charts of its sections only. */
const SECTION_OF_CHART: Record<Exclude<ChartName, 'post'>, ReportSection> = {
  growth: 'growth',
  reach: 'reach',
  views: 'reach',
  anomalies: 'anomalies',
  'best-time': 'best_time',
};

type Resolved = Awaited<ReturnType<typeof resolveShareToken>>;

/** The JSON refusal of a link that does not work. */
function refusal(resolved: Resolved & { ok: false }): ApiError {
  if (resolved.reason === 'bad_signature' || resolved.reason === 'malformed') {
    return new ApiError(401, 'invalid_share_token', 'this share link is not valid (it may have been altered)');
  }
  return new ApiError(
    404,
    'share_link_gone',
    `this share link is ${resolved.reason === 'unknown' ? 'unknown' : resolved.reason}`,
  );
}

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
        description:
          'JSON unless the Accept header prefers text/html over application/json (a browser opening the link): ' +
          'then the web page that shows the report, or a page saying the link is not valid (401), unknown (404), ' +
          'or expired or revoked (410).',
        response: { 200: answer(Report), 401: ErrorBody, 404: ErrorBody, 429: ErrorBody },
      },
      // Not cached: a revoked link must stop working at once.
      config: { limitAnonymous: true },
    },
    async (req, reply) => {
      const { token } = req.params;
      // The answer depends on Accept; CORS may already vary it by Origin.
      const vary = reply.getHeader('vary');
      reply.header('vary', vary ? `${String(vary)}, Accept` : 'Accept');
      const resolved = await resolveShareToken(ctx.control, ctx.shareSecret, token, ctx.now());
      if (prefersHtml(req.headers.accept)) {
        if (resolved.ok) return sendAppPage(ctx, reply);
        if (resolved.reason === 'bad_signature' || resolved.reason === 'malformed')
          return sendHtml(reply, 401, shareInvalidPage(), 'no-store');
        return sendHtml(reply, resolved.reason === 'unknown' ? 404 : 410, shareGonePage(), 'no-store');
      }
      if (!resolved.ok) throw refusal(resolved);
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

  registerSharedChartRoute(app, ctx);
}

/** `/v1/share/{token}/charts/{name}.{svg|png|json}`: a chart of a link's sections, without a key. */
function registerSharedChartRoute(app: ApiApp, ctx: RouteContext): void {
  app.get(
    '/v1/share/:token/charts/:file',
    {
      schema: {
        summary: "A chart of a share link's report (no API key needed)",
        description:
          "The link's channel over the link's period, hourly for periods up to three days and daily beyond. " +
          'Only charts of sections the link includes: growth (growth), reach and views (reach), anomalies (anomalies), ' +
          'best-time (best_time); others are 404, as is a link that expired or was revoked.',
        tags: ['share'],
        security: [],
        params: ShareChartParams,
        querystring: Query.sharedChart,
        response: { 200: Chart, 400: ErrorBody, 401: ErrorBody, 404: ErrorBody, 429: ErrorBody },
      },
      // Not cached, as the report: a revoked link must stop working at once.
      config: { limitAnonymous: true },
    },
    async (req, reply) => {
      const { token, file } = req.params;
      const { name, format } = chartFile<keyof typeof SECTION_OF_CHART>(file);
      const timeZone = checkedTimeZone(req.query.tz);
      const resolved = await resolveShareToken(ctx.control, ctx.shareSecret, token, ctx.now());
      if (!resolved.ok) throw refusal(resolved);
      const { link } = resolved;
      if (!link.sections.includes(SECTION_OF_CHART[name])) {
        throw new ApiError(404, 'chart_not_shared', `this share link does not include the ${name} chart`);
      }
      const freshness = await ctx.freshness(link.channelId);
      if (freshness === null) throw unknownChannel(link.channelId);
      const granularity = reportGranularity(link);
      // The report's own series cover whole buckets of its granularity; the charts show the same.
      const period = alignPeriod(link, granularity);
      const spec = await drawChannelChart(ctx, {
        channelId: link.channelId,
        chart: name,
        period,
        granularity,
        timeZone,
        ...(req.query.width ? { width: req.query.width } : {}),
        ...(req.query.height ? { height: req.query.height } : {}),
      });
      return chartAnswer(reply, spec, { format, look: req.query.look }, answerMeta(freshness, period));
    },
  );
}
