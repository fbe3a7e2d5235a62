/**
 * The shape shared by every `/v1/channels/{id}/…` analytics route: the
 * channel must be known (404 otherwise), the answer is `{ meta, data }` with
 * the freshness block, and series routes also answer as CSV, at `….csv` or
 * with `Accept: text/csv`.
 */
import type { FastifyInstance } from 'fastify';
import type { Static, TObject, TSchema } from '@sinclair/typebox';
import { toCsv, type CsvColumn, type CsvRow } from '../../read/index.ts';
import { answerMeta, type ChannelFreshness } from '../../read/index.ts';
import type { Granularity, Period } from '../../read/index.ts';
import type { RouteContext } from '../context.ts';
import { ErrorBody, unknownChannel } from '../errors.ts';
import { answer } from '../schemas.ts';

export interface Loaded<D> {
  period: Period;
  granularity?: Granularity;
  data: D;
}

export interface ChannelRoute<P extends TObject, Q extends TObject, D extends TSchema> {
  /** Path after `/v1/channels/{id}`, e.g. `/growth`. */
  path: string;
  summary: string;
  description?: string;
  params: P;
  querystring: Q;
  data: D;
  load(input: {
    channelId: string;
    params: Static<P>;
    query: Static<Q>;
    freshness: ChannelFreshness;
  }): Promise<Loaded<Static<D>>>;
  /** Rows and columns of the CSV form; routes without it answer JSON only. */
  csv?: (data: Static<D>) => { rows: CsvRow[]; columns: CsvColumn[] };
}

const ERRORS = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 429: ErrorBody };

/** Register a channel route (and its `.csv` twin). */
export function channelRoute<P extends TObject, Q extends TObject, D extends TSchema>(
  app: FastifyInstance,
  ctx: RouteContext,
  route: ChannelRoute<P, Q, D>,
): void {
  const url = `/v1/channels/:id${route.path}`;
  const handler = async (
    req: { params: unknown; query: unknown; wantsCsv: boolean; url: string },
    reply: { type(t: string): unknown; header(k: string, v: string): unknown },
  ) => {
    const params = req.params as Static<P> & { id: string };
    const freshness = await ctx.freshness(params.id);
    if (freshness === null) throw unknownChannel(params.id);
    const load = () => route.load({ channelId: params.id, params, query: req.query as Static<Q>, freshness });
    const loaded = (await ctx.inFlight.get(`${req.url}|${req.wantsCsv}`, load)) as Loaded<Static<D>>;
    const meta = {
      ...answerMeta(freshness, loaded.period),
      ...(loaded.granularity ? { granularity: loaded.granularity } : {}),
    };
    if (req.wantsCsv && route.csv) {
      const { rows, columns } = route.csv(loaded.data);
      const name = `${params.id}${route.path.replace(/[^a-z0-9]+/gi, '-')}.csv`;
      reply.type('text/csv; charset=utf-8');
      reply.header('content-disposition', `attachment; filename="${name}"`);
      return toCsv(rows, columns);
    }
    return { meta, data: loaded.data };
  };
  const schema = {
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: ['channels'],
    params: route.params,
    querystring: route.querystring,
    response: { 200: answer(route.data), ...ERRORS },
  };
  app.get(
    url,
    { schema, config: { scope: 'read', cache: true, ...(route.csv ? { csv: 'negotiate' as const } : {}) } },
    handler,
  );
  if (route.csv) {
    app.get(
      `${url}.csv`,
      {
        schema: {
          ...schema,
          summary: `${route.summary} (CSV)`,
          response: { 200: { type: 'string', description: 'text/csv' }, ...ERRORS },
        },
        config: { scope: 'read', cache: true, csv: 'always' },
      },
      handler,
    );
  }
}
