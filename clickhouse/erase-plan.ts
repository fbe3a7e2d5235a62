/**
 * What erasing a channel (`tgpulse channels forget`) does to each table, read
 * from the columns the warehouse reports (system.columns), so a table added by
 * a later migration is covered without being named here. Pure: erase.ts runs
 * the statements.
 *
 * Only tables that hold channel data are touched: MergeTree tables with a
 * column naming a channel. In them, by column:
 * - `channel_id`: the channel's own rows, deleted;
 * - another `…channel_id` column (`forward_from_channel_id`): another
 *   channel's row citing it, set NULL (the row deleted when not Nullable);
 * - `Array(String)` (mentions, links): elements naming it removed (a
 *   `t.me/c/<id>/<post>` link names a channel by id);
 * - `String` text that is not an id (dead letters' subject, payload and
 *   detail; bot events' properties): a row whose text names it, deleted.
 *
 * "Names it" means the id as a number of its own: not inside a longer number,
 * and also in its Bot API form `-100<id>`. Materialized views are not tables
 * (their target tables are), and on a cluster the statements go to the local
 * tables, ON CLUSTER.
 *
 * ```ts
 * const plans = planErasure(columns, '1001234567', SINGLE_NODE);
 * for (const p of plans) await wh.exec(p.delete ?? '');
 * ```
 */
import type { RenderTarget } from './template.ts';

/** One column as system.columns and system.tables report it. */
export interface WarehouseColumn {
  table: string;
  name: string;
  type: string;
  engine: string;
}

/** The statements that erase a channel from one table. */
export interface TableErasurePlan {
  table: string;
  /** Counts what the statements would change: columns `deleted` and `edited`. */
  count: string;
  /** Deletes the rows of the channel and the rows whose text names it; null when the table has none to check. */
  delete: string | null;
  /** Takes the channel out of other rows (references, lists); null when the table has none. */
  update: string | null;
}

/** A bare channel id: a positive decimal, so it can be written into SQL as a literal. */
const CHANNEL_ID = /^[1-9][0-9]{0,19}$/;

const ID_COLUMN = /(^|_)id$/;
const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The regular expression (RE2) matching text that names the channel. */
export function namesChannel(channelId: string): string {
  return `(^|[^0-9])(-100)?${channelId}([^0-9]|$)`;
}

/**
 * The statements that erase `channelId` from every table holding channel
 * data, in table order.
 *
 * @throws Error when the id is not a bare decimal channel id.
 */
export function planErasure(
  columns: readonly WarehouseColumn[],
  channelId: string,
  target: RenderTarget,
): TableErasurePlan[] {
  if (!CHANNEL_ID.test(channelId))
    throw new Error(`cannot erase channel ${JSON.stringify(channelId)}: expected a bare decimal channel id`);
  const id = `'${channelId}'`;
  const re = `'${namesChannel(channelId)}'`;
  const byTable = new Map<string, WarehouseColumn[]>();
  for (const c of columns) {
    if (!c.engine.endsWith('MergeTree') || !PLAIN_NAME.test(c.table) || !PLAIN_NAME.test(c.name)) continue;
    byTable.set(c.table, [...(byTable.get(c.table) ?? []), c]);
  }
  const plans: TableErasurePlan[] = [];
  for (const [table, cols] of [...byTable].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const owner = cols.some((c) => c.name === 'channel_id');
    const refs = cols.filter((c) => c.name !== 'channel_id' && c.name.endsWith('channel_id'));
    if (!owner && refs.length === 0) continue;
    const gone: string[] = owner ? [`channel_id = ${id}`] : [];
    const edits: Array<{ column: string; value: string; where: string }> = [];
    for (const c of refs) {
      if (c.type.startsWith('Nullable(')) edits.push({ column: c.name, value: 'NULL', where: `${c.name} = ${id}` });
      else gone.push(`${c.name} = ${id}`);
    }
    for (const c of cols) {
      if (/^Array\((Nullable\()?String\)?\)$/.test(c.type))
        edits.push({
          column: c.name,
          value: `arrayFilter(x -> NOT match(ifNull(x, ''), ${re}), ${c.name})`,
          where: `arrayExists(x -> match(ifNull(x, ''), ${re}), ${c.name})`,
        });
      else if (/^(Nullable\()?String\)?$/.test(c.type) && !c.name.endsWith('channel_id') && !ID_COLUMN.test(c.name))
        gone.push(`match(ifNull(${c.name}, ''), ${re})`);
    }
    // NULL (a Nullable column) is no match.
    const deleted = gone.length ? gone.map((g) => `ifNull(${g}, 0)`).join(' OR ') : null;
    const edited = edits.length ? edits.map((e) => `ifNull(${e.where}, 0)`).join(' OR ') : null;
    const local = target.kind === 'cluster' ? ` ON CLUSTER '${target.cluster}'` : '';
    const from = target.kind === 'cluster' ? `cluster('${target.cluster}', '${target.database}', '${table}')` : table;
    plans.push({
      table,
      // A row both deleted and edited is counted as deleted.
      count: `SELECT ${deleted ? `countIf(${deleted})` : '0'} AS deleted, ${edited ? `countIf(${deleted ? `NOT (${deleted}) AND ` : ''}(${edited}))` : '0'} AS edited FROM ${from}`,
      delete: deleted ? `ALTER TABLE ${table}${local} DELETE WHERE ${deleted} SETTINGS mutations_sync = 2` : null,
      update: edited
        ? `ALTER TABLE ${table}${local} UPDATE ${edits.map((e) => `${e.column} = if(${e.where}, ${e.value}, ${e.column})`).join(', ')} WHERE ${edited} SETTINGS mutations_sync = 2`
        : null,
    });
  }
  return plans;
}
