import { parseArgs } from 'node:util';
import { takeBackup } from '../backup/take.ts';
import { Context } from '../context.ts';
import { CATALOG } from './catalog.ts';
import { planCommand, TERMINAL, UsageError } from './cli-io.ts';
import type { Command } from './command.ts';
import { formatBytes, formatMs } from '../../common/index.ts';

export const backupCommand: Command = {
  reads: 'full',
  async run(argv, config) {
    const planned = planCommand('backup', CATALOG.backup.usage, argv, TERMINAL, () => {
      const { values, positionals } = parseArgs({
        args: argv,
        allowPositionals: true,
        options: { base: { type: 'string' } },
      });
      if (positionals.length !== 1) throw new UsageError('expected one DIR to write the backup to');
      return { dir: positionals[0], base: values.base };
    });
    if ('exit' in planned) return planned.exit;
    const { dir, base } = planned.action;
    const ctx = new Context(config);
    try {
      const taken = await takeBackup(ctx, dir, base ? { base } : {});
      const m = taken.manifest;
      const lines = [
        `backup ${m.id} written to ${taken.dir} in ${formatMs(taken.ms)}: ${formatBytes(taken.bytes)} in ${m.files.length} files`,
        `  control plane: ${Object.values(m.control.tables).reduce((a, b) => a + b, 0)} rows in ${Object.keys(m.control.tables).length} tables`,
        ...m.streams.map((s) => `  stream ${s.name}: ${s.state.messages} messages, last sequence ${s.state.last_seq}`),
        `  warehouse: ${formatBytes(m.warehouse.total_bytes)} of data${m.base ? `, incremental over ${m.base.id}` : ''}`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
      return 0;
    } finally {
      await ctx.close();
    }
  },
};
