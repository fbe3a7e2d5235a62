/**
 * The embedded driver: ClickHouse running inside this process through chDB,
 * data in a local folder. Only chDB's async calls are used — the synchronous
 * ones block the event loop for the whole query.
 *
 * chDB binds one data folder per process. This module therefore keeps a
 * per-process registry: opening the folder that is already open shares its
 * session (reference-counted); opening a different one is refused with a
 * message that says what to do.
 */
import { mkdirSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { Session, drainPending } from 'chdb';
import { WarehouseError, clickhouseCodeOf, messageOf, sqlSnippet, type WarehouseOperation } from './errors.ts';
import { normalizeParams } from './values.ts';
import {
  assertTableName,
  insertSettings,
  parseJsonEachRow,
  toJsonEachRow,
  type InsertOptions,
  type Warehouse,
} from './warehouse.ts';

/** Engine options given at connect time (they cannot be SET later). */
const CONNECTION_ARGS = [
  // Agree with a ClickHouse server's default: 64-bit integers as JSON strings, no precision loss.
  '--output_format_json_quote_64bit_integers=1',
];

interface OpenFolder {
  path: string;
  session: Promise<Session>;
  handles: number;
}

/** The one data folder open in this process, if any. */
let openFolder: OpenFolder | null = null;

/**
 * Open (or share) the chDB data folder at `path`, creating it if needed.
 *
 * @throws WarehouseError if a different folder is open in this process.
 */
export async function openEmbeddedWarehouse(path: string): Promise<Warehouse> {
  const folder = canonicalFolder(path);
  if (openFolder !== null && openFolder.path !== folder) {
    throw new WarehouseError(
      { driver: 'embedded', operation: 'open', target: folder },
      `chDB allows one data folder per process and "${openFolder.path}" is open. ` +
        'Close every warehouse on it first, or use that same path, or run this in another process.',
    );
  }
  if (openFolder === null) {
    openFolder = { path: folder, session: startSession(folder), handles: 0 };
  }
  const entry = openFolder;
  entry.handles += 1;
  try {
    return new EmbeddedWarehouse(entry, await entry.session);
  } catch (err) {
    entry.handles -= 1;
    if (openFolder === entry && entry.handles === 0) openFolder = null;
    throw err;
  }
}

function canonicalFolder(path: string): string {
  const abs = resolve(path);
  try {
    mkdirSync(abs, { recursive: true });
    return realpathSync(abs);
  } catch (err) {
    throw new WarehouseError({ driver: 'embedded', operation: 'open', target: abs }, messageOf(err), { cause: err });
  }
}

async function startSession(folder: string): Promise<Session> {
  try {
    // A session closed while work was in flight releases its folder later;
    // wait for that so reopening right after close() works.
    await drainPending();
    return new Session(folder, { connectionArgs: CONNECTION_ARGS });
  } catch (err) {
    throw new WarehouseError({ driver: 'embedded', operation: 'open', target: folder }, messageOf(err), { cause: err });
  }
}

class EmbeddedWarehouse implements Warehouse {
  readonly driver = 'embedded' as const;
  #folder: OpenFolder;
  #session: Session;
  #closed = false;

  constructor(folder: OpenFolder, session: Session) {
    this.#folder = folder;
    this.#session = session;
  }

  async exec(sql: string, params?: Record<string, unknown>): Promise<void> {
    await this.#run('exec', sqlSnippet(sql), () =>
      params === undefined
        ? this.#session.queryAsync(sql)
        : this.#session.queryBindAsync(sql, normalizeParams(params)),
    );
  }

  async query<T = Record<string, unknown>>(sql: string, params?: Record<string, unknown>): Promise<T[]> {
    const result = await this.#run('query', sqlSnippet(sql), () =>
      params === undefined
        ? this.#session.queryAsync(sql, { format: 'JSONEachRow' })
        : this.#session.queryBindAsync(sql, normalizeParams(params), { format: 'JSONEachRow' }),
    );
    return parseJsonEachRow<T>(result.text());
  }

  async insertRows(table: string, rows: readonly Record<string, unknown>[], opts?: InsertOptions): Promise<void> {
    assertTableName(this.driver, table);
    if (rows.length === 0) return;
    await this.#run('insert', table, () =>
      this.#session.insert({
        table,
        values: Buffer.from(toJsonEachRow(rows), 'utf8'),
        format: 'JSONEachRow',
        settings: insertSettings(opts),
      }),
    );
  }

  async ping(): Promise<void> {
    await this.#run('ping', 'SELECT 1', () => this.#session.queryAsync('SELECT 1'));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const folder = this.#folder;
    folder.handles -= 1;
    if (folder.handles > 0) return;
    if (openFolder === folder) openFolder = null;
    this.#session.close();
    // Wait until the engine has really let go of the folder, so the caller
    // (or a test) can open another one right away.
    await drainPending();
  }

  async #run<R>(operation: WarehouseOperation, target: string, call: () => Promise<R>): Promise<R> {
    if (this.#closed) {
      throw new WarehouseError({ driver: this.driver, operation, target }, 'the warehouse is closed');
    }
    try {
      return await call();
    } catch (err) {
      throw new WarehouseError(
        { driver: this.driver, operation, target, clickhouseCode: clickhouseCodeOf(err) },
        messageOf(err),
        { cause: err },
      );
    }
  }
}
