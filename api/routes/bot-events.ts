/**
 * The custom events of a bot: `POST /v1/events` to send them (events.ts),
 * and `/v1/bots/{id}/…` to read them with a `read` key: events over time,
 * top events, DAU/WAU/MAU, weekly retention cohorts and one user's timeline.
 *
 * A bot id takes the place of a channel id (the events live under it), so a
 * key limited to some channels reads the bots among them only. An unknown
 * bot answers empty figures: until its first event, nothing tells it apart
 * from a bot that exists.
 */
import { type Static, type TObject, type TSchema, Type } from '@sinclair/typebox';
import { hashBotUserId, botUserSalt } from '../../control/index.ts';
import {
  botActiveUsers,
  BotActiveUsersPoint,
  botEventCounts,
  BotEventPoint,
  botRetention,
  BotRetentionCohort,
  BotTopEvent,
  BotUserEvent,
  botUserTimeline,
  Granularity,
  type Period,
  topBotEvents,
} from '../../read/index.ts';
import type { ApiApp, RouteContext } from '../context.ts';
import { ErrorBody } from '../errors.ts';
import { GranularityParam, PeriodQuery } from '../params.ts';
import { resolvePeriod } from '../period.ts';
import { registerEventIntake } from './events.ts';

const BotId = Type.String({ pattern: '^[1-9][0-9]{0,19}$', description: "the bot's Telegram id (decimal)" });
const BotParams = Type.Object({ id: BotId }, { additionalProperties: false });
const UserParams = Type.Object(
  {
    id: BotId,
    userId: Type.Integer({
      minimum: 1,
      maximum: Number.MAX_SAFE_INTEGER,
      description: 'the Telegram user id, as the bot sent it (the server hashes it to find the stored id)',
    }),
  },
  { additionalProperties: false },
);

const BotMeta = Type.Object({
  bot_id: Type.String(),
  from: Type.Number({ description: 'start of the period (epoch ms), inclusive' }),
  to: Type.Number({ description: 'end of the period (epoch ms), exclusive' }),
  generated_at: Type.Number(),
  granularity: Type.Optional(Granularity),
});

const Limit = (max: number, dflt: number) => Type.Optional(Type.Integer({ minimum: 1, maximum: max, default: dflt }));
const query = <P extends Record<string, TSchema>>(props: P) =>
  Type.Object({ ...PeriodQuery, ...props }, { additionalProperties: false });

const ERRORS = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 429: ErrorBody };
const DEFAULT_DAYS = 30;

interface BotRoute<P extends TObject, Q extends TObject, D extends TSchema> {
  /** Path after `/v1/bots/{id}`. */
  path: string;
  summary: string;
  params: P;
  querystring: Q;
  data: D;
  load(params: Static<P>, query: Static<Q>): Promise<{ period: Period; granularity?: Granularity; data: Static<D> }>;
}

/** A `GET /v1/bots/{id}/…` route: scope `read`, cached, `{ meta, data }`. */
function botRoute<P extends TObject, Q extends TObject, D extends TSchema>(
  app: ApiApp,
  ctx: RouteContext,
  route: BotRoute<P, Q, D>,
): void {
  // Answers typed by `load`, so Fastify need not type them again from the (generic) response schema.
  const schema: { summary: string; tags: string[]; params: P; querystring: Q; response: Record<number, TSchema> } = {
    summary: route.summary,
    tags: ['bots'],
    params: route.params,
    querystring: route.querystring,
    response: { 200: Type.Object({ meta: BotMeta, data: route.data }), ...ERRORS },
  };
  app.get(`/v1/bots/:id${route.path}`, { schema, config: { scope: 'read', cache: true } }, async (req) => {
    const params = req.params as Static<P> & { id: string };
    const loaded = await route.load(params, req.query as Static<Q>);
    const meta = {
      bot_id: params.id,
      ...loaded.period,
      generated_at: ctx.now(),
      ...(loaded.granularity ? { granularity: loaded.granularity } : {}),
    };
    return { meta, data: loaded.data };
  });
}

/** Registers `POST /v1/events` and the read routes of bots, sharing the salt of user ids. */
export function registerBotEventRoutes(app: ApiApp, ctx: RouteContext): void {
  const wh = ctx.warehouse;
  // Read when first needed and kept; a control-plane outage before then fails that request (503), not the start.
  let salt: Promise<Buffer> | null = null;
  const userSalt = () => {
    salt ??= botUserSalt(ctx.control).catch((err: unknown) => {
      salt = null;
      throw err;
    });
    return salt;
  };
  const period = (q: { from?: string; to?: string }, granularity?: Granularity, defaultDays = DEFAULT_DAYS) =>
    resolvePeriod(q, {
      now: ctx.now(),
      defaultDays,
      maxRangeDays: ctx.config.maxRangeDays,
      ...(granularity ? { granularity } : {}),
    });

  registerEventIntake(app, ctx, userSalt);

  botRoute(app, ctx, {
    path: '/events',
    summary: "A bot's events and distinct users per hour, day or week",
    params: BotParams,
    querystring: query({
      granularity: Type.Optional(GranularityParam),
      event: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'only events of this name' })),
    }),
    data: Type.Array(BotEventPoint),
    async load({ id }, q) {
      const granularity = q.granularity ?? 'day';
      const p = period(q, granularity);
      const data = await botEventCounts(wh, {
        bot_id: id,
        period: p,
        granularity,
        ...(q.event === undefined ? {} : { event: q.event }),
      });
      return { period: p, granularity, data };
    },
  });

  botRoute(app, ctx, {
    path: '/events/top',
    summary: "A bot's most frequent events",
    params: BotParams,
    querystring: query({ limit: Limit(100, 10) }),
    data: Type.Array(BotTopEvent),
    async load({ id }, q) {
      const p = period(q);
      return { period: p, data: await topBotEvents(wh, { bot_id: id, period: p, limit: q.limit ?? 10 }) };
    },
  });

  botRoute(app, ctx, {
    path: '/active-users',
    summary: "A bot's daily, weekly and monthly active users, per day",
    params: BotParams,
    querystring: query({}),
    data: Type.Array(BotActiveUsersPoint),
    async load({ id }, q) {
      const p = period(q, 'day');
      return { period: p, granularity: 'day', data: await botActiveUsers(wh, { bot_id: id, period: p }) };
    },
  });

  botRoute(app, ctx, {
    path: '/retention',
    summary: "A bot's weekly retention cohorts: users by the week of their first event, and who came back",
    params: BotParams,
    querystring: query({ weeks: Limit(26, 8) }),
    data: Type.Array(BotRetentionCohort),
    async load({ id }, q) {
      const p = period(q, 'week', 12 * 7);
      const data = await botRetention(wh, { bot_id: id, period: p, weeks: q.weeks ?? 8, now: ctx.now() });
      return { period: p, granularity: 'week', data };
    },
  });

  botRoute(app, ctx, {
    path: '/users/:userId/events',
    summary: "One user's events in a bot, newest first",
    params: UserParams,
    querystring: query({ limit: Limit(1000, 100) }),
    data: Type.Array(BotUserEvent),
    async load({ id, userId }, q) {
      const p = period(q);
      const user = hashBotUserId(await userSalt(), id, String(userId));
      return { period: p, data: await botUserTimeline(wh, { bot_id: id, user, period: p, limit: q.limit ?? 100 }) };
    },
  });
}
