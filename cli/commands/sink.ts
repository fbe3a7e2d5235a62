import { parseArgs } from 'node:util';
import { Context, openNats, openWarehouseMigrated, startOps } from '../context.ts';
import { runSinkRole, superviseRole } from '../roles.ts';
import { lifecycle } from './lifecycle.ts';
import { rewindSinks, type SinkSource } from '../../sinks/index.ts';
import type { Command } from './command.ts';

const SOURCES: readonly SinkSource[] = ['raw', 'derived', 'dlq'];

export const sinkCommand: Command = {
  reads: 'full',
  async run(argv, config) {
    const { values } = parseArgs({
      args: argv,
      options: { sources: { type: 'string', default: SOURCES.join(',') }, rewind: { type: 'boolean', default: false } },
    });
    const sources = values.sources!.split(',').map((s) => s.trim()) as SinkSource[];
    const bad = sources.find((s) => !SOURCES.includes(s));
    if (bad) throw new Error(`--sources expects a list of ${SOURCES.join(', ')}; got ${JSON.stringify(bad)}`);
    const ctx = new Context(config);
    const life = lifecycle(ctx);
    try {
      const nats = await openNats(ctx, { name: 'tgpulse-sink' });
      const warehouse = await openWarehouseMigrated(ctx);
      // --rewind: write again everything the streams still keep (idempotent), e.g. into a new warehouse.
      if (values.rewind) await rewindSinks(nats.jsm, config.streams, sources);
      await startOps(ctx);
      await superviseRole('sink', runSinkRole(ctx, nats, warehouse, life.signal, sources), ctx, life.stop);
      return 0;
    } finally {
      await ctx.close();
      life.dispose();
    }
  },
};
