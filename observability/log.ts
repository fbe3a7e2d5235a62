/**
 * Structured logging (pino). Library code takes a `Logger` and never prints.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string = process.env.TGPULSE_LOG_LEVEL ?? 'info', name = 'tgpulse'): Logger {
  return pino({ name, level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: false }));
}

/** A logger that drops everything: for tests and pure callers. */
export const silentLogger: Logger = pino({ level: 'silent' });
