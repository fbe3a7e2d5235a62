/**
 * The sizes part of `tgpulse status`: rows and bytes per warehouse table and
 * messages and bytes per stream, each with how long it keeps them. A side is
 * asked only when it runs (status never starts a server) and briefly (it must
 * not hang on a frozen one); when it cannot be read the answer says why, and
 * the rest of the status prints all the same.
 */
import {
  localServerConfig,
  openServerWarehouse,
  readTableSizes,
  type ServerWarehouseConfig,
  type TableSize,
} from '../clickhouse/index.ts';
import { readRunningWarehouse } from '../clickhouse/local-server/index.ts';
import { readStreamSizes, type StreamSize, tgpulseStreams } from '../streams/index.ts';
import type { CoreConfig } from './core-config.ts';

/** How long one side may take to answer. */
const TIMEOUT_MS = 3000;

/**
 * The warehouse tables' sizes, as the local server's `reader` or the
 * configured user; a sentence saying why when they cannot be read.
 */
export async function warehouseSizes(config: CoreConfig): Promise<TableSize[] | string> {
  const cfg = config.warehouse;
  if (cfg.driver === 'local' && readRunningWarehouse(cfg.dataDir) === null)
    return 'the local warehouse is not running (tgpulse up or tgpulse warehouse)';
  try {
    const server: ServerWarehouseConfig = cfg.driver === 'local' ? await localServerConfig(cfg, 'reader') : cfg;
    const wh = openServerWarehouse(
      { ...server, retry: { attempts: 1 }, requestTimeoutMs: TIMEOUT_MS },
      { concurrentLookups: false },
    );
    try {
      return await readTableSizes(wh);
    } finally {
      await wh.close();
    }
  } catch (err) {
    return `warehouse not readable: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** The tgpulse streams' sizes on the NATS at `url`; a sentence saying why when they cannot be read. */
export async function streamSizes(url: string | null): Promise<StreamSize[] | string> {
  if (url === null) return 'NATS is not running (tgpulse up, or set TGPULSE_NATS_URL)';
  try {
    return await readStreamSizes(url, tgpulseStreams(), { timeoutMs: TIMEOUT_MS });
  } catch (err) {
    return `NATS not readable: ${err instanceof Error ? err.message : String(err)}`;
  }
}
