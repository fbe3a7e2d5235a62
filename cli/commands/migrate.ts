import { Context, openWarehouseMigrated } from '../context.ts';
import type { Command } from './command.ts';

export const migrateCommand: Command = {
  reads: 'full',
  async run(_argv, config) {
    const ctx = new Context(config);
    try {
      await openWarehouseMigrated(ctx);
      process.stdout.write('migrations are up to date\n');
      return 0;
    } finally {
      await ctx.close();
    }
  },
};
