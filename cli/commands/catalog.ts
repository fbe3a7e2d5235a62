/**
 * What each `tgpulse` command is for and how it is called: the text of
 * `tgpulse --help`, apart from the commands' code so that printing it loads
 * no command (see index.ts). A command reads its own usage from here for its
 * error messages.
 */

export interface CommandHelp {
  summary: string;
  usage: string;
}

/** Several usage lines, continuation lines indented like the first one in `tgpulse --help`. */
function lines(...usages: string[]): string {
  return usages.join('\n      ');
}

/** In the order `tgpulse --help` lists them. */
export const CATALOG = {
  up: {
    summary:
      'run every role on the embedded stores: a private nats-server, the local warehouse, and one worker per core for processors and sinks',
    usage: 'tgpulse up [--simulate] [--rewind-sinks] [--channels N] [--speed X] [--days D] [--seed S] [--labels FILE]',
  },
  status: {
    summary:
      'show what runs and where: API, ops, NATS, the warehouse ports and reader credentials, the control plane, the data folder',
    usage: 'tgpulse status [--format text|json]',
  },
  warehouse: {
    summary:
      'run the local ClickHouse server (chDB engine) of the data folder alone, for roles run as separate processes',
    usage: 'tgpulse warehouse',
  },
  process: {
    summary: 'run the stateful processors for some or all partitions',
    usage: 'tgpulse process [--partitions 0,1,2]',
  },
  sink: {
    summary: 'write TG_RAW, TG_DERIVED and TG_DLQ into ClickHouse',
    usage: 'tgpulse sink [--sources raw,derived,dlq] [--rewind]',
  },
  worker: {
    summary: 'run processors and sinks together (what `up` starts on each core)',
    usage: 'tgpulse worker',
  },
  api: {
    summary: 'serve the read-only REST API (TGPULSE_API_HOST:TGPULSE_API_PORT, OpenAPI at /docs)',
    usage: 'tgpulse api',
  },
  bot: {
    summary: 'run the Telegram bot (long polling) and the alert notifier (needs TGPULSE_BOT_TOKEN)',
    usage: 'tgpulse bot',
  },
  ingest: {
    summary: 'run the MTProto collectors: read tracked channels through the logged-in accounts into TG_RAW',
    usage: 'tgpulse ingest',
  },
  simulate: {
    summary: 'publish synthetic channels (with labelled anomalies) to TG_RAW',
    usage: 'tgpulse simulate [--channels N] [--days D] [--speed X] [--live-days D] [--seed S] [--labels FILE]',
  },
  migrate: {
    summary: 'apply pending ClickHouse migrations',
    usage: 'tgpulse migrate',
  },
  query: {
    summary: 'run read-only SQL on the warehouse (as its read-only user) and print a table',
    usage: 'tgpulse query "SELECT ..." [--format table|json]',
  },
  detect: {
    summary: "score a CSV series (timestamp,value) with the pipeline's EWMA/z-score detector, strictly online",
    usage: 'tgpulse detect --input series.csv --output scores.csv [--alpha A] [--z-open Z] [--z-close Z] [--warmup N]',
  },
  apikey: {
    summary: 'create, list and revoke API keys of the REST API',
    usage: lines(
      'tgpulse apikey create --name NAME [--scopes read,export,share,track] [--channels ID,ID] [--rate N]',
      'tgpulse apikey list',
      'tgpulse apikey revoke ID',
    ),
  },
  alerts: {
    summary:
      'add, list and remove webhook alert destinations (Slack- or Discord-compatible JSON, HMAC-signed); the secret is printed once',
    usage: lines(
      'tgpulse alerts webhook add URL --channel ID [--format slack|discord] [--severity info|warning|critical] [--metrics M,M] [--max-per-hour N]',
      'tgpulse alerts webhook list',
      'tgpulse alerts webhook remove ID',
    ),
  },
  login: {
    summary: 'log a Telegram account in for the MTProto collectors (asks for phone, code and 2FA password)',
    usage: 'tgpulse login [--phone +4915112345678] [--proxy socks5://[user:pass@]host:port|mtproxy://secret@host:port]',
  },
  accounts: {
    summary: 'list, disable, enable, remove MTProto accounts and set their proxies (add them with `tgpulse login`)',
    usage: lines(
      'tgpulse accounts list',
      'tgpulse accounts disable ID | enable ID | remove ID',
      'tgpulse accounts proxy ID socks5://[user:pass@]host:port | mtproxy://secret@host:port | none',
    ),
  },
  channels: {
    summary:
      'add (resolving through a logged-in account), list and remove tracked channels; forget one: erase it everywhere',
    usage: lines(
      'tgpulse channels add @name|t.me/name|t.me/c/ID/POST|ID [--since YYYY-MM-DD] [--account ACCOUNT_ID]',
      'tgpulse channels list [--all]',
      'tgpulse channels remove ID|@name',
      'tgpulse channels forget ID|@name [--yes]',
    ),
  },
  record: {
    summary: 'record the raw events on TG_RAW to a JSONL capture file (replay it with `tgpulse replay`)',
    usage: 'tgpulse record FILE [--from new|all|ISO-time] [--idle-seconds N] [--append]',
  },
  replay: {
    summary: 'republish a JSONL capture (from `tgpulse record`) to TG_RAW, paced by event time',
    usage: 'tgpulse replay FILE [--speed N|max]',
  },
  backup: {
    summary:
      'back up a running deployment into a new folder: control plane, streams with consumers and checkpoints, warehouse (incremental over --base)',
    usage: 'tgpulse backup DIR [--base PREVIOUS_BACKUP_DIR]',
  },
  restore: {
    summary: 'restore a backup into an empty data folder (or empty configured stores), checking it first',
    usage: 'tgpulse restore DIR',
  },
} as const satisfies Record<string, CommandHelp>;

export type CommandName = keyof typeof CATALOG;

export function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(CATALOG, name);
}

/** The text of `tgpulse --help`. */
export function usage(): string {
  const width = Math.max(...Object.keys(CATALOG).map((k) => k.length));
  const entries: Array<[string, CommandHelp]> = Object.entries(CATALOG);
  const rows = entries.map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}\n      ${c.usage}`);
  return `usage: tgpulse <command> [options]\n\n${rows.join('\n')}\n\nConfiguration comes from TGPULSE_* environment variables (see README).\n`;
}
