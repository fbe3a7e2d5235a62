import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LocalWarehouse, readRunningWarehouse, warehouseDir } from '../../clickhouse/local-server/index.ts';
import {
  openServerWarehouse,
  localServerConfig,
  type ServerWarehouseConfig,
  type WarehouseConfig,
} from '../../clickhouse/index.ts';
import { silentLogger } from '../../observability/index.ts';
import { checkReadOnlySql } from '../read-only-sql.ts';
import { renderTable } from '../table.ts';
import type { Command } from './command.ts';

type LocalConfig = Extract<WarehouseConfig, { driver: 'local' }>;

/**
 * Runs `run` against the local warehouse as its read-only `reader`: the
 * running server of the data folder, or a temporary one on an existing data
 * folder. Never creates a data folder.
 */
async function withLocalReader<T>(cfg: LocalConfig, run: (server: ServerWarehouseConfig) => Promise<T>): Promise<T> {
  if (readRunningWarehouse(cfg.dataDir) !== null) return run(await localServerConfig(cfg, 'reader'));
  if (!existsSync(join(warehouseDir(cfg.dataDir), 'clickhouse'))) {
    throw new Error(
      `no tgpulse warehouse in ${cfg.dataDir}: nothing runs there and it holds no data. ` +
        'Start one with `tgpulse up` (or `tgpulse warehouse`), or point TGPULSE_DATA_DIR at the data folder of a running instance.',
    );
  }
  const server = await LocalWarehouse.start({ ...cfg, httpPort: 0, nativePort: 0, log: silentLogger });
  try {
    return await run(await localServerConfig(cfg, 'reader'));
  } finally {
    await server.stop();
  }
}

export const queryCommand: Command = {
  reads: 'core',
  async run(argv, config) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { format: { type: 'string', default: 'table' } },
    });
    if (values.format !== 'table' && values.format !== 'json') throw new Error('--format expects table or json');
    // A friendlier message for the obvious cases; the engine's read-only user is what enforces it.
    const sql = checkReadOnlySql(positionals.join(' '));
    const cfg = config.warehouse;
    const runOn = async (server: ServerWarehouseConfig) => {
      const wh = openServerWarehouse(server, { concurrentLookups: false });
      try {
        return await wh.query(sql);
      } finally {
        await wh.close();
      }
    };
    const rows = cfg.driver === 'local' ? await withLocalReader(cfg, runOn) : await runOn(cfg);
    process.stdout.write(values.format === 'json' ? `${JSON.stringify(rows, null, 2)}\n` : renderTable(rows));
    return 0;
  },
};
