/**
 * The REST API as an attacker meets it: the real server over HTTP, on data
 * the real pipeline produced (read-side.ts), with a control plane of its own
 * and keys of every kind: complete, read-only, limited to one channel, and
 * revoked. Used by the fault suite's fuzz and access tests.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { createApiKey, revokeApiKey, type ApiScope } from '../../control/api-keys.ts';
import { openControlPlane, type ControlPlane } from '../../control/postgres.ts';
import { freshTestControl, type TestControl } from '../../control/testing.ts';
import { startApiServer, type ApiServer } from '../../api/server.ts';
import { apiEventPublisher } from '../../cli/serving-roles.ts';
import { silentLogger } from '../../observability/log.ts';
import { HOUR_MS } from '../../common/index.ts';
import { produceReadSideData, type ReadSideData } from './read-side.ts';
import { signInitData } from './telegram-init-data.ts';

/** The API's configuration for tests that start it on a free loopback port, unthrottled and uncached. */
export const LOOPBACK_API_CONFIG = {
  host: '127.0.0.1',
  port: 0,
  ratePerMinute: 100_000,
  cacheSeconds: 0,
  maxRangeDays: 400,
  corsOrigins: [],
};

/**
 * The API's limits in the tests: a rate high enough that they meet validation and
 * access rules, not the rate limit; the answer cache on, as in production.
 */
const API_LIMITS = { ratePerMinute: 1_000_000, cacheSeconds: 30, maxRangeDays: 400, corsOrigins: [] };

/** The bot token the target checks Mini App initData with. */
const TARGET_BOT_TOKEN = '7000000003:AAH-api_target_bot_token';

/** Tokens of the keys a target is started with. */
export interface TargetKeys {
  /** Every scope, every channel. */
  all: string;
  /** `read` only. */
  readOnly: string;
  /** `read`, `export` and `share`, but only for `channels[0]`. */
  oneChannel: string;
  /** Had every scope; revoked before the test starts. */
  revoked: string;
}

export interface ApiTarget {
  api: ApiServer;
  data: ReadSideData;
  control: ControlPlane;
  /** Channels with data, sorted. */
  channels: string[];
  keys: TargetKeys;
  /** A key of its own with exactly these scopes (and channels). */
  key(scopes: ApiScope[], channels?: string[]): Promise<string>;
  /** Mini App initData of this Telegram user, signed with the target's bot token a minute before its clock. */
  initData(userId: number): string;
  close(): Promise<void>;
}

/** A built web app of one page and one script, as scripts/build-web.sh lays it out, in a folder of its own. */
async function builtWebApp(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'tgpulse-target-web-'));
  await mkdir(join(root, 'assets'));
  await writeFile(
    join(root, 'index.html'),
    '<!doctype html><script type="module" src="/assets/index-1a2b.js"></script>',
  );
  await writeFile(join(root, 'assets', 'index-1a2b.js'), 'export {};');
  return root;
}

/** Starts the pipeline on a few simulated channels, then the API (and a built web app) over its tables. */
export async function startApiTarget(opts: { channels: number; days: number; seed: number }): Promise<ApiTarget> {
  const data = await produceReadSideData({ ...opts, start: Date.UTC(2026, 2, 2) });
  let testControl: TestControl | null = null;
  let control: ControlPlane | null = null;
  const webRoot = await builtWebApp();
  try {
    testControl = await freshTestControl('embedded');
    control = await openControlPlane(testControl.config);
    const pool = control.pool;
    // The clock stands just after the data, so default periods (the last 30 days) cover it.
    const clock = data.end + HOUR_MS;
    const api = await startApiServer({
      warehouse: data.pipe.warehouse,
      control,
      controlConfig: testControl.config,
      config: {
        host: '127.0.0.1',
        port: 0,
        ...API_LIMITS,
        webRoot,
        webApp: { botToken: TARGET_BOT_TOKEN, maxAgeSeconds: 3600 },
      },
      log: silentLogger,
      registry: new Registry(),
      now: () => clock,
      publish: apiEventPublisher(data.pipe.nats.js, data.pipe.ctx),
    });
    const key = async (scopes: ApiScope[], channels?: string[]) =>
      (await createApiKey(pool, { name: `test ${scopes.join('+')}`, scopes, ...(channels ? { channels } : {}) })).token;
    const all: ApiScope[] = ['read', 'export', 'share', 'track'];
    const revoked = await createApiKey(pool, { name: 'revoked', scopes: all });
    await revokeApiKey(pool, revoked.key.id);
    const keys: TargetKeys = {
      all: await key(all),
      readOnly: await key(['read']),
      oneChannel: await key(all, [data.channels[0]]),
      revoked: revoked.token,
    };
    const opened = { control, testControl };
    return {
      api,
      data,
      control,
      channels: data.channels,
      keys,
      key,
      initData: (userId) =>
        signInitData(TARGET_BOT_TOKEN, {
          user: { id: userId, first_name: `user${userId}` },
          authDateSeconds: Math.floor(clock / 1000) - 60,
        }),
      async close() {
        await api.close();
        await opened.control.close();
        await opened.testControl.dispose();
        await data.close();
        await rm(webRoot, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await control?.close();
    await testControl?.dispose();
    await data.close();
    await rm(webRoot, { recursive: true, force: true });
    throw err;
  }
}

/** The OpenAPI document the server serves, as far as the tests read it. */
export interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
}

export interface OpenApiOperation {
  parameters?: OpenApiParameter[];
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
  /** `[]` on operations that need no key. */
  security?: unknown[];
}

export interface OpenApiParameter {
  in: 'path' | 'query' | 'header';
  name: string;
  required?: boolean;
  schema: JsonSchema;
}

export interface JsonSchema {
  type?: string;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
}

/** Fetches /docs/openapi.json from the running API. */
export async function openApiDocument(baseUrl: string): Promise<OpenApiDocument> {
  const res = await fetch(`${baseUrl}/docs/openapi.json`);
  if (res.status !== 200) throw new Error(`GET /docs/openapi.json: ${res.status}`);
  return (await res.json()) as OpenApiDocument;
}

/** Every operation of the document as method and path template, e.g. `GET /v1/channels/{id}/growth`. */
export function operationsOf(doc: OpenApiDocument): Array<{ method: string; path: string; op: OpenApiOperation }> {
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ method: method.toUpperCase(), path, op })),
  );
}

/** True when a body is the API's one error shape (api/errors.ts) for this status. */
export function isErrorShape(body: unknown, status: number): boolean {
  if (typeof body !== 'object' || body === null || !('error' in body)) return false;
  const e = (body as { error: unknown }).error as Record<string, unknown> | null;
  return (
    typeof e === 'object' &&
    e !== null &&
    e.status === status &&
    typeof e.code === 'string' &&
    e.code.length > 0 &&
    typeof e.message === 'string' &&
    (e.details === undefined || (typeof e.details === 'object' && e.details !== null))
  );
}
