import { parseArgs } from 'node:util';
import { Context, openWarehouseMigrated } from '../context.ts';
import { readInstance } from '../instance.ts';
import { checkReadOnlySql } from '../read-only-sql.ts';
import { renderTable } from '../table.ts';
import type { Command } from './command.ts';

/** Runs read-only SQL through the running instance's ops endpoint. */
async function queryRunning(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const res = await fetch(`${url}/query`, { method: 'POST', body: sql, headers: { 'content-type': 'text/plain' } });
  const body = (await res.json()) as { rows?: Record<string, unknown>[]; message?: string };
  if (!res.ok) throw new Error(body.message ?? `query failed with HTTP ${res.status}`);
  return body.rows ?? [];
}

export const queryCommand: Command = {
  summary: 'run read-only SQL on the warehouse and print a table (also while `tgpulse up` runs)',
  usage: 'tgpulse query "SELECT ..." [--format table|json]',
  async run(argv, config) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { format: { type: 'string', default: 'table' } } });
    if (values.format !== 'table' && values.format !== 'json') throw new Error('--format expects table or json');
    const sql = checkReadOnlySql(positionals.join(' '));
    const running = readInstance(config.dataDir);
    let rows: Record<string, unknown>[];
    if (running) {
      rows = await queryRunning(running.url, sql);
    } else {
      const ctx = new Context({ ...config, logLevel: 'warn' });
      try {
        const wh = await openWarehouseMigrated(ctx);
        rows = await wh.query(sql);
      } finally {
        await ctx.close();
      }
    }
    process.stdout.write(values.format === 'json' ? `${JSON.stringify(rows, null, 2)}\n` : renderTable(rows));
    return 0;
  },
};
