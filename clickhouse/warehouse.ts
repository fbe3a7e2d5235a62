/**
 * The analytics warehouse as the rest of tgpulse sees it: one small interface,
 * two drivers running the same SQL.
 *
 * - `embedded` — chDB, the ClickHouse engine inside this process, data in a
 *   local folder. The default: nothing to install or run.
 * - `server` — a ClickHouse server or cluster over HTTP (@clickhouse/client).
 *
 * Both drivers agree on the wire conventions in `values.ts`: times as
 * `'YYYY-MM-DD HH:MM:SS.mmm'` UTC strings, 64-bit integers returned as decimal
 * strings, unknown JSON fields on insert rejected (never silently dropped).
 */
import { WarehouseError } from './errors.ts';

/** Options of one {@link Warehouse.insertRows} call. */
export interface InsertOptions {
  /**
   * Sets `insert_deduplication_token`: a retried batch with the same token and
   * the same rows is not written again (tables keep a deduplication window).
   * Use a deterministic batch identity, e.g. the source stream and sequence range.
   */
  dedupToken?: string;
}

/**
 * A ClickHouse database, embedded or remote.
 *
 * ```ts
 * const wh = await openWarehouse({ driver: 'embedded', path: './data/clickhouse' });
 * await wh.insertRows('raw_channel_members', rows, { dedupToken: 'TG_RAW:100-199' });
 * const top = await wh.query<{ channel_id: string; c: string }>(
 *   'SELECT channel_id, count() AS c FROM raw_posts WHERE event_time >= {since:DateTime64(3)} GROUP BY channel_id',
 *   { since: '2024-01-01 00:00:00.000' },
 * );
 * await wh.close();
 * ```
 */
export interface Warehouse {
  readonly driver: 'embedded' | 'server';
  /**
   * Run DDL or a statement without a result. Params fill ClickHouse
   * `{name:Type}` placeholders and are bound by the engine, never spliced into
   * the SQL text.
   */
  exec(sql: string, params?: Record<string, unknown>): Promise<void>;
  /**
   * Run a query and return its rows as objects (JSONEachRow). 64-bit integers
   * (UInt64, Int64, `count()`) arrive as decimal strings in both drivers;
   * narrower integers and floats as numbers; DateTime64 as
   * `'YYYY-MM-DD HH:MM:SS.mmm'`. Do not add a FORMAT clause.
   */
  query<T = Record<string, unknown>>(sql: string, params?: Record<string, unknown>): Promise<T[]>;
  /**
   * Insert rows (plain objects whose keys are the table's columns) as
   * JSONEachRow. A key that is not a column is an error, not silently dropped.
   */
  insertRows(table: string, rows: readonly Record<string, unknown>[], opts?: InsertOptions): Promise<void>;
  /** Check that the engine answers (and, for a server, that the credentials work). */
  ping(): Promise<void>;
  /** Release the engine or connection pool. Idempotent. */
  close(): Promise<void>;
}

/** Retry policy of the server driver for transient failures. */
export interface RetryPolicy {
  /** Total attempts including the first (default 5). */
  attempts: number;
  /** First backoff delay in ms, doubled per retry with full jitter (default 200). */
  baseDelayMs: number;
  /** Cap of one backoff delay in ms (default 5000). */
  maxDelayMs: number;
}

/** Where the warehouse lives; read once from configuration at start. */
export type WarehouseConfig =
  | { driver: 'embedded'; path: string }
  | {
      driver: 'server';
      url: string;
      username: string;
      password: string;
      database: string;
      /** Cluster name: migrations then render ON CLUSTER, Replicated and Distributed DDL. */
      cluster?: string;
      retry?: Partial<RetryPolicy>;
      /** Per-request timeout in ms (default 30 000). */
      requestTimeoutMs?: number;
    };

/**
 * Open the warehouse a configuration names. Drivers are loaded lazily, so a
 * server deployment never loads the chDB native library.
 *
 * @throws WarehouseError when the engine cannot be opened — for `embedded`,
 *   also when another data folder is already open in this process.
 */
export async function openWarehouse(cfg: WarehouseConfig): Promise<Warehouse> {
  if (cfg.driver === 'embedded') {
    const { openEmbeddedWarehouse } = await import('./embedded.ts');
    return openEmbeddedWarehouse(cfg.path);
  }
  const { openServerWarehouse } = await import('./server.ts');
  return openServerWarehouse(cfg);
}

const IDENTIFIER_RE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/;

/**
 * Refuse a table name that is not a plain (optionally database-qualified)
 * identifier: table names are the one thing that cannot be bound as a parameter.
 */
export function assertTableName(driver: Warehouse['driver'], table: string): void {
  if (!IDENTIFIER_RE.test(table)) {
    throw new WarehouseError(
      { driver, operation: 'insert', target: JSON.stringify(table) },
      'table name must be an identifier like raw_posts or db.raw_posts',
    );
  }
}

/**
 * Settings both drivers send with every insert so that JSONEachRow means the
 * same on chDB (whose defaults differ) and on a server.
 */
export const INSERT_SETTINGS = {
  /** A row key that is no column is a bug upstream: fail the batch, do not drop the field. */
  input_format_skip_unknown_fields: 0,
  /** Times arrive as 'YYYY-MM-DD HH:MM:SS.mmm' (see values.ts); chDB defaults to best_effort. */
  date_time_input_format: 'basic',
  insert_deduplicate: 1,
  /** Let a retried batch also skip the materialized views it feeds. */
  deduplicate_blocks_in_dependent_materialized_views: 1,
} as const;

/** Build the per-insert settings, adding the deduplication token when given. */
export function insertSettings(opts?: InsertOptions): Record<string, string | number> {
  const settings: Record<string, string | number> = { ...INSERT_SETTINGS };
  if (opts?.dedupToken !== undefined) {
    if (opts.dedupToken.length === 0) throw new TypeError('dedupToken must not be empty');
    settings.insert_deduplication_token = opts.dedupToken;
  }
  return settings;
}

/** Serialize rows as JSONEachRow text (one JSON object per line). */
export function toJsonEachRow(rows: readonly Record<string, unknown>[]): string {
  let out = '';
  for (const row of rows) out += `${JSON.stringify(row)}\n`;
  return out;
}

/** Parse a JSONEachRow result; strings inside never contain a raw newline. */
export function parseJsonEachRow<T>(text: string): T[] {
  const rows: T[] = [];
  for (const line of text.split('\n')) if (line.length > 0) rows.push(JSON.parse(line) as T);
  return rows;
}
