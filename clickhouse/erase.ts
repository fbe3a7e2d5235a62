/**
 * Erasing a channel from the warehouse (`tgpulse channels forget`): every
 * table that holds channel data, raw, derived and serving (the targets of the
 * materialized views too), as erase-plan.ts says, with mutations the engine
 * finishes before answering (`mutations_sync = 2`: on every replica).
 *
 * A sink may be writing a batch it checked against the register of forgotten
 * channels just before the channel entered it. So the erasure counts, erases,
 * waits a grace longer than such a write takes, and counts again, erasing
 * again while something is found, a few rounds at most; what it reports is
 * what it found in each round.
 *
 * ```ts
 * const result = await eraseChannelFromWarehouse(wh, '1001234567', { graceMs: 5000 });
 * if (result.remaining.length) console.warn('run forget again');
 * ```
 */
import { sleep } from '../common/index.ts';
import { messageOf } from './errors.ts';
import { planErasure, type TableErasurePlan, type WarehouseColumn } from './erase-plan.ts';
import { SINGLE_NODE, type RenderTarget } from './template.ts';
import type { Warehouse } from './warehouse.ts';

/** Rows of one table erased (deleted) or edited (a mention taken out of another channel's row). */
export interface TableErasure {
  table: string;
  deleted: number;
  edited: number;
}

/** What erasing a channel from the warehouse found and did. */
export interface WarehouseErasure {
  /** Per table with anything found, the rows of every round together, in table order. */
  tables: TableErasure[];
  /** Rounds of erasing (1 when nothing was written meanwhile). */
  rounds: number;
  /** What still named the channel after the last round (empty when it is gone). */
  remaining: TableErasure[];
}

export interface WarehouseErasureOptions {
  /** Where the tables live (default: one node). */
  target?: RenderTarget;
  /** Wait after each round before counting again: longer than a sink takes from checking a batch to writing it. */
  graceMs: number;
  /** Rounds at most (default 3). */
  maxRounds?: number;
  signal?: AbortSignal;
  /** How the grace is waited (tests write during it); default: a timer. */
  wait?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/**
 * Erases every row and mention of a channel from the warehouse's tables.
 * Safe to run again: a second run finds nothing and changes nothing.
 *
 * @throws Error naming the table when a statement fails (what was erased before stays erased).
 */
export async function eraseChannelFromWarehouse(
  wh: Warehouse,
  channelId: string,
  opts: WarehouseErasureOptions,
): Promise<WarehouseErasure> {
  const columns = await wh.query<WarehouseColumn>(
    `SELECT c.table AS table, c.name AS name, c.type AS type, t.engine AS engine
     FROM system.columns AS c INNER JOIN system.tables AS t ON t.database = c.database AND t.name = c.table
     WHERE c.database = currentDatabase()`,
  );
  const plans = planErasure(columns, channelId, opts.target ?? SINGLE_NODE);
  const maxRounds = opts.maxRounds ?? 3;
  const totals = new Map<string, TableErasure>();
  for (let rounds = 0; ; rounds++) {
    const found = await countMentions(wh, plans);
    if (rounds > 0 && found.length === 0) return { tables: [...totals.values()], rounds, remaining: [] };
    if (rounds === maxRounds) return { tables: [...totals.values()], rounds, remaining: found };
    for (const f of found) {
      const plan = plans.find((p) => p.table === f.table);
      if (plan) await run(wh, plan, f);
      const total = totals.get(f.table) ?? { table: f.table, deleted: 0, edited: 0 };
      totals.set(f.table, { table: f.table, deleted: total.deleted + f.deleted, edited: total.edited + f.edited });
    }
    await (opts.wait ?? sleep)(opts.graceMs, opts.signal);
  }
}

/** The tables where something names the channel, with how many rows. */
async function countMentions(wh: Warehouse, plans: readonly TableErasurePlan[]): Promise<TableErasure[]> {
  const found: TableErasure[] = [];
  for (const plan of plans) {
    const [row] = await wh.query<{ deleted: string; edited: string }>(plan.count);
    const deleted = Number(row?.deleted ?? 0);
    const edited = Number(row?.edited ?? 0);
    if (deleted || edited) found.push({ table: plan.table, deleted, edited });
  }
  return found;
}

async function run(wh: Warehouse, plan: TableErasurePlan, found: TableErasure): Promise<void> {
  for (const statement of [found.deleted ? plan.delete : null, found.edited ? plan.update : null]) {
    if (statement === null) continue;
    try {
      await wh.exec(statement);
    } catch (err) {
      throw new Error(
        `erasing the channel from ${plan.table} failed: ${messageOf(err)}; what was erased stays erased, run the forget again`,
        { cause: err },
      );
    }
  }
}
