/**
 * The table of `tgpulse` commands. Each command's module is imported only
 * when that command runs: between them they load gramjs, grammY, Vega, resvg,
 * the ClickHouse, NATS and Postgres clients, PGlite and Fastify, and a command
 * needs a few of them at most (`tgpulse --help` none).
 */
import type { CommandName } from './catalog.ts';
import type { Command } from './command.ts';

export { CATALOG, isCommandName, usage } from './catalog.ts';
export type { Command } from './command.ts';

export const COMMANDS: Record<CommandName, () => Promise<Command>> = {
  up: async () => (await import('./up.ts')).upCommand,
  status: async () => (await import('./status.ts')).statusCommand,
  warehouse: async () => (await import('./warehouse.ts')).warehouseCommand,
  process: async () => (await import('./process.ts')).processCommand,
  sink: async () => (await import('./sink.ts')).sinkCommand,
  worker: async () => (await import('./worker.ts')).workerCommand,
  api: async () => (await import('./api.ts')).apiCommand,
  bot: async () => (await import('./bot.ts')).botCommand,
  ingest: async () => (await import('./ingest.ts')).ingestCommand,
  simulate: async () => (await import('./simulate.ts')).simulateCommand,
  migrate: async () => (await import('./migrate.ts')).migrateCommand,
  query: async () => (await import('./query.ts')).queryCommand,
  detect: async () => (await import('./detect.ts')).detectCommand,
  apikey: async () => (await import('./apikey.ts')).apikeyCommand,
  alerts: async () => (await import('./alerts.ts')).alertsCommand,
  login: async () => (await import('./login.ts')).loginCommand,
  accounts: async () => (await import('./accounts.ts')).accountsCommand,
  channels: async () => (await import('./channels.ts')).channelsCommand,
  record: async () => (await import('./record.ts')).recordCommand,
  replay: async () => (await import('./replay.ts')).replayCommand,
  backup: async () => (await import('./backup.ts')).backupCommand,
  restore: async () => (await import('./restore.ts')).restoreCommand,
};
