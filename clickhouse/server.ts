/**
 * The server driver: a ClickHouse server or cluster over HTTP through
 * @clickhouse/client, with bounded retry of transient failures (see `retry.ts`).
 *
 * Query parameters travel as `param_<name>` URL parameters and are bound by
 * the server; settings (including `insert_deduplication_token`) as URL
 * parameters too; credentials in the Authorization header.
 */
import { Readable } from 'node:stream';
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { WarehouseError, clickhouseCodeOf, messageOf, sqlSnippet, type WarehouseOperation } from './errors.ts';
import { DEFAULT_RETRY_POLICY, FailedAfterAttempts, withRetry } from './retry.ts';
import { rowBinaryTable, TableInsert, type RowBinaryTable } from './rowbinary.ts';
import { normalizeParams } from './values.ts';
import { inClientSpan } from '../observability/index.ts';
import {
  assertTableName,
  insertSettings,
  type InsertOptions,
  type RetryPolicy,
  type Warehouse,
  type ServerWarehouseConfig,
} from './warehouse.ts';

type ServerConfig = ServerWarehouseConfig;

/** Settings sent with every request so results look the same as from chDB. */
const SESSION_SETTINGS = {
  output_format_json_quote_64bit_integers: 1,
} as const;

/** How the connection will be used. */
export interface ServerWarehouseOptions {
  /**
   * Many small queries at once (the roles: point lookups of the API and bot,
   * inserts of the sink): each query runs on one thread, since the
   * parallelism comes from the concurrent queries. Measured on 1,000
   * channels × 90 days, 2 cores, 64 connections: +25–45 % answers/s on most
   * endpoints. False for one large query at a time (`tgpulse query`).
   */
  concurrentLookups?: boolean;
}

/**
 * Connect to a ClickHouse server. No request is made until the first call;
 * use {@link Warehouse.ping} to check reachability and credentials.
 */
export function openServerWarehouse(cfg: ServerConfig, opts: ServerWarehouseOptions = {}): Warehouse {
  let url: URL;
  try {
    url = new URL(cfg.url);
  } catch (err) {
    throw new WarehouseError({ driver: 'server', operation: 'open', target: cfg.url }, 'url is not a valid URL', {
      cause: err,
    });
  }
  const client = createClient({
    url,
    username: cfg.username,
    password: cfg.password,
    database: cfg.database,
    request_timeout: cfg.requestTimeoutMs ?? 30_000,
    // The API answers many requests at once; the client's default of 10 sockets queues them (measured: +35 % req/s at 64).
    max_open_connections: 64,
    clickhouse_settings: { ...SESSION_SETTINGS, ...((opts.concurrentLookups ?? true) ? { max_threads: 1 } : {}) },
    // Failures are thrown to the caller with context; the client must not print on its own.
    log: { level: ClickHouseLogLevel.OFF },
  });
  return new ServerWarehouse(client, { ...DEFAULT_RETRY_POLICY, ...cfg.retry });
}

/**
 * Create the configured database when it does not exist (on every node of
 * the cluster when one is configured), so migrations have somewhere to go.
 */
export async function createDatabaseIfMissing(cfg: ServerConfig): Promise<void> {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(cfg.database)) {
    throw new WarehouseError(
      { driver: 'server', operation: 'open', target: cfg.database },
      'the database name must be an identifier',
    );
  }
  if (cfg.cluster !== undefined && !/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(cfg.cluster)) {
    throw new WarehouseError(
      { driver: 'server', operation: 'open', target: cfg.cluster },
      'the cluster name must be an identifier',
    );
  }
  // Connected to the always-present `default` database, since the configured one may not exist yet.
  const admin = openServerWarehouse({ ...cfg, database: 'default' });
  try {
    await admin.exec(
      `CREATE DATABASE IF NOT EXISTS ${cfg.database}${cfg.cluster ? ` ON CLUSTER '${cfg.cluster}'` : ''}`,
    );
  } finally {
    await admin.close();
  }
}

class ServerWarehouse implements Warehouse {
  readonly driver = 'server' as const;
  #client: ClickHouseClient;
  #retry: RetryPolicy;
  #closed = false;
  #tables = new Map<string, Promise<RowBinaryTable>>();

  constructor(client: ClickHouseClient, retry: RetryPolicy) {
    this.#client = client;
    this.#retry = retry;
  }

