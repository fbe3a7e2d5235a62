/**
 * The shape shared by every `/v1/channels/{id}/…` analytics route: the
 * channel must be known (404 otherwise), the answer is `{ meta, data }` with
 * the freshness block, and series routes also answer as CSV, at `….csv` or
 * with `Accept: text/csv`.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { type Static, type TObject, type TSchema, Type } from '@sinclair/typebox';
import type { FastifyRequest, RawRequestDefaultExpression, RawServerDefault, RouteGenericInterface } from 'fastify';
import {
  toCsv,
  type CsvColumn,
  type CsvRow,
  answerMeta,
  type ChannelFreshness,
  type Granularity,
  type Period,
} from '../../read/index.ts';
import type { ApiApp, RouteContext } from '../context.ts';
import { ErrorBody, unknownChannel } from '../errors.ts';
import { Memo } from '../memo.ts';
import { channelIdOf } from '../params.ts';
import { answer } from '../schemas.ts';

export interface Loaded<D> {
  period: Period;
  granularity?: Granularity;
  data: D;
}

/**
 * A channel route's schema as Fastify takes it. Its answers are typed by the
 * route's `data` (what `load` returns), so Fastify need not type them again.
 */
interface ChannelSchema<P extends TObject, Q extends TObject> {
  summary: string;
  description?: string;
  tags: string[];
  params: P;
  querystring: Q;
  response: Record<number, TSchema>;
}

/** A channel route's request, its params and query typed from their schemas by the TypeBox provider. */
type ChannelRequest<P extends TObject, Q extends TObject> = FastifyRequest<
  RouteGenericInterface,
  RawServerDefault,
  RawRequestDefaultExpression,
  ChannelSchema<P, Q>,
  TypeBoxTypeProvider
>;

export interface ChannelRoute<P extends TObject, Q extends TObject, D extends TSchema> {
  /** Path after `/v1/channels/{id}`, e.g. `/growth`. */
  path: string;
  summary: string;
  description?: string;
  params: P;
  querystring: Q;
  /** The read model's answer schema: it serializes and documents `data`. */
  data: D;
  /**
   * The answer depends on the caller's channel allow-list (it names other
   * channels): cached and computed per key, and `load` filters by `visible`.
   */
  perKey?: boolean;
  load(input: {
    channelId: string;
    /** The channels the caller's key may see; null for every channel. */
    visible: readonly string[] | null;
    params: ChannelRequest<P, Q>['params'];
    query: ChannelRequest<P, Q>['query'];
    freshness: ChannelFreshness;
  }): Promise<Loaded<Static<D>>>;
  /** Rows and columns of the CSV form; routes without it answer JSON only. */
  csv?: (data: Static<D>) => { rows: CsvRow[]; columns: CsvColumn[] };
}

const ERRORS = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 429: ErrorBody };

/** Register a channel route (and its `.csv` twin). */
export function channelRoute<P extends TObject, Q extends TObject, D extends TSchema>(
  app: ApiApp,
  ctx: RouteContext,
  route: ChannelRoute<P, Q, D>,
): void {
  const url = `/v1/channels/:id${route.path}`;
  // Identical requests in flight at once share one computation (e.g. when a popular cache entry expires).
  const inFlight = new Memo<Loaded<Static<D>>>(0);
  const handler = async (
    req: ChannelRequest<P, Q>,
    reply: { type(t: string): unknown; header(k: string, v: string): unknown },
  ) => {
    // Always there: the path is `/v1/channels/:id…`, validated by the schema (TypeScript cannot see through generic P).
    const channelId = channelIdOf(req.params) ?? '';
    const freshness = await ctx.freshness(channelId);
    if (freshness === null) throw unknownChannel(channelId);
    const visible = req.apiKey?.channels ?? null;
    const load = () => route.load({ channelId, visible, params: req.params, query: req.query, freshness });
    const caller = route.perKey ? (req.apiKey?.id ?? '') : '';
    const loaded = await inFlight.get(`${req.url}|${req.wantsCsv}|${caller}`, load);
    const meta = {
      ...answerMeta(freshness, loaded.period),
      ...(loaded.granularity ? { granularity: loaded.granularity } : {}),
    };
    if (req.wantsCsv && route.csv) {
      const { rows, columns } = route.csv(loaded.data);
      const name = `${channelId}${route.path.replace(/[^a-z0-9]+/gi, '-')}.csv`;
      reply.type('text/csv; charset=utf-8');
      reply.header('content-disposition', `attachment; filename="${name}"`);
      return toCsv(rows, columns);
    }
    return { meta, data: loaded.data };
  };
  const schema: ChannelSchema<P, Q> = {
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: ['channels'],
    params: route.params,
    querystring: route.querystring,
    response: { 200: answer(route.data), ...ERRORS },
  };
  app.get(
    url,
    {
      schema,
      config: {
        scope: 'read',
        cache: true,
        ...(route.perKey ? { perKey: true } : {}),
        ...(route.csv ? { csv: 'negotiate' as const } : {}),
      },
    },
    handler,
  );
  if (route.csv) {
    const csvSchema: ChannelSchema<P, Q> = {
      ...schema,
      summary: `${route.summary} (CSV)`,
      response: { 200: Type.String({ description: 'text/csv' }), ...ERRORS },
    };
    app.get(
      `${url}.csv`,
      {
        schema: csvSchema,
        config: { scope: 'read', cache: true, csv: 'always', ...(route.perKey ? { perKey: true } : {}) },
      },
      handler,
    );
  }
}
