/**
 * A logical dump of the control plane, and its load into a fresh one: every
 * table's rows as JSON, read in one snapshot and written back through
 * Postgres's own `json_populate_recordset`, so every type (bytea, arrays,
 * timestamps, jsonb) round-trips by Postgres's rules, not ours.
 *
 * Why not `pg_dump`: the embedded store (PGlite, Postgres 17) is reached over
 * its wire endpoint while `tgpulse up` holds it, and a distribution's older
 * `pg_dump` refuses a newer server; a server deployment can still use
 * `pg_dump` for its own backups. The dump is one JSON line per table (rows
 * within), small as control planes are (keys, grants, channels, deliveries).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Pool, PoolClient } from 'pg';
import { withTransaction } from './db.ts';

/** The table that records applied migrations: written by migrations, never loaded from a dump. */
const MIGRATIONS_TABLE = 'control_migrations';
/** A dump line: `{"table":"name","rows":[…]}`. */
const LINE_PREFIX = '{"table":';
const ROWS_KEY = ',"rows":';

/** One applied migration as `control_migrations` records it. */
export interface ControlMigrationRecord {
  version: number;
  name: string;
  checksum: string;
}

/** What a dump holds: rows per table and the schema it was taken from. */
export interface ControlDumpSummary {
  tables: Record<string, number>;
  migrations: ControlMigrationRecord[];
}

/**
 * Writes every control-plane table to `file`, read in one repeatable-read
 * transaction: a consistent cut even while tgpulse runs.
 *
 * @example
 * const { tables } = await dumpControl(control.pool, 'backup/control.jsonl');
 */
export async function dumpControl(pool: Pool, file: string): Promise<ControlDumpSummary> {
  const out = createWriteStream(file, { mode: 0o600 });
  const closed = once(out, 'close');
  try {
    const summary = await withTransaction(pool, async (client) => {
      await client.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      const tables: Record<string, number> = {};
      // The migrations are the manifest's business, and a fresh control plane writes its own.
      for (const table of (await tableNames(client)).filter((t) => t !== MIGRATIONS_TABLE)) {
        // Rows stay Postgres's JSON text end to end: a JSON.parse would round 64-bit integers.
        const { rows } = await client.query<{ n: number; j: string }>(
          `SELECT count(*)::int AS n, coalesce(json_agg(t), '[]'::json)::text AS j FROM ${quoteIdent(table)} t`,
        );
        tables[table] = rows[0].n;
        // json_agg puts a line break between rows; inside JSON strings breaks are escaped, so this is whitespace only.
        const json = rows[0].j.replace(/\n/g, '');
        if (!out.write(`${LINE_PREFIX}${JSON.stringify(table)}${ROWS_KEY}${json}}\n`)) await once(out, 'drain');
      }
      return { tables, migrations: await appliedMigrations(client) };
    });
    out.end();
    await closed;
    return summary;
  } catch (err) {
    out.destroy();
    throw err;
  }
}

/**
 * Loads a dump into a control plane whose schema matches it (the caller
 * compares {@link ControlDumpSummary.migrations} first): empties every table,
 * inserts the rows in foreign-key order and moves each identity sequence past
 * the highest id, all in one transaction.
 *
 * @returns the rows loaded per table.
 * @throws Error naming the table when a line is malformed or an insert fails; nothing is changed then.
 */
