import { parseArgs } from 'node:util';
import { Context, openNats, startOps } from '../context.ts';
import { runProcessRole, superviseRole } from '../roles.ts';
import { lifecycle, parseIntList } from './lifecycle.ts';
import type { Command } from './command.ts';

export const processCommand: Command = {
  reads: 'full',
  async run(argv, config) {
    const { values } = parseArgs({ args: argv, options: { partitions: { type: 'string' } } });
    const partitions = parseIntList(values.partitions, 'partitions', config.streams.partitions);
    const ctx = new Context(config);
    const life = lifecycle(ctx);
    try {
      const nats = await openNats(ctx, { name: 'tgpulse-process' });
      await startOps(ctx);
      await superviseRole('process', runProcessRole(ctx, nats, life.signal, partitions), ctx, life.stop);
      return 0;
    } finally {
      await ctx.close();
      life.dispose();
    }
  },
};
