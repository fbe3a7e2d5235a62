/**
 * vitest global setup: one local ClickHouse server (the chDB engine, as
 * `tgpulse up` runs it) for the whole suite. Test files get databases of
 * their own on it (clickhouse/testing.ts, test/support/pipeline.ts); tests
 * that kill or restart a warehouse start their own.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalWarehouse } from '../../clickhouse/local-server/server.ts';
import { TEST_WAREHOUSE_ENV, type SharedTestWarehouse } from '../../clickhouse/testing.ts';
import { silentLogger } from '../../observability/log.ts';

export default async function setup(): Promise<() => Promise<void>> {
  const dir = mkdtempSync(join(tmpdir(), 'tgpulse-suite-ch-'));
  const server = await LocalWarehouse.start({
    dataDir: dir,
    database: 'tgpulse',
    httpPort: 0,
    nativePort: 0,
    log: silentLogger,
  });
  const shared: SharedTestWarehouse = { url: server.httpUrl, ...server.users.writer, reader: server.users.reader };
  // Test workers are forked after this and inherit the environment.
  process.env[TEST_WAREHOUSE_ENV] = JSON.stringify(shared);
  return async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