export async function loadControl(pool: Pool, file: string): Promise<Record<string, number>> {
  const lines = new Map<string, string>();
  const reader = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const text of reader) {
    if (!text.trim()) continue;
    const line = splitLine(text);
    if (line === null) throw new Error(`control dump ${file}: a line is not {"table":…,"rows":[…]}`);
    lines.set(line.table, line.rows);
  }
  return withTransaction(pool, async (client) => {
    const present = await tableNames(client);
    const unknown = [...lines.keys()].filter((t) => t !== MIGRATIONS_TABLE && !present.includes(t));
    if (unknown.length) throw new Error(`control dump ${file} holds tables this schema lacks: ${unknown.join(', ')}`);
    const targets = present.filter((t) => t !== MIGRATIONS_TABLE);
    if (targets.length) await client.query(`TRUNCATE ${targets.map(quoteIdent).join(', ')} CASCADE`);
    const loaded: Record<string, number> = {};
    for (const table of insertOrder(targets, await foreignKeys(client))) {
      const result = await client
        .query(
          `INSERT INTO ${quoteIdent(table)} OVERRIDING SYSTEM VALUE SELECT * FROM json_populate_recordset(NULL::${quoteIdent(table)}, $1::json)`,
          [lines.get(table) ?? '[]'],
        )
        .catch((err: Error) => {
          throw new Error(`control dump ${file}: loading ${table} failed: ${err.message}`, { cause: err });
        });
      loaded[table] = result.rowCount ?? 0;
    }
    await resetSequences(client, targets);
    return loaded;
  });
}

/** The table name and the rows' JSON text of a dump line, or null when it is not one. Pure. */
export function splitLine(text: string): { table: string; rows: string } | null {
  if (!text.startsWith(LINE_PREFIX) || !text.endsWith('}')) return null;
  const at = text.indexOf(ROWS_KEY, LINE_PREFIX.length);
  if (at < 0) return null;
  let table: unknown;
  try {
    table = JSON.parse(text.slice(LINE_PREFIX.length, at));
  } catch {
    return null;
  }
  const rows = text.slice(at + ROWS_KEY.length, -1);
  return typeof table === 'string' && rows.startsWith('[') ? { table, rows } : null;
}

/**
 * Tables in an order where every table comes after the tables its foreign
 * keys point to (self-references ignored). Pure.
 */
export function insertOrder(tables: string[], references: Array<{ from: string; to: string }>): string[] {
  const needs = new Map(tables.map((t) => [t, new Set<string>()]));
  for (const { from, to } of references) if (from !== to && needs.has(to)) needs.get(from)?.add(to);
  const order: string[] = [];
  const placed = new Set<string>();
  while (order.length < tables.length) {
    const ready = tables.filter((t) => !placed.has(t) && [...(needs.get(t) ?? [])].every((d) => placed.has(d)));
    if (!ready.length) throw new Error(`control tables reference each other in a cycle: ${tables.join(', ')}`);
    for (const t of ready) {
      placed.add(t);
      order.push(t);
    }
  }
  return order;
}

async function tableNames(client: PoolClient): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.tables
      WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`,
  );
  return rows.map((r) => r.name);
}

async function foreignKeys(client: PoolClient): Promise<Array<{ from: string; to: string }>> {
  const { rows } = await client.query<{ from: string; to: string }>(
    `SELECT c.conrelid::regclass::text AS "from", c.confrelid::regclass::text AS "to"
       FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
      WHERE c.contype = 'f' AND n.nspname = current_schema()`,
  );
  return rows.map((r) => ({ from: unquote(r.from), to: unquote(r.to) }));
}

async function appliedMigrations(client: PoolClient): Promise<ControlMigrationRecord[]> {
  const { rows } = await client.query<ControlMigrationRecord>(
    `SELECT version, name, checksum FROM ${MIGRATIONS_TABLE} ORDER BY version`,
  );
  return rows.map((r) => ({ version: Number(r.version), name: r.name, checksum: r.checksum }));
}

/** Moves every serial or identity sequence of the tables past the highest value loaded. */
async function resetSequences(client: PoolClient, tables: string[]): Promise<void> {
  const { rows } = await client.query<{ table: string; column: string; seq: string }>(
    `SELECT table_name AS table, column_name AS column,
            pg_get_serial_sequence(quote_ident(table_name), column_name) AS seq
       FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name = ANY($1)
        AND pg_get_serial_sequence(quote_ident(table_name), column_name) IS NOT NULL`,
    [tables],
  );
  for (const r of rows) {
    await client.query(
      `SELECT setval($1, coalesce((SELECT max(${quoteIdent(r.column)}) FROM ${quoteIdent(r.table)}), 0) + 1, false)`,
      [r.seq],
    );
  }
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function unquote(name: string): string {
  return name.startsWith('"') ? name.slice(1, -1).replace(/""/g, '"') : name;
}
