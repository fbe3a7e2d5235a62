/**
 * Test support: a migrated warehouse of its own for a test file, over the
 * ClickHouse protocol like every role.
 *
 * Under vitest one local server runs for the whole suite (started by
 * `test/support/warehouse-global-setup.ts`, which publishes its address in
 * TGPULSE_TEST_WAREHOUSE), and each temp warehouse is a fresh database on it.
 * Outside vitest (benches) a local server is started for the temp warehouse
 * and stopped with it.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../observability/index.ts';
import { LocalWarehouse } from './local-server/index.ts';
import { migrate } from './migrate.ts';
import { createDatabaseIfMissing, openServerWarehouse } from './server.ts';
import type { ServerWarehouseConfig, Warehouse } from './warehouse.ts';

/** The shared test server's address, as the global setup publishes it. */
export const TEST_WAREHOUSE_ENV = 'TGPULSE_TEST_WAREHOUSE';

export interface SharedTestWarehouse {
  url: string;
  username: string;
  password: string;
  reader: { username: string; password: string };
}

export function sharedTestWarehouse(): SharedTestWarehouse | null {
  const raw = process.env[TEST_WAREHOUSE_ENV];
  return raw ? (JSON.parse(raw) as SharedTestWarehouse) : null;
}

/** A database name no other test uses. */
export function uniqueDatabase(prefix = 't'): string {
  return `${prefix}_${randomBytes(8).toString('hex')}`;
}

export interface TempWarehouse {
  wh: Warehouse;
  /** The connection, e.g. to open a second client. */
  config: ServerWarehouseConfig;
  /** Drop the database, close the connection (and stop the server started for it). */
  dispose(): Promise<void>;
}

/** A warehouse in a new database, migrated unless `migrated: false`. */
export async function openTempWarehouse(opts: { migrated?: boolean } = {}): Promise<TempWarehouse> {
  const shared = sharedTestWarehouse();
  let own: { server: LocalWarehouse; dir: string } | null = null;
  let base: Omit<ServerWarehouseConfig, 'database'>;
  if (shared) base = { driver: 'server', url: shared.url, username: shared.username, password: shared.password };
  else {
    const dir = mkdtempSync(join(tmpdir(), 'tgpulse-ch-'));
    const server = await LocalWarehouse.start({
      dataDir: dir,
      database: 'tgpulse',
      httpPort: 0,
      nativePort: 0,
      log: silentLogger,
    });
    own = { server, dir };
    base = { driver: 'server', url: server.httpUrl, ...server.users.writer };
  }
  const config: ServerWarehouseConfig = { ...base, database: uniqueDatabase() };
  await createDatabaseIfMissing(config);
  const wh = openServerWarehouse(config);
  if (opts.migrated !== false) await migrate(wh);
  return {
    wh,
    config,
    async dispose() {
      await wh.exec(`DROP DATABASE IF EXISTS ${config.database}`).catch(() => undefined);
      await wh.close();
      if (own) {
        await own.server.stop();
        rmSync(own.dir, { recursive: true, force: true });
      }
    },
  };
}
