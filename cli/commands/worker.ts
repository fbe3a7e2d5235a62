import { Context, openNats, openWarehouseMigrated, startOps } from '../context.ts';
import { runProcessRole, runSinkRole, superviseRole } from '../roles.ts';
import { serveParent } from '../workers.ts';
import { lifecycle } from './lifecycle.ts';
import type { Command } from './command.ts';

export const workerCommand: Command = {
  reads: 'full',
  async run(_argv, config) {
    const ctx = new Context(config);
    const index = process.env.TGPULSE_WORKER_INDEX;
    // Under `up` every worker's metrics are served by the parent, told apart by this label.
    if (index !== undefined) ctx.metrics.registry.setDefaultLabels({ worker: index });
    const life = lifecycle(ctx);
    const letGo = process.send
      ? serveParent(
          () => ctx.metrics.registry.getMetricsAsJSON(),
          () => life.stop('the parent process is gone'),
        )
      : () => undefined;
    try {
      const nats = await openNats(ctx, { name: `tgpulse-worker${index ?? ''}` });
      const warehouse = await openWarehouseMigrated(ctx);
      await startOps(ctx);
      const roles = [
        superviseRole('process', runProcessRole(ctx, nats, life.signal), ctx, life.stop),
        superviseRole('sink', runSinkRole(ctx, nats, warehouse, life.signal), ctx, life.stop),
      ];
      const results = await Promise.allSettled(roles);
      return results.some((r) => r.status === 'rejected') ? 1 : 0;
    } finally {
      await ctx.close();
      life.dispose();
      letGo();
    }
  },
};
