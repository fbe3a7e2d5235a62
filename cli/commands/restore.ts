import { restoreBackup } from '../backup/restore.ts';
import { Context } from '../context.ts';
import { CATALOG } from './catalog.ts';
import { planCommand, TERMINAL, UsageError } from './cli-io.ts';
import type { Command } from './command.ts';
import { formatBytes, formatMs } from '../../common/index.ts';

export const restoreCommand: Command = {
  reads: 'full',
  async run(argv, config) {
    const planned = planCommand('restore', CATALOG.restore.usage, argv, TERMINAL, () => {
      if (argv.length !== 1 || argv[0].startsWith('-')) throw new UsageError('expected one backup DIR to restore from');
      return { dir: argv[0] };
    });
    if ('exit' in planned) return planned.exit;
    const ctx = new Context(config);
    try {
      const restored = await restoreBackup(ctx, planned.action.dir);
      const lines = [
        `backup ${restored.id} restored into ${config.dataDir} in ${formatMs(restored.ms)}`,
        ...restored.streams.map((s) => `  stream ${s.name}: ${s.messages} messages`),
        `  warehouse: ${formatBytes(restored.warehouseBytes)} of data`,
        `  control plane: ${Object.values(restored.controlRows).reduce((a, b) => a + b, 0)} rows`,
        'start it with `tgpulse up`: every role resumes where the backup left it',
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
      return 0;
    } finally {
      await ctx.close();
    }
  },
};