  async exec(sql: string, params?: Record<string, unknown>): Promise<void> {
    await this.#run('exec', sqlSnippet(sql), this.#retry, () =>
      this.#client.command({ query: sql, query_params: params && normalizeParams(params) }),
    );
  }

  async query<T = Record<string, unknown>>(sql: string, params?: Record<string, unknown>): Promise<T[]> {
    return this.#run('query', sqlSnippet(sql), this.#retry, async () => {
      const rs = await this.#client.query({
        query: sql,
        format: 'JSONEachRow',
        query_params: params && normalizeParams(params),
      });
      return rs.json<T>();
    });
  }

  async insertRows(table: string, rows: readonly Record<string, unknown>[], opts?: InsertOptions): Promise<void> {
    assertTableName(this.driver, table);
    if (rows.length === 0) return;
    const insert = await this.startInsert(table);
    try {
      for (const row of rows) insert.add(row);
    } catch (err) {
      // The columns may have changed under us (a migration): describe the table again next time.
      this.#tables.delete(table);
      throw new WarehouseError({ driver: this.driver, operation: 'insert', target: table }, messageOf(err), {
        cause: err,
      });
    }
    await this.sendInsert(insert, opts);
  }

  async startInsert(table: string): Promise<TableInsert> {
    assertTableName(this.driver, table);
    return new TableInsert(table, await this.#tableEncoder(table));
  }

  async sendInsert(insert: TableInsert, opts?: InsertOptions): Promise<void> {
    if (insert.rows === 0) return;
    const settings = insertSettings(opts);
    const query = insert.statement();
    const body = insert.body();
    await this.#run('insert', insert.table, this.#retry, async () => {
      // A fresh stream per attempt: a retry resends the same bytes (and the same dedup token).
      const res = await this.#client.exec({ query, values: Readable.from([body]), clickhouse_settings: settings });
      // The answer is empty; reading it to the end returns the socket to the pool.
      for await (const _ of res.stream);
    }).catch((err: unknown) => {
      this.#tables.delete(insert.table);
      throw err;
    });
  }

  /** The row encoder of a table, from the columns the server reports (cached until an insert fails). */
  #tableEncoder(table: string): Promise<RowBinaryTable> {
    let encoder = this.#tables.get(table);
    if (!encoder) {
      encoder = this.#run('insert', table, this.#retry, async () => {
        const rs = await this.#client.query({ query: `DESCRIBE TABLE ${table}`, format: 'JSONEachRow' });
        const cols = await rs.json<{ name: string; type: string; default_type: string }>();
        return rowBinaryTable(
          table,
          cols.map((c) => ({ name: c.name, type: c.type, defaultKind: c.default_type })),
        );
      });
      this.#tables.set(table, encoder);
      encoder.catch(() => this.#tables.delete(table));
    }
    return encoder;
  }

  async ping(): Promise<void> {
    // A SELECT (not the /ping endpoint) so that credentials and database are checked;
    // one attempt: a readiness probe should report, not wait.
    await this.#run('ping', 'SELECT 1', { ...this.#retry, attempts: 1 }, async () => {
      const rs = await this.#client.query({ query: 'SELECT 1 AS ok', format: 'JSONEachRow' });
      await rs.json();
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#client.close();
  }

  async #run<R>(
    operation: WarehouseOperation,
    target: string,
    policy: RetryPolicy,
    call: () => Promise<R>,
  ): Promise<R> {
    if (this.#closed) throw new WarehouseError({ driver: this.driver, operation, target }, 'the warehouse is closed');
    // A child of whatever the caller traces (an API request, a sink's insert); a no-op when tracing is off.
    const attributes = { 'db.system': 'clickhouse', 'db.operation.name': operation, 'db.query.summary': target };
    return inClientSpan(`warehouse ${operation}`, attributes, async () => {
      try {
        return await withRetry(call, policy);
      } catch (failure) {
        const attempts = failure instanceof FailedAfterAttempts ? failure.attempts : 1;
        const err = failure instanceof FailedAfterAttempts ? failure.lastError : failure;
        throw new WarehouseError(
          { driver: this.driver, operation, target, clickhouseCode: clickhouseCodeOf(err), attempts },
          messageOf(err),
          { cause: err },
        );
      }
    });
  }
}
