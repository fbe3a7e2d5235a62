/**
 * `tgpulse accounts`: the Telegram accounts the collectors read with. Adding
 * one is `tgpulse login`; here they are listed, paused, given a proxy or
 * forgotten. Sessions are never shown.
 */
import { parseArgs } from 'node:util';
import type { Pool } from 'pg';
import {
  listAccounts,
  redactProxy,
  removeAccount,
  setAccountProxy,
  setAccountStatus,
  type MtprotoAccount,
} from '../../control/index.ts';
import type { TgpulseConfig } from '../config.ts';
import { renderTable } from '../table.ts';
import { CATALOG } from './catalog.ts';
import type { Command } from './command.ts';
import {
  CLI_ACTOR,
  planCommand,
  TERMINAL,
  UsageError,
  when,
  withControl,
  type CliIo,
  type ControlDeps,
} from './cli-io.ts';

const USAGE = CATALOG.accounts.usage;

/** One row of `accounts list`: no session, the proxy without its password or secret. */
function tableRow(a: MtprotoAccount, now: number): Record<string, string> {
  return {
    id: a.id,
    phone: a.phone,
    user: a.userId ?? '-',
    status: a.status,
    proxy: a.proxy === null ? 'direct' : redactProxy(a.proxy),
    health: a.health.toFixed(2),
    parked: a.parkedUntil !== null && a.parkedUntil > now ? `until ${when(a.parkedUntil)}` : '-',
    'last error': a.lastError ?? '-',
    added: when(a.createdAt),
  };
}

type Action = (pool: Pool, io: CliIo) => Promise<number>;

function oneId(rest: string[], sub: string): string {
  const { positionals } = parseArgs({ args: rest, strict: true, allowPositionals: true, options: {} });
  if (positionals.length !== 1) throw new UsageError(`${sub} needs exactly one account id (see tgpulse accounts list)`);
  return positionals[0];
}

function notFound(io: CliIo, id: string): number {
  io.err(`tgpulse accounts: no MTProto account has the id ${JSON.stringify(id)} (see tgpulse accounts list)\n`);
  return 1;
}

/** Parses argv into the action to run on the control plane, or throws UsageError. */
function plan(argv: string[]): Action {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'list': {
      parseArgs({ args: rest, strict: true, options: {} });
      return async (pool, io) => {
        const accounts = await listAccounts(pool);
        if (accounts.length === 0) {
          io.out('No MTProto accounts yet: add one with `tgpulse login`.\n');
          return 0;
        }
        const now = Date.now();
        io.out(renderTable(accounts.map((a) => tableRow(a, now))));
        return 0;
      };
    }
    case 'disable':
    case 'enable': {
      const id = oneId(rest, sub);
      const status = sub === 'disable' ? 'disabled' : 'active';
      return async (pool, io) => {
        if (!(await setAccountStatus(pool, id, status, { actor: CLI_ACTOR }))) return notFound(io, id);
        io.out(
          sub === 'disable'
            ? `disabled account ${id}: collectors give it no work and its channels move to other accounts\n`
            : `enabled account ${id}\n`,
        );
        return 0;
      };
    }
    case 'remove': {
      const id = oneId(rest, sub);
      return async (pool, io) => {
        if (!(await removeAccount(pool, id, { actor: CLI_ACTOR }))) return notFound(io, id);
        io.out(`removed account ${id} and its stored session (log in again with tgpulse login to use it)\n`);
        return 0;
      };
    }
    case 'proxy': {
      const { positionals } = parseArgs({ args: rest, strict: true, allowPositionals: true, options: {} });
      if (positionals.length !== 2) throw new UsageError('proxy needs an account id and a proxy URL (or none)');
      const [id, url] = positionals;
      const proxy = url === 'none' ? null : url;
      return async (pool, io) => {
        if (!(await setAccountProxy(pool, id, proxy, { actor: CLI_ACTOR }))) return notFound(io, id);
        io.out(
          proxy === null
            ? `account ${id} connects directly\n`
            : `account ${id} connects through ${redactProxy(proxy)}\n`,
        );
        return 0;
      };
    }
    default:
      throw new UsageError(sub === undefined ? 'missing subcommand' : `unknown subcommand ${JSON.stringify(sub)}`);
  }
}

/**
 * Runs `tgpulse accounts` with its dependencies (tests pass a control plane
 * and capture the output).
 */
export async function runAccounts(argv: string[], config: TgpulseConfig, deps: ControlDeps = {}): Promise<number> {
  const io = deps.io ?? TERMINAL;
  const planned = planCommand('accounts', USAGE, argv, io, () => plan(argv));
  if ('exit' in planned) return planned.exit;
  const { action } = planned;
  return withControl('accounts', config, deps, (pool) => action(pool, io));
}

/** Lists and manages the MTProto accounts in the control plane. */
export const accountsCommand: Command = {
  reads: 'full',
  run: (argv, config) => runAccounts(argv, config),
};
