/** What the API reads and how it is configured, and what every route is handed. */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type pg from 'pg';
import type { Registry } from 'prom-client';
import type { Warehouse } from '../clickhouse/index.ts';
import type { Logger } from '../observability/index.ts';
import type { ChannelFreshness } from '../read/index.ts';
import type { RawEvent } from '../streams/contract/index.ts';
import type { ApiConfig } from './config.ts';
import type { WebFiles } from './web-files.ts';

/** What the API reads and how it is configured. */
export interface ApiDeps {
  warehouse: Warehouse;
  /** The control plane: API keys and share links. */
  control: pg.Pool;
  shareSecret: Buffer;
  config: ApiConfig;
  log: Logger;
  /** prom-client registry the API's metrics join (the process's one). */
  registry: Registry;
  /** Clock of default periods and expiry (tests pin it). */
  now?: () => number;
  /** More routes on the same server, e.g. the bot's webhook. */
  routes?: Array<(app: FastifyInstance) => void>;
  /**
   * Publishes raw events to TG_RAW, resolving once the stream acked every one
   * and rejecting otherwise: where `POST /v1/events` sends what it accepts.
   * The API does not import the streams; the role that starts it (cli/)
   * hands it this. Absent, that route answers 503.
   */
  publish?: (events: readonly RawEvent[]) => Promise<void>;
}

/** The API's Fastify instance: routes take the types of their params, query, body and answers from their schemas. */
export type ApiApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** Everything a route needs. */
export interface RouteContext extends ApiDeps {
  now: () => number;
  /**
   * A channel's freshness, shared by the requests of the same few seconds:
   * every analytics answer needs it (see read/freshness-board.ts).
   */
  freshness(channelId: string): Promise<ChannelFreshness | null>;
  /** The built web app (`config.webRoot`), served at `/` and by share links. */
  web: WebFiles;
}
