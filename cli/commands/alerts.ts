/**
 * `tgpulse alerts webhook`: alert destinations beyond Telegram. `add` points
 * a channel's alerts at a URL (Slack- or Discord-compatible JSON, signed) and
 * prints the signing secret once; `list` shows them with their URLs cut short
 * (Slack and Discord URLs hold a credential); `remove` deletes one. The bot's
 * notifier (`tgpulse bot`, `tgpulse up` with a bot token) posts the alerts.
 */
import { parseArgs } from 'node:util';
import type { Pool } from 'pg';
import {
  type AlertWebhook,
  addWebhook,
  listWebhooks,
  redactWebhookUrl,
  removeWebhook,
  WEBHOOK_FORMATS,
  type WebhookFormat,
} from '../../control/index.ts';
import { SEVERITIES, type Severity } from '../../streams/contract/index.ts';
import type { CoreConfig } from '../core-config.ts';
import { renderTable } from '../table.ts';
import { CATALOG } from './catalog.ts';
import type { Command } from './command.ts';
import {
  CLI_ACTOR,
  type CliIo,
  type ControlDeps,
  planCommand,
  TERMINAL,
  UsageError,
  when,
  withControl,
} from './cli-io.ts';

const USAGE = CATALOG.alerts.usage;

/** One row of `alerts webhook list`: never the secret, the URL only up to its first path segment. */
function tableRow(w: AlertWebhook): Record<string, string> {
  return {
    id: String(w.id),
    channel: w.channelId,
    url: redactWebhookUrl(w.url),
    format: w.format,
    severity: `${w.minSeverity}+`,
    metrics: w.metrics?.join(',') ?? 'all',
    'per hour': String(w.maxPerHour),
    status: w.enabled ? 'enabled' : `disabled: ${w.disabledReason ?? ''}`,
    added: when(w.createdAt),
  };
}

type Action = (pool: Pool, io: CliIo) => Promise<number>;

function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined || (allowed as readonly string[]).includes(value)) return value as T | undefined;
  throw new UsageError(`${flag} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
}

/** Parses argv into the action to run on the control plane, or throws UsageError. */
function plan(argv: string[]): Action {
  const [what, sub, ...rest] = argv;
  if (what !== 'webhook')
    throw new UsageError(what === undefined ? 'missing subcommand' : `unknown subcommand ${JSON.stringify(what)}`);
  switch (sub) {
    case 'add': {
      const { values, positionals } = parseArgs({
        args: rest,
        strict: true,
        allowPositionals: true,
        options: {
          channel: { type: 'string' },
          format: { type: 'string' },
          severity: { type: 'string' },
          metrics: { type: 'string' },
          'max-per-hour': { type: 'string' },
        },
      });
      if (positionals.length !== 1) throw new UsageError('webhook add needs exactly one URL');
      if (values.channel === undefined) throw new UsageError('webhook add needs --channel ID');
      const perHour = values['max-per-hour'];
      const input = {
        url: positionals[0],
        channelId: values.channel,
        format: oneOf<WebhookFormat>('--format', values.format, WEBHOOK_FORMATS),
        minSeverity: oneOf<Severity>('--severity', values.severity, SEVERITIES),
        metrics: values.metrics?.split(',').map((m) => m.trim()) ?? null,
        maxPerHour: perHour === undefined ? undefined : Number(perHour),
        createdBy: CLI_ACTOR,
      };
      return async (pool, io) => {
        const { webhook, secret } = await addWebhook(pool, input);
        io.out(renderTable([tableRow(webhook)]));
        io.out(
          `\nSigning secret: ${secret}\n\nIt will not be shown again: give it to the receiver now. Each post carries ` +
            'X-Tgpulse-Timestamp and X-Tgpulse-Signature: sha256=HMAC-SHA256(secret, "<timestamp>.<raw body>") in hex.\n',
        );
        return 0;
      };
    }
    case 'list': {
      parseArgs({ args: rest, strict: true, options: {} });
      return async (pool, io) => {
        const webhooks = await listWebhooks(pool);
        io.out(
          webhooks.length === 0
            ? 'No webhook destinations yet: add one with `tgpulse alerts webhook add URL --channel ID`.\n'
            : renderTable(webhooks.map(tableRow)),
        );
        return 0;
      };
    }
    case 'remove': {
      const { positionals } = parseArgs({ args: rest, strict: true, allowPositionals: true, options: {} });
      const id = Number(positionals[0]);
      if (positionals.length !== 1 || !Number.isSafeInteger(id) || id <= 0)
        throw new UsageError('webhook remove needs exactly one webhook id (see tgpulse alerts webhook list)');
      return async (pool, io) => {
        if (await removeWebhook(pool, id, { actor: CLI_ACTOR })) {
          io.out(`removed webhook ${id}\n`);
          return 0;
        }
        io.err(`tgpulse alerts: no webhook has the id ${id} (see tgpulse alerts webhook list)\n`);
        return 1;
      };
    }
    default:
      throw new UsageError(
        sub === undefined ? 'missing webhook subcommand' : `unknown webhook subcommand ${JSON.stringify(sub)}`,
      );
  }
}

/** Runs `tgpulse alerts …` with the terminal, or with what a test hands it. */
export async function runAlerts(argv: string[], config: CoreConfig, deps: ControlDeps = {}): Promise<number> {
  const io = deps.io ?? TERMINAL;
  const planned = planCommand('alerts', USAGE, argv, io, () => plan(argv));
  if ('exit' in planned) return planned.exit;
  return withControl('alerts', config, deps, (pool) => planned.action(pool, io));
}

/** Manages alert destinations beyond Telegram: webhooks. */
export const alertsCommand: Command = {
  reads: 'core',
  run: (argv, config) => runAlerts(argv, config),
};
