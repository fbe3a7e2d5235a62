/**
 * `tgpulse channels`: the channel registry the collectors work from. `add`
 * resolves the channel through one logged-in account (a username, t.me link
 * or, for channels the account has joined, an id), so the registry holds the
 * access hash and facts the collectors need; `--since` sets how far back its
 * history is read. `forget` erases a channel everywhere (channels-forget.ts);
 * adding a forgotten channel again lets its new events in.
 */
import { parseArgs } from 'node:util';
import type { Pool } from 'pg';
import type { Logger } from '../../observability/index.ts';
import {
  listAccounts,
  findChannel,
  listChannels,
  removeChannel,
  setBackfillFrom,
  upsertChannel,
  type TrackedChannel,
} from '../../control/index.ts';
import {
  openAccounts,
  type ConnectTelegram,
  ChannelResolveError,
  parseChannelRef,
  resolveChannel,
} from '../../ingest/mtproto/index.ts';
import type { TgpulseConfig } from '../config.ts';
import { renderTable } from '../table.ts';
import { CATALOG } from './catalog.ts';
import type { Command } from './command.ts';
import { type Confirm, forgetChannel, readmitIfForgotten } from './channels-forget.ts';
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

const USAGE = CATALOG.channels.usage;

export interface ChannelsDeps extends ControlDeps {
  /** How accounts connect (tests: a fake Telegram); default: the network. */
  connect?: ConnectTelegram;
  /** How `forget` asks for confirmation without `--yes`; default: the terminal, if any. */
  confirm?: Confirm;
}

/** `YYYY-MM-DD` as UTC midnight (epoch ms), or UsageError. */
export function parseSince(value: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value.trim());
  const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  // Date.UTC rolls 2026-02-31 over into March: compare back to refuse it.
  if (!m || !Number.isFinite(ms) || new Date(ms).toISOString().slice(0, 10) !== value.trim()) {
    throw new UsageError(`--since expects a date like 2026-01-31, got ${JSON.stringify(value)}`);
  }
  return ms;
}

function backfillText(c: TrackedChannel): string {
  if (c.backfillDone) return 'done';
  const until = c.backfillUntil === null ? 'default depth' : `to ${when(c.backfillUntil).slice(0, 10)}`;
  return c.backfillOffsetId === null ? `pending (${until})` : `below post ${c.backfillOffsetId} (${until})`;
}

function tableRow(c: TrackedChannel): Record<string, string> {
  return {
    id: c.channelId,
    username: c.username === null ? '-' : `@${c.username}`,
    title: c.title ?? '-',
    status:
      c.removedAt !== null ? 'removed' : c.status === 'active' ? 'active' : `${c.status} (${c.statusReason ?? '?'})`,
    members: c.members === null ? '-' : String(c.members),
    stats: c.canViewStats ? 'yes' : 'no',
    backfill: backfillText(c),
    added: when(c.addedAt),
  };
}

type Action = (pool: Pool, io: CliIo, log: Logger) => Promise<number>;

function planAdd(rest: string[], config: TgpulseConfig, deps: ChannelsDeps): Action {
  const { values, positionals } = parseArgs({
    args: rest,
    strict: true,
    allowPositionals: true,
    options: { since: { type: 'string' }, account: { type: 'string' } },
  });
  if (positionals.length !== 1) throw new UsageError('add needs exactly one channel (@name, t.me link or id)');
  const [ref] = positionals;
  try {
    parseChannelRef(ref);
  } catch (err) {
    // A malformed reference needs no trip to Telegram.
    if (err instanceof ChannelResolveError) throw new UsageError(err.message);
    throw err;
  }
  const since = values.since === undefined ? null : parseSince(values.since);
  return async (pool, io, log) => {
    const candidates = (await listAccounts(pool)).filter(
      (a) => a.status === 'active' && (values.account === undefined || a.id === values.account),
    );
    if (candidates.length === 0) {
      io.err(
        values.account === undefined
          ? 'tgpulse channels: no active MTProto account to resolve the channel with: log one in with `tgpulse login`\n'
          : `tgpulse channels: no active MTProto account has the id ${JSON.stringify(values.account)} (see tgpulse accounts list)\n`,
      );
      return 1;
    }
    // One account is enough: open them one at a time until one connects.
    for (const candidate of candidates) {
      const opened = await openAccounts({
        control: pool,
        config: config.mtproto,
        log,
        connect: deps.connect,
        only: [candidate.id],
      });
      const account = opened.sessions[0];
      if (!account) {
        for (const s of opened.skipped)
          io.err(`tgpulse channels: account ${s.accountId} (${s.phone}) is unusable: ${s.reason}\n`);
        continue;
      }
      try {
        const facts = await resolveChannel(account, ref);
        // Before it is tracked: the events collected from then on must not be dropped.
        const forgottenAt = await readmitIfForgotten(pool, facts.channelId, config, log);
        const channel = await upsertChannel(pool, facts, { actor: CLI_ACTOR });
        if (since !== null) await setBackfillFrom(pool, channel.channelId, since, { actor: CLI_ACTOR });
        const name = channel.username === null ? channel.channelId : `@${channel.username}`;
        const depth =
          since !== null
            ? `from ${values.since}`
            : channel.backfillDone
              ? 'already backfilled'
              : `${config.mtproto.schedule.backfillDays} days back (or --since)`;
        io.out(
          `tracking ${name} (${channel.title ?? 'untitled'}, id ${channel.channelId}, ${channel.members ?? '?'} members, official stats: ${channel.canViewStats ? 'yes' : 'no'}); history ${depth}\n`,
        );
        if (forgottenAt !== null)
          io.out(
            `it was forgotten on ${when(forgottenAt)}: it starts afresh, and what the streams held of it before stays dropped\n`,
          );
        io.out('`tgpulse ingest` (or `tgpulse up`) collects it.\n');
        return 0;
      } catch (err) {
        if (err instanceof ChannelResolveError) {
          io.err(`tgpulse channels: ${err.message}\n`);
          return 1;
        }
        throw err;
      } finally {
        await opened.close();
      }
    }
    io.err('tgpulse channels: no account could connect to Telegram (see the messages above)\n');
    return 1;
  };
}

