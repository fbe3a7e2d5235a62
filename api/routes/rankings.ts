/**
 * `/v1/rankings` and `/v1/channels/{id}/citations`: the channels of the
 * corpus ranked by citation index, growth or ERR, and one channel's
 * citations in both directions (read/models/rankings.ts, citations.ts).
 *
 * Both answers depend on the API key: a key limited to some channels ranks
 * only those and sees only those among who cites whom, so both are cached
 * per key. Citations by username are resolved with the usernames of the
 * control plane's tracked channels.
 */
import { Type } from '@sinclair/typebox';
import { listChannels as listTrackedChannels } from '../../control/index.ts';
import {
  answerMeta,
  type ChannelHandle,
  ChannelCitations,
  channelCitations,
  RankedChannel,
  rankChannels,
  RANKINGS,
  type RankingBy,
} from '../../read/index.ts';
import { DAY_MS } from '../../common/index.ts';
import type { ApiApp, RouteContext } from '../context.ts';
import { ErrorBody, invalidParameter, unknownChannel } from '../errors.ts';
import { ChannelParams, Query } from '../params.ts';
import { resolvePeriod } from '../period.ts';
import { answer } from '../schemas.ts';

const DEFAULT_PERIOD = '30d';

const RankingsQuery = Type.Object(
  {
    // An enum rather than a union of literals: a wrong value is refused naming the allowed ones.
    by: Type.Unsafe<RankingBy>(
      Type.String({
        enum: [...RANKINGS],
        description: 'citations: citation index; growth: net subscriber change; err: engagement rate by reach',
      }),
    ),
    period: Type.Optional(
      Type.String({
        maxLength: 8,
        default: DEFAULT_PERIOD,
        description: 'the days before now the ranking covers, as <days>d: 7d, 30d, 90d',
      }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })),
  },
  { additionalProperties: false },
);

/** Days of a `period` parameter (`30d`); a 400 naming it otherwise. */
function periodDays(value: string, maxDays: number): number {
  const m = /^([1-9][0-9]{0,4})d$/.exec(value);
  if (!m) throw invalidParameter('period', `expected a number of days such as 7d or 30d, got ${JSON.stringify(value)}`);
  const days = Number(m[1]);
  if (days > maxDays) throw invalidParameter('period', `may span at most ${maxDays} days, got ${days}d`);
  return days;
}

/** Usernames of the tracked channels, removed ones too (their citations stay in the warehouse). */
async function channelHandles(ctx: RouteContext): Promise<ChannelHandle[]> {
  const tracked = await listTrackedChannels(ctx.control, { includeRemoved: true });
  return tracked.flatMap((c) => (c.username === null ? [] : [{ channel_id: c.channelId, username: c.username }]));
}

const ERRORS = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 429: ErrorBody };

/** Register `GET /v1/rankings` and `GET /v1/channels/:id/citations` (app.ts does, with the other routes). */
export function registerRankingRoutes(app: ApiApp, ctx: RouteContext): void {
  const wh = ctx.warehouse;

  app.get(
    '/v1/rankings',
    {
      schema: {
        summary: 'Channels ranked by citation index, subscriber growth or ERR over the days before now',
        description:
          'Citation index: Σ over citing channels of log10(10 + subscribers) × (1 + ln posts citing). ' +
          'A key limited to some channels ranks only those.',
        tags: ['rankings'],
        querystring: RankingsQuery,
        response: {
          200: Type.Object({
            meta: Type.Object({
              by: Type.String(),
              from: Type.Number(),
              to: Type.Number(),
              total: Type.Integer({ description: 'channels ranked' }),
              limit: Type.Integer(),
              generated_at: Type.Number(),
            }),
            data: Type.Array(RankedChannel),
          }),
          400: ErrorBody,
          401: ErrorBody,
          403: ErrorBody,
          429: ErrorBody,
        },
      },
      config: { scope: 'read', cache: true, perKey: true },
    },
    async (req) => {
      const days = periodDays(req.query.period ?? DEFAULT_PERIOD, ctx.config.maxRangeDays);
      const limit = req.query.limit ?? 50;
      const now = ctx.now();
      const period = { from: now - days * DAY_MS, to: now };
      const ranked = await rankChannels(wh, {
        by: req.query.by,
        period,
        ids: req.apiKey?.channels ?? null,
        handles: req.query.by === 'citations' ? await channelHandles(ctx) : [],
        limit,
      });
      return {
        meta: { by: req.query.by, ...period, total: ranked.total, limit, generated_at: now },
        data: ranked.channels,
      };
    },
  );

  app.get(
    '/v1/channels/:id/citations',
    {
      schema: {
        summary: 'Who cites the channel and whom it cites (forwards and mentions), with its citation index',
        description:
          'Counts posts published in the period. A key limited to some channels sees only those in the lists; ' +
          'the inbound figures count every citing channel.',
        tags: ['channels'],
        params: ChannelParams,
        querystring: Query.period,
        response: { 200: answer(ChannelCitations), ...ERRORS },
      },
      config: { scope: 'read', cache: true, perKey: true },
    },
    async (req) => {
      const channelId = req.params.id;
      const freshness = await ctx.freshness(channelId);
      if (freshness === null) throw unknownChannel(channelId);
      const period = resolvePeriod(req.query, {
        now: ctx.now(),
        defaultDays: 30,
        maxRangeDays: ctx.config.maxRangeDays,
      });
      const data = await channelCitations(wh, {
        channel_id: channelId,
        period,
        handles: await channelHandles(ctx),
        visible: req.apiKey?.channels ?? null,
      });
      return { meta: answerMeta(freshness, period), data };
    },
  );
}
