/**
 * The one error type the warehouse throws. It keeps the original cause and says
 * which driver, operation and table or statement failed, so a log line alone
 * tells an operator where to look.
 */

import { RowEncodeError } from './rowbinary.ts';

/** What the warehouse was doing when it failed. */
export type WarehouseOperation =
  | 'open'
  | 'exec'
  | 'query'
  | 'insert'
  | 'ping'
  | 'close'
  | 'migrate'
  | 'backup'
  | 'restore';

export interface WarehouseErrorContext {
  driver: 'server';
  operation: WarehouseOperation;
  /** Target table for inserts; the (shortened) SQL text otherwise. */
  target?: string;
  /** ClickHouse exception code when the engine reported one (e.g. 62 = syntax error). */
  clickhouseCode?: number;
  /** Attempts made (server driver retries transient failures). */
  attempts?: number;
}

/**
 * A failed warehouse call. `cause` is the driver's own error, untouched.
 *
 * ```ts
 * try { await wh.query('SELECT …') } catch (e) {
 *   if (e instanceof WarehouseError && e.clickhouseCode === 60) { … unknown table … }
 * }
 * ```
 */
export class WarehouseError extends Error {
  override readonly name = 'WarehouseError';
  readonly driver: WarehouseErrorContext['driver'];
  readonly operation: WarehouseOperation;
  readonly target: string | undefined;
  readonly clickhouseCode: number | undefined;
  readonly attempts: number;

  constructor(context: WarehouseErrorContext, message: string, options?: { cause?: unknown }) {
    const where =
      context.target === undefined
        ? ''
        : context.operation === 'insert'
          ? ` into ${context.target}`
          : ` [${context.target}]`;
    const tries = context.attempts !== undefined && context.attempts > 1 ? ` after ${context.attempts} attempts` : '';
    super(`ClickHouse ${context.operation} failed (${context.driver})${where}${tries}: ${message}`, options);
    this.driver = context.driver;
    this.operation = context.operation;
    this.target = context.target;
    this.clickhouseCode = context.clickhouseCode;
    this.attempts = context.attempts ?? 1;
  }
}

/**
 * The data was refused for what it is (parse or type errors from the engine,
 * or a value the row encoder cannot fit in its column): retrying the same
 * rows cannot help, so the writer isolates and dead-letters them instead.
 */
export function isContentError(err: unknown): boolean {
  if (err instanceof WarehouseError && err.cause instanceof RowEncodeError) return true;
  const code = clickhouseCodeOf(err);
  return code !== undefined && CONTENT_ERROR_CODES.has(code);
}

/** CANNOT_PARSE_*, TYPE_MISMATCH, INCORRECT_DATA, VALUE_IS_OUT_OF_RANGE…, CANNOT_PARSE_INPUT_ASSERTION_FAILED, VIOLATED_CONSTRAINT. */
const CONTENT_ERROR_CODES = new Set([6, 27, 38, 41, 53, 69, 70, 117, 321, 469]);

/** A one-line, bounded rendering of a statement for error messages and logs. */
export function sqlSnippet(sql: string, max = 200): string {
  const flat = sql.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/** The ClickHouse exception code carried by a chDB or @clickhouse/client error, if any. */
export function clickhouseCodeOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { clickhouseCode?: unknown; code?: unknown; message?: unknown };
  if (typeof e.clickhouseCode === 'number') return e.clickhouseCode;
  // @clickhouse/client's ClickHouseError carries the code as a decimal string.
  if (typeof e.code === 'string' && /^\d+$/.test(e.code)) return Number(e.code);
  if (typeof e.message === 'string') {
    const m = /^Code: (\d+)\./.exec(e.message);
    if (m) return Number(m[1]);
  }
  return undefined;
}

/** The message of an unknown thrown value. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
