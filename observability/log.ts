/**
 * Structured logging (pino). Library code takes a `Logger` and never prints.
 *
 * Lines go to stderr as JSON, for machines (log shippers, `jq`, the tests and
 * benches that read a role's output), or pretty for a person at a terminal.
 * pino-pretty is loaded only when a pretty logger is made, so JSON-logging
 * processes never load it.
 */
import { createRequire } from 'node:module';
import { pino, type DestinationStream, type Logger } from 'pino';
import type PinoPretty from 'pino-pretty';

export type { Logger };

/** `TGPULSE_LOG_FORMAT`: one JSON object per line, or pino-pretty's human-readable lines. */
export type LogFormat = 'pretty' | 'json';

/**
 * The format a process logs in: the configured one, else pretty when the logs
 * go to a terminal and JSON when they go anywhere else (a pipe, a file, a
 * supervisor). Pure, so the choice is tested without a terminal.
 *
 * @example chooseLogFormat(null, process.stderr.isTTY === true) // 'pretty' in a terminal
 */
export function chooseLogFormat(configured: LogFormat | null, isTTY: boolean): LogFormat {
  return configured ?? (isTTY ? 'pretty' : 'json');
}

export interface LoggerOptions {
  /** Null or missing: chosen by whether stderr is a terminal ({@link chooseLogFormat}). */
  format?: LogFormat | null;
  name?: string;
}

export function createLogger(
  level: string = process.env.TGPULSE_LOG_LEVEL ?? 'info',
  opts: LoggerOptions = {},
): Logger {
  const format = chooseLogFormat(opts.format ?? null, process.stderr.isTTY === true);
  const destination = format === 'pretty' ? prettyStderr() : pino.destination({ fd: 2, sync: false });
  return pino({ name: opts.name ?? 'tgpulse', level, base: { pid: process.pid } }, destination);
}

/**
 * pino-pretty's formatter over stderr. Written synchronously (stderr is
 * synchronous on Linux for terminals, pipes and files), so the last lines
 * before a forced exit are not lost in a buffer; a terminal never takes the
 * volume where that would cost.
 */
function prettyStderr(): DestinationStream {
  // Loaded on use: a CommonJS package, required synchronously so that making a logger stays synchronous.
  const { prettyFactory } = createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;
  const prettify = prettyFactory({ translateTime: 'SYS:HH:MM:ss.l', ignore: 'hostname' });
  return { write: (line: string) => void process.stderr.write(prettify(line)) };
}

/** A logger that drops everything: for tests and pure callers. */
export const silentLogger: Logger = pino({ level: 'silent' });
