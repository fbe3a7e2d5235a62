import { Context, openWarehouseMigrated, startOps } from '../context.ts';
import { lifecycle } from './lifecycle.ts';
import type { Command } from './command.ts';

/** Runs the data folder's local warehouse server alone, migrated, until SIGTERM. */
export const warehouseCommand: Command = {
  reads: 'full',
  async run(_argv, config) {
    if (config.warehouse.driver !== 'local')
      throw new Error('tgpulse warehouse runs the local server: TGPULSE_WAREHOUSE is not local');
    const ctx = new Context(config);
    const life = lifecycle(ctx);
    try {
      await openWarehouseMigrated(ctx);
      await startOps(ctx);
      const server = ctx.localWarehouse;
      if (server === null) throw new Error(`a local warehouse already runs on ${config.dataDir}: see tgpulse status`);
      ctx.log.info(
        { http: server.httpUrl, native_port: server.nativePort, reader_password_file: server.readerPasswordFile },
        'local warehouse serving; stop with Ctrl-C',
      );
      await new Promise<void>((resolve) => life.signal.addEventListener('abort', () => resolve(), { once: true }));
      return 0;
    } finally {
      await ctx.close();
      life.dispose();
    }
  },
};
