/**
 * How big each warehouse table is and how long it keeps rows, for `tgpulse
 * status`: rows and bytes of the active parts (`system.parts`) and the TTL in
 * force (`system.tables`). On a cluster these are the figures of the node the
 * connection reaches (its shard), not of the whole cluster.
 */
import { tableRetentionState } from './retention.ts';
import type { Warehouse } from './warehouse.ts';

/** One table of the warehouse's database. */
export interface TableSize {
  table: string;
  rows: number;
  /** Bytes on disk: compressed data, marks and indexes of the active parts. */
  bytes_on_disk: number;
  /** The same data uncompressed. */
  bytes_uncompressed: number;
  /** The TTL expression in force; null: rows are kept forever. */
  ttl: string | null;
}

const SIZES_SQL = `
SELECT t.name AS table, t.engine_full AS engine_full,
       p.rows AS rows, p.bytes_on_disk AS bytes_on_disk, p.bytes_uncompressed AS bytes_uncompressed
FROM system.tables AS t
LEFT JOIN (
    SELECT table, sum(rows) AS rows, sum(bytes_on_disk) AS bytes_on_disk,
           sum(data_uncompressed_bytes) AS bytes_uncompressed
    FROM system.parts
    WHERE active AND database = currentDatabase()
    GROUP BY table
) AS p ON p.table = t.name
WHERE t.database = currentDatabase() AND t.engine LIKE '%MergeTree'
ORDER BY t.name`;

/**
 * The sizes of the MergeTree tables of the connection's database, by name
 * (views and Distributed tables hold no parts and are left out). Needs only
 * SELECT, so the local warehouse's `reader` may ask.
 *
 * ```ts
 * const kept = (await readTableSizes(wh)).filter((t) => t.ttl === null); // the tables kept forever
 * ```
 */
export async function readTableSizes(wh: Warehouse): Promise<TableSize[]> {
  const rows = await wh.query<Record<string, unknown>>(SIZES_SQL);
  return rows.map((r) => ({
    table: String(r.table),
    rows: Number(r.rows),
    bytes_on_disk: Number(r.bytes_on_disk),
    bytes_uncompressed: Number(r.bytes_uncompressed),
    ttl: tableRetentionState(String(r.engine_full)).ttl,
  }));
}
