/**
 * What the control-plane commands of the MTProto collectors (`accounts`,
 * `channels`, `login`) share: where they write, how a wrong invocation is
 * reported, and how they reach the control plane, so tests run them against
 * a control plane they already hold and read what they printed.
 */
import type { Pool } from 'pg';
import { ControlError } from '../../control/index.ts';
import { createLogger, type Logger } from '../../observability/index.ts';
import { openControlFor } from '../control.ts';
import type { CoreConfig } from '../core-config.ts';

/** Where a command writes: the terminal by default, a buffer in tests. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

/** The terminal. */
export const TERMINAL: CliIo = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

/** Audit actor of changes made from the command line. */
export const CLI_ACTOR = 'cli';

/** A wrong invocation: reported with the usage and exit code 2. */
export class UsageError extends Error {}

/** Whether parseArgs rejected the arguments (it throws TypeErrors with ERR_PARSE_ARGS_* codes). */
export function isUsageProblem(err: unknown): boolean {
  return (
    err instanceof UsageError || ((err as NodeJS.ErrnoException | null)?.code?.startsWith('ERR_PARSE_ARGS') ?? false)
  );
}

/**
 * The start every command with subcommands shares: `--help` prints the usage
 * (exit 0); otherwise `plan` parses argv, and a usage problem is printed with
 * the usage (exit 2) instead of thrown.
 */
export function planCommand<A>(
  command: string,
  usage: string,
  argv: string[],
  io: CliIo,
  plan: () => A,
): { action: A } | { exit: number } {
  if (argv[0] === '--help' || argv[0] === '-h') {
    io.out(`usage:\n      ${usage}\n`);
    return { exit: 0 };
  }
  try {
    return { action: plan() };
  } catch (err) {
    if (!isUsageProblem(err)) throw err;
    io.err(`tgpulse ${command}: ${(err as Error).message}\nusage:\n      ${usage}\n`);
    return { exit: 2 };
  }
}

/** Epoch ms as a UTC time to the second for tables; `-` for none. */
export function when(ms: number | null): string {
  return ms === null ? '-' : `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/** Dependencies a control-plane command may be handed instead of opening its own. */
export interface ControlDeps {
  io?: CliIo;
  /** An open control plane (not closed by the command); default: opened from the configuration. */
  control?: Pool;
  log?: Logger;
}

/**
 * Runs `action` on the control plane (the one given, or the configured one,
 * reached through `tgpulse up` when that holds the embedded store). A
 * ControlError becomes a message naming what was wrong, exit code 2.
 */
export async function withControl(
  command: string,
  config: CoreConfig,
  deps: ControlDeps,
  action: (pool: Pool, log: Logger) => Promise<number>,
): Promise<number> {
  const io = deps.io ?? TERMINAL;
  const log = deps.log ?? createLogger(config.logLevel, { format: config.logFormat });
  const opened = deps.control === undefined ? await openControlFor(config, log) : null;
  try {
    return await action(deps.control ?? opened!.pool, log);
  } catch (err) {
    if (err instanceof ControlError) {
      io.err(`tgpulse ${command}: invalid ${err.field}: ${err.problem}\n`);
      return 2;
    }
    throw err;
  } finally {
    await opened?.close();
  }
}
