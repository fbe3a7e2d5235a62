import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { listAccounts } from '../../control/index.ts';
import { createLogger } from '../../observability/index.ts';
import { openControlFor } from '../control.ts';
import { collectorStatus, readStatus, renderStatus, statusNatsUrl } from '../status.ts';
import { streamSizes, warehouseSizes } from '../status-sizes.ts';
import type { Command } from './command.ts';

export const statusCommand: Command = {
  reads: 'core',
  async run(argv, config) {
    const { values } = parseArgs({ args: argv, options: { format: { type: 'string', default: 'text' } } });
    if (values.format !== 'text' && values.format !== 'json') throw new Error('--format expects text or json');
    const status = readStatus(config);
    // Asked while the control plane is read; each says why when its side cannot be read.
    const sizes = Promise.all([warehouseSizes(config), streamSizes(statusNatsUrl(config))]);
    // The collectors report their accounts' work to the control plane; a status without it still prints.
    const embeddedAbsent = config.control.driver === 'embedded' && !status.running && !existsSync(config.control.path);
    if (embeddedAbsent) status.collectors = 'no control plane yet (nothing has run on this data folder)';
    else
      try {
        const control = await openControlFor(config, createLogger('silent'));
        try {
          status.collectors = collectorStatus(await listAccounts(control.pool));
        } finally {
          await control.close();
        }
      } catch (err) {
        status.collectors = `control plane not readable: ${err instanceof Error ? err.message : String(err)}`;
      }
    [status.warehouse_tables, status.streams] = await sizes;
    process.stdout.write(values.format === 'json' ? `${JSON.stringify(status, null, 2)}\n` : renderStatus(status));
    return 0;
  },
};
