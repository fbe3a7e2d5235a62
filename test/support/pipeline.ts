/**
 * The whole pipeline in the test process: real NATS (a private server), a
 * real ClickHouse server (the local chDB-engine server), the same roles
 * `tgpulse up` runs.
 */
import { setMaxListeners } from 'node:events';
import { loadConfig, type TgpulseConfig } from '../../cli/config.ts';
import { Context, openNats, openWarehouseMigrated, type NatsContext } from '../../cli/context.ts';
import { runProcessRole, runSinkRole } from '../../cli/roles.ts';
import type { Warehouse } from '../../clickhouse/warehouse.ts';
import { sharedTestWarehouse, uniqueDatabase } from '../../clickhouse/testing.ts';
import { silentLogger } from '../../observability/log.ts';
import { PipelineMetrics } from '../../observability/metrics.ts';
import { rawEventPublisher, type EventPublisher } from '../../streams/publisher.ts';
import { waitIdle } from './idle.ts';

export interface TestPipeline {
  config: TgpulseConfig;
  /** The environment a `tgpulse` child process needs to join this pipeline's NATS and warehouse. */
  env: Record<string, string>;
  ctx: Context;
  nats: NatsContext;
  warehouse: Warehouse;
  publisher: EventPublisher;
  /** Starts the process and sink roles (not started by default, so tests can publish first). */
  startRoles(): void;
  /** Stops the roles (drain + checkpoint) but keeps NATS and the warehouse open. */
  stopRoles(): Promise<void>;
  /** Waits until every consumer has nothing pending or unacked, twice in a row. */
  waitIdle(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * The configuration of a test pipeline: under vitest the suite's shared
 * warehouse server with a database of its own; otherwise (benches) the data
 * folder's own local server on free ports.
 */
export function testConfig(env: Record<string, string>): TgpulseConfig {
  return loadConfig(testEnv(env));
}

/** The environment {@link testConfig} loads. */
function testEnv(env: Record<string, string>): Record<string, string> {
  const shared = sharedTestWarehouse();
  const warehouse: Record<string, string> = shared
    ? {
        TGPULSE_WAREHOUSE: 'server',
        TGPULSE_CLICKHOUSE_URL: shared.url,
        TGPULSE_CLICKHOUSE_USER: shared.username,
        TGPULSE_CLICKHOUSE_PASSWORD: shared.password,
        TGPULSE_CLICKHOUSE_DATABASE: uniqueDatabase('pipe'),
      }
    : { TGPULSE_WAREHOUSE_HTTP_PORT: '0', TGPULSE_WAREHOUSE_NATIVE_PORT: '0' };
  return { TGPULSE_LOG_LEVEL: 'silent', TGPULSE_HTTP_PORT: '0', ...warehouse, ...env };
}

export async function startPipeline(opts: {
  natsUrl: string;
  dataDir: string;
  env?: Record<string, string>;
  configure?: (c: TgpulseConfig) => void;
}): Promise<TestPipeline> {
  const env = testEnv({ TGPULSE_NATS_URL: opts.natsUrl, TGPULSE_DATA_DIR: opts.dataDir, ...opts.env });
  const config = loadConfig(env);
  opts.configure?.(config);
  const ctx = new Context(config, { log: silentLogger, metrics: new PipelineMetrics() });
  const nats = await openNats(ctx, { name: 'tgpulse-test' });
  const warehouse = await openWarehouseMigrated(ctx);
  const publisher = rawEventPublisher(nats.js, config.streams);
  let controller: AbortController | null = null;
  let running: Promise<unknown> | null = null;
  const pipeline: TestPipeline = {
    config,
    env,
    ctx,
    nats,
    warehouse,
    publisher,
    startRoles() {
      controller = new AbortController();
      setMaxListeners(100, controller.signal);
      running = Promise.all([
        runProcessRole(ctx, nats, controller.signal),
        runSinkRole(ctx, nats, warehouse, controller.signal),
      ]);
    },
    async stopRoles() {
      controller?.abort();
      await running;
      controller = null;
      running = null;
    },
    async waitIdle(timeoutMs = 120_000) {
      await waitIdle(nats.jsm, config.streams, timeoutMs);
    },
    async close() {
      await pipeline.stopRoles();
      if (config.warehouse.driver === 'server')
        await warehouse.exec(`DROP DATABASE IF EXISTS ${config.warehouse.database}`).catch(() => undefined);
      await ctx.close();
    },
  };
  return pipeline;
}
