import { Context, openWarehouseMigrated } from '../context.ts';
import { openControlRole, superviseRole, untilAborted } from '../roles.ts';
import { startApiRole } from '../serving-roles.ts';
import { lifecycle } from './lifecycle.ts';
import type { Command } from './command.ts';

export const apiCommand: Command = {
  reads: 'full',
  async run(_argv, config) {
    const ctx = new Context(config);
    const life = lifecycle(ctx);
    try {
      const warehouse = await openWarehouseMigrated(ctx);
      await startApiRole(ctx, warehouse, await openControlRole(ctx));
      await superviseRole('api', untilAborted(life.signal), ctx, life.stop);
      return 0;
    } finally {
      await ctx.close();
      life.dispose();
    }
  },
};
