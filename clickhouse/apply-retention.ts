/**
 * Bringing a warehouse to the configured retention, after its migrations, at
 * every start: read what each retained table has (`system.tables`), run the
 * ALTERs that `retention.ts` plans, rendered for the target like a migration
 * (on a cluster, `ON CLUSTER` on the per-node tables). With unchanged
 * configuration it alters nothing.
 */
import { messageOf } from './errors.ts';
import {
  RETAINED_TABLES,
  retentionChanges,
  tableRetentionState,
  type RetentionChange,
  type RetentionConfig,
  type TableRetentionState,
} from './retention.ts';
import { SINGLE_NODE, renderStatement, type RenderTarget } from './template.ts';
import type { Warehouse } from './warehouse.ts';

/** Why retention could not be applied; names the table and the statement. */
export class RetentionError extends Error {
  override readonly name = 'RetentionError';
}

/**
 * Apply `cfg` to the retained tables and return what was changed (empty when
 * every table already matched).
 *
 * ```ts
 * const changes = await applyRetention(wh, config.retention, { target: renderTargetFor(config.warehouse) });
 * ```
 * @throws RetentionError when a table is missing or an ALTER fails.
 */
export async function applyRetention(
  wh: Warehouse,
  cfg: RetentionConfig,
  opts: { target?: RenderTarget } = {},
): Promise<RetentionChange[]> {
  const target = opts.target ?? SINGLE_NODE;
  let changes: RetentionChange[];
  try {
    changes = retentionChanges(cfg, await readRetentionState(wh, target));
  } catch (err) {
    throw new RetentionError(`cannot read the retention of the warehouse tables: ${messageOf(err)}`, { cause: err });
  }
  for (const change of changes) {
    const statement = renderStatement(change.statement, target);
    try {
      await wh.exec(statement);
    } catch (err) {
      throw new RetentionError(
        `${change.table}: ${statement} failed: ${messageOf(err)}. ` +
          'Check that the warehouse user may ALTER the table, or set its TGPULSE_RETENTION_* variable to what the table has',
        { cause: err },
      );
    }
  }
  return changes;
}

/** Each retained table's TTL and `ttl_only_drop_parts`, by its name in the migrations. */
async function readRetentionState(wh: Warehouse, target: RenderTarget): Promise<Map<string, TableRetentionState>> {
  const byLocalName = new Map(
    RETAINED_TABLES.map(({ table }) => [renderStatement(`{{local ${table}}}`, target), table]),
  );
  const rows = await wh.query<{ name: string; engine_full: string }>(
    'SELECT name, engine_full FROM system.tables WHERE database = currentDatabase() AND name IN {names:Array(String)}',
    { names: [...byLocalName.keys()] },
  );
  const state = new Map<string, TableRetentionState>();
  for (const row of rows) {
    const table = byLocalName.get(row.name);
    if (table !== undefined) state.set(table, tableRetentionState(row.engine_full));
  }
  return state;
}
