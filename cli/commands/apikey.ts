import { parseArgs } from 'node:util';
import {
  createApiKey,
  listApiKeys,
  revokeApiKey,
  type ApiKey,
  type ApiScope,
  ControlError,
} from '../../control/index.ts';
import { openControlFor } from '../control.ts';
import { createLogger } from '../../observability/index.ts';
import type { Pool } from 'pg';
import type { CoreConfig } from '../core-config.ts';
import { renderTable } from '../table.ts';
import { CATALOG } from './catalog.ts';
import type { Command } from './command.ts';
import { CLI_ACTOR, planCommand, TERMINAL, UsageError, when } from './cli-io.ts';

const USAGE = CATALOG.apikey.usage;

/** The flag each control-plane field comes from, so errors name what the user typed. */
const FLAG_OF: Record<string, string> = {
  name: '--name',
  scopes: '--scopes',
  channels: '--channels',
  ratePerMinute: '--rate',
};

/** `a,b,,c` → `['a', 'b', 'c']`. */
function list(value: string | undefined): string[] | undefined {
  return value
    ?.split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/**
 * Glues a value that starts like a negative number to the flag before it:
 * channel ids are mostly negative (`-100…`), and parseArgs would otherwise
 * take `--channels -1001234` for a flag without its value.
 */
function glueNegativeValues(args: string[]): string[] {
  const glued: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const next = args[i + 1];
    if (/^--[a-z]+$/.test(args[i]) && next !== undefined && /^-[0-9]/.test(next)) {
      glued.push(`${args[i]}=${next}`);
      i++;
    } else {
      glued.push(args[i]);
    }
  }
  return glued;
}

/** One row of `apikey list`: everything about a key but its secret, which is not kept. */
function tableRow(key: ApiKey): Record<string, string> {
  return {
    id: key.id,
    name: key.name,
    scopes: key.scopes.join(','),
    channels: key.channels?.join(',') ?? 'all',
    rate: key.ratePerMinute === null ? 'default' : `${key.ratePerMinute}/min`,
    created: when(key.createdAt),
    'last used': when(key.lastUsedAt),
    revoked: when(key.revokedAt),
  };
}

type Action = (pool: Pool) => Promise<number>;

/** Parses argv into the action to run on the control plane, or throws UsageError. */
function plan(argv: string[]): Action {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'create': {
      const { values } = parseArgs({
        args: glueNegativeValues(rest),
        strict: true,
        options: {
          name: { type: 'string' },
          scopes: { type: 'string', default: 'read' },
          channels: { type: 'string' },
          rate: { type: 'string' },
        },
      });
      if (values.name === undefined) throw new UsageError('create needs --name NAME');
      const input = {
        name: values.name,
        // Checked against API_SCOPES by createApiKey.
        scopes: (list(values.scopes) ?? []) as ApiScope[],
        channels: list(values.channels) ?? null,
        ratePerMinute: values.rate === undefined ? null : Number(values.rate),
      };
      return async (pool) => {
        const { key, token } = await createApiKey(pool, input, { actor: CLI_ACTOR });
        process.stdout.write(renderTable([tableRow(key)]));
        process.stdout.write(
          `\n${token}\n\nThis token will not be shown again: store it now (only a hash of it is kept).\n`,
        );
        return 0;
      };
    }
    case 'list': {
      parseArgs({ args: rest, strict: true, options: {} });
      return async (pool) => {
        process.stdout.write(renderTable((await listApiKeys(pool)).map(tableRow)));
        return 0;
      };
    }
    case 'revoke': {
      const { positionals } = parseArgs({ args: rest, strict: true, allowPositionals: true, options: {} });
      if (positionals.length !== 1) throw new UsageError('revoke needs exactly one key id');
      const [id] = positionals;
      return async (pool) => {
        if (await revokeApiKey(pool, id, { actor: CLI_ACTOR })) {
          process.stdout.write(`revoked API key ${id}\n`);
          return 0;
        }
        process.stderr.write(
          `tgpulse apikey: no active API key with id ${JSON.stringify(id)} (see tgpulse apikey list)\n`,
        );
        return 1;
      };
    }
    default:
      throw new UsageError(sub === undefined ? 'missing subcommand' : `unknown subcommand ${JSON.stringify(sub)}`);
  }
}

function usageError(message: string): number {
  process.stderr.write(`tgpulse apikey: ${message}\nusage:\n      ${USAGE}\n`);
  return 2;
}

/** Manages API keys of the REST API in the control plane; the token is printed once, at creation. */
export const apikeyCommand: Command = {
  reads: 'core',
  async run(argv: string[], config: CoreConfig) {
    const planned = planCommand('apikey', USAGE, argv, TERMINAL, () => plan(argv));
    if ('exit' in planned) return planned.exit;
    const { action } = planned;
    const control = await openControlFor(config, createLogger(config.logLevel, { format: config.logFormat }));
    try {
      return await action(control.pool);
    } catch (err) {
      if (err instanceof ControlError) return usageError(`invalid ${FLAG_OF[err.field] ?? err.field}: ${err.problem}`);
      throw err;
    } finally {
      await control.close();
    }
  },
};
