import { parseArgs } from 'node:util';
import { readStatus, renderStatus } from '../status.ts';
import type { Command } from './command.ts';

export const statusCommand: Command = {
  reads: 'core',
  async run(argv, config) {
    const { values } = parseArgs({ args: argv, options: { format: { type: 'string', default: 'text' } } });
    if (values.format !== 'text' && values.format !== 'json') throw new Error('--format expects text or json');
    const status = readStatus(config);
    process.stdout.write(values.format === 'json' ? `${JSON.stringify(status, null, 2)}\n` : renderStatus(status));
    return 0;
  },
};
