/**
 * Where a channel id still appears, for the tests of `tgpulse channels
 * forget`: every column of every table of the warehouse database (read from
 * system.columns) and every row of every control-plane table, matched as a
 * number equal to it, or in a text as a number of its own (also in its Bot API
 * form `-100<id>`): a longer number that contains its digits, such as another
 * channel's id, is not the id.
 */
import type { Pool } from 'pg';
import type { Warehouse } from '../../clickhouse/warehouse.ts';

/** A place the id was found, with how many rows hold it. */
export interface Mention {
  table: string;
  column: string;
  rows: number;
}

/** The id as a number of its own in a text. */
function idPattern(id: string): string {
  if (!/^[0-9]+$/.test(id)) throw new Error(`expected a decimal id, got ${id}`);
  return `(^|[^0-9])(-100)?${id}([^0-9]|$)`;
}

/**
 * Every warehouse column holding `id`: a text (strings, arrays, maps, the
 * values of aggregate states) that names it, or a number equal to it. Views
 * are skipped: they hold nothing of their own.
 */
export async function warehouseMentions(wh: Warehouse, id: string): Promise<Mention[]> {
  const pattern = idPattern(id);
  const columns = await wh.query<{ table: string; name: string; type: string }>(
    `SELECT c.table AS table, c.name AS name, c.type AS type
     FROM system.columns AS c INNER JOIN system.tables AS t ON t.database = c.database AND t.name = c.table
     WHERE c.database = currentDatabase() AND t.engine NOT LIKE '%View'
     ORDER BY c.table, c.position`,
  );
  const byTable = new Map<string, Array<{ name: string; test: string }>>();
  for (const c of columns) {
    const value = c.type.startsWith('AggregateFunction(') ? `finalizeAggregation(\`${c.name}\`)` : `\`${c.name}\``;
    const numeric = /^(Nullable\()?(U?Int|Float|Decimal)/.test(c.type);
    const test = numeric ? `toString(${value}) = '${id}'` : `match(toString(${value}), '${pattern}')`;
    byTable.set(c.table, [...(byTable.get(c.table) ?? []), { name: c.name, test }]);
  }
  const found: Mention[] = [];
  for (const [table, cols] of byTable) {
    const [row] = await wh.query<Record<string, string>>(
      `SELECT ${cols.map((c, i) => `countIf(ifNull(${c.test}, 0)) AS c${i}`).join(', ')} FROM \`${table}\``,
    );
    cols.forEach((c, i) => {
      const rows = Number(row[`c${i}`]);
      if (rows) found.push({ table, column: c.name, rows });
    });
  }
  return found;
}

/** Every control-plane table whose rows hold `id` anywhere, as their JSON text. */
export async function controlMentions(pool: Pool, id: string): Promise<Mention[]> {
  const { rows: tables } = await pool.query<{ name: string }>(
    "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1",
  );
  const found: Mention[] = [];
  for (const { name } of tables) {
    const { rows } = await pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM "${name}" AS t WHERE row_to_json(t)::text ~ $1`,
      [idPattern(id)],
    );
    if (Number(rows[0].n)) found.push({ table: name, column: '*', rows: Number(rows[0].n) });
  }
  return found;
}
