/** The table of `tgpulse` commands. */
import type { Command } from './command.ts';
import { accountsCommand } from './accounts.ts';
import { apikeyCommand } from './apikey.ts';
import { apiCommand } from './api.ts';
import { botCommand } from './bot.ts';
import { channelsCommand } from './channels.ts';
import { detectCommand } from './detect.ts';
import { ingestCommand } from './ingest.ts';
import { loginCommand } from './login.ts';
import { migrateCommand } from './migrate.ts';
import { processCommand } from './process.ts';
import { queryCommand } from './query.ts';
import { recordCommand } from './record.ts';
import { replayCommand } from './replay.ts';
import { simulateCommand } from './simulate.ts';
import { sinkCommand } from './sink.ts';
import { statusCommand } from './status.ts';
import { upCommand } from './up.ts';
import { warehouseCommand } from './warehouse.ts';
import { workerCommand } from './worker.ts';

export const COMMANDS: Record<string, Command> = {
  up: upCommand,
  status: statusCommand,
  warehouse: warehouseCommand,
  process: processCommand,
  sink: sinkCommand,
  worker: workerCommand,
  api: apiCommand,
  bot: botCommand,
  ingest: ingestCommand,
  simulate: simulateCommand,
  migrate: migrateCommand,
  query: queryCommand,
  detect: detectCommand,
  apikey: apikeyCommand,
  login: loginCommand,
  accounts: accountsCommand,
  channels: channelsCommand,
  record: recordCommand,
  replay: replayCommand,
};

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}\n      ${c.usage}`);
  return `usage: tgpulse <command> [options]\n\n${lines.join('\n')}\n\nConfiguration comes from TGPULSE_* environment variables (see README).\n`;
}