/** Parses argv into the action to run, or throws UsageError. */
function plan(argv: string[], config: TgpulseConfig, deps: ChannelsDeps): Action {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'add':
      return planAdd(rest, config, deps);
    case 'list': {
      const { values } = parseArgs({ args: rest, strict: true, options: { all: { type: 'boolean', default: false } } });
      return async (pool, io) => {
        const channels = await listChannels(pool, { includeRemoved: values.all });
        if (channels.length === 0) {
          io.out('No channels tracked yet: add one with `tgpulse channels add @name`.\n');
          return 0;
        }
        io.out(renderTable(channels.map(tableRow)));
        return 0;
      };
    }
    case 'remove': {
      const { positionals } = parseArgs({ args: rest, strict: true, allowPositionals: true, options: {} });
      if (positionals.length !== 1) throw new UsageError('remove needs exactly one channel id or @name');
      const [ref] = positionals;
      return async (pool, io) => {
        const channel = await findChannel(pool, ref);
        if (
          channel === null ||
          channel.removedAt !== null ||
          !(await removeChannel(pool, channel.channelId, { actor: CLI_ACTOR }))
        ) {
          io.err(`tgpulse channels: no tracked channel matches ${JSON.stringify(ref)} (see tgpulse channels list)\n`);
          return 1;
        }
        io.out(
          `stopped tracking ${channel.username === null ? channel.channelId : `@${channel.username}`}; its data stays, and adding it again resumes where collection stopped\n`,
        );
        return 0;
      };
    }
    case 'forget': {
      const { values, positionals } = parseArgs({
        args: rest,
        strict: true,
        allowPositionals: true,
        options: { yes: { type: 'boolean', default: false } },
      });
      if (positionals.length !== 1) throw new UsageError('forget needs exactly one channel id or @name');
      const request = { ref: positionals[0], yes: values.yes };
      return (pool, io, log) => forgetChannel(request, pool, io, log, config, deps.confirm);
    }
    default:
      throw new UsageError(sub === undefined ? 'missing subcommand' : `unknown subcommand ${JSON.stringify(sub)}`);
  }
}

/** Runs `tgpulse channels` with its dependencies (tests pass a control plane, a fake Telegram and capture the output). */
export async function runChannels(argv: string[], config: TgpulseConfig, deps: ChannelsDeps = {}): Promise<number> {
  const io = deps.io ?? TERMINAL;
  const planned = planCommand('channels', USAGE, argv, io, () => plan(argv, config, deps));
  if ('exit' in planned) return planned.exit;
  const { action } = planned;
  if (argv[0] === 'add') {
    // Resolving needs the Telegram credentials and the key that opens sessions: say so before opening anything.
    const missing = [
      config.mtproto.apiId === null ? 'TGPULSE_TG_API_ID/TGPULSE_TG_API_HASH' : null,
      config.mtproto.sessionKey === null ? 'TGPULSE_SESSION_KEY' : null,
    ].filter((m) => m !== null);
    if (missing.length) {
      io.err(
        `tgpulse channels: adding a channel resolves it through a logged-in account, which needs ${missing.join(' and ')} (the values \`tgpulse login\` used)\n`,
      );
      return 2;
    }
  }
  return withControl('channels', config, deps, (pool, log) => action(pool, io, log));
}

/** Adds, lists, removes and forgets the channels the collectors track. */
export const channelsCommand: Command = {
  reads: 'full',
  run: (argv, config) => runChannels(argv, config),
};
