/**
 * The analytics warehouse as the rest of tgpulse sees it: one small interface
 * over the ClickHouse protocol (@clickhouse/client), the same for every role
 * and deployment.
 *
 * - `local` — the default: a ClickHouse server made from the chDB engine,
 *   started by tgpulse with its data in the data folder (`local-server/`).
 * - `server` — a ClickHouse server or cluster the operator runs.
 *
 * The wire conventions are in `values.ts`: times as `'YYYY-MM-DD HH:MM:SS.mmm'`
 * UTC strings, 64-bit integers returned as decimal strings, unknown JSON
 * fields on insert rejected (never silently dropped).
 */
import { WarehouseError } from './errors.ts';
import type { TableInsert } from './rowbinary.ts';

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
 * A ClickHouse database over its HTTP protocol.
 *
 * ```ts
 * const wh = await openWarehouse({ driver: 'local', dataDir: './data', database: 'tgpulse', httpPort: 8123, nativePort: 9000 });
 * await wh.insertRows('raw_channel_members', rows, { dedupToken: 'TG_RAW:100-199' });
 * const top = await wh.query<{ channel_id: string; c: string }>(
 *   'SELECT channel_id, count() AS c FROM raw_posts WHERE event_time >= {since:DateTime64(3)} GROUP BY channel_id',
 *   { since: '2024-01-01 00:00:00.000' },
 * );
 * await wh.close();
 * ```
 */
export interface Warehouse {
  readonly driver: 'server';
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
   * Insert rows (plain objects whose keys are the table's columns), encoded
   * as RowBinary by the column types the server reports (see rowbinary.ts for
   * the values each type takes). A key that is not a column, or a value that
   * does not fit its column, fails the insert: nothing is silently dropped.
   */
  insertRows(table: string, rows: readonly Record<string, unknown>[], opts?: InsertOptions): Promise<void>;
  /**
   * An empty insert into `table`, to be filled row by row as data arrives
   * (each row is encoded at once) and sent with {@link Warehouse.sendInsert}:
   * how a sink builds inserts of 100k rows without holding 100k events.
   */
  startInsert(table: string): Promise<TableInsert>;
  /** Sends an insert built with {@link Warehouse.startInsert}; retried like {@link Warehouse.insertRows}. */
  sendInsert(insert: TableInsert, opts?: InsertOptions): Promise<void>;
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

/** The server driver's connection: a ClickHouse server, cluster, or the local server. */
export type ServerWarehouseConfig = Extract<WarehouseConfig, { driver: 'server' }>;

/** Where the warehouse lives; read once from configuration at start. */
export type WarehouseConfig =
  | {
      driver: 'local';
      /** The tgpulse data folder: the server keeps its files in `warehouse/` there. */
      dataDir: string;
      database: string;
      /** Preferred HTTP port (0 = any free port). */
      httpPort: number;
      /** Preferred native-protocol port (0 = any free port). */
      nativePort: number;
    }
  | {
      driver: 'server';
      url: string;
      username: string;
      password: string;
      database: string;
      /** Cluster name: migrations then render ON CLUSTER, Replicated and Distributed DDL. */
      cluster?: string;
      /** The server's backup disk (`<backups><allowed_disk>`) `tgpulse backup` writes its archive to. */
      backupDisk?: string;
      retry?: Partial<RetryPolicy>;
      /** Per-request timeout in ms (default 30 000). */
      requestTimeoutMs?: number;
    };

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
 * Settings sent with every insert, so deduplication behaves the same on the
 * local server (clickhouse-local, whose defaults differ) and on a server.
 */
export const INSERT_SETTINGS = {
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
