/**
 * Retention of the raw and derived tables: which table keeps its rows how
 * long, the TTL expression that says so, and the ALTER statements that take a
 * table from the TTL it has to the one configured. Pure: `apply-retention.ts`
 * reads the tables' state and runs the statements.
 *
 * - The TTL counts from `ingested_at`, when tgpulse wrote the row, never from
 *   event time: a replay or backfill of old history carries old event times,
 *   and a TTL on them would drop those rows as soon as they were written.
 * - Serving tables (what the API, the bot and Grafana read, filled by
 *   materialized views at insert time) have no TTL: their figures stay when
 *   the rows they were built from go.
 * - Tables partitioned by month, whose parts therefore hold rows written
 *   within about a month of each other, get `ttl_only_drop_parts = 1`: an
 *   expired part is dropped whole instead of being rewritten row by row. Such
 *   a part goes when its newest row expires. `raw_posts` (partitioned by year)
 *   and `dead_letters` (not partitioned) have parts of every age, so their
 *   rows are removed one by one.
 */

/**
 * How long each kind of warehouse row is kept, in days after tgpulse wrote it
 * (`ingested_at`); 0 keeps it forever. Read from `TGPULSE_RETENTION_*` at start.
 */
export interface RetentionConfig {
  /** `raw_post_counters`, `raw_channel_members`, `raw_channel_stats`: the snapshots, most of the volume. */
  rawSnapshotsDays: number;
  /** `raw_posts`, `raw_post_deleted`: one row per post seen, the source a new serving table is backfilled from. */
  rawPostsDays: number;
  /** `raw_bot_events`. */
  botEventsDays: number;
  /** `post_deltas`, `window_aggs`, `trends`, `anomaly_events`: what the processors emitted. */
  derivedDays: number;
  /** `dead_letters`: the trace of what a stage refused. */
  deadLettersDays: number;
}

/** The documented defaults (README, "Retention"). */
export const DEFAULT_RETENTION: RetentionConfig = {
  rawSnapshotsDays: 90,
  rawPostsDays: 365,
  botEventsDays: 180,
  derivedDays: 180,
  deadLettersDays: 30,
};

/** The longest retention accepted (100 years); beyond it, use 0 (forever). */
export const MAX_RETENTION_DAYS = 36_500;

/** A table with a retention: the setting it follows, and whether its parts age together. */
interface RetainedTable {
  /** The name migrations give it (`{{local …}}` renders the per-node table on a cluster). */
  table: string;
  keep: keyof RetentionConfig;
  /** Set `ttl_only_drop_parts = 1`: its monthly partitions hold rows written about together. */
  wholeParts: boolean;
}

/** Every table with a TTL. Serving tables are deliberately absent. */
export const RETAINED_TABLES: readonly RetainedTable[] = [
  { table: 'raw_posts', keep: 'rawPostsDays', wholeParts: false },
  { table: 'raw_post_deleted', keep: 'rawPostsDays', wholeParts: true },
  { table: 'raw_post_counters', keep: 'rawSnapshotsDays', wholeParts: true },
  { table: 'raw_channel_members', keep: 'rawSnapshotsDays', wholeParts: true },
  { table: 'raw_channel_stats', keep: 'rawSnapshotsDays', wholeParts: true },
  { table: 'raw_bot_events', keep: 'botEventsDays', wholeParts: true },
  { table: 'post_deltas', keep: 'derivedDays', wholeParts: true },
  { table: 'window_aggs', keep: 'derivedDays', wholeParts: true },
  { table: 'trends', keep: 'derivedDays', wholeParts: true },
  { table: 'anomaly_events', keep: 'derivedDays', wholeParts: true },
  { table: 'dead_letters', keep: 'deadLettersDays', wholeParts: false },
];

/**
 * The TTL expression of a retention, written as ClickHouse prints it back in
 * `system.tables`, so that comparing the two tells whether it changed.
 *
 * ```ts
 * ttlExpression(90) // 'ingested_at + toIntervalDay(90)'
 * ttlExpression(0)  // null: kept forever
 * ```
 */
export function ttlExpression(days: number): string | null {
  if (!Number.isInteger(days) || days < 0) throw new RangeError(`retention must be whole days ≥ 0, got ${days}`);
  return days === 0 ? null : `ingested_at + toIntervalDay(${days})`;
}

/**
 * The days of a TTL that {@link ttlExpression} wrote, or null for no TTL or
 * one set by hand (shown as its expression instead).
 */
export function ttlDays(expression: string | null): number | null {
  const m = expression === null ? null : /^ingested_at \+ toIntervalDay\((\d+)\)$/.exec(expression);
  return m ? Number(m[1]) : null;
}

/** What a table has now, as far as retention is concerned. */
export interface TableRetentionState {
  /** The table's TTL expression, null when it has none. */
  ttl: string | null;
  ttlOnlyDropParts: boolean;
}

/**
 * Read the TTL and `ttl_only_drop_parts` out of a table's `engine_full`
 * (`system.tables`), e.g. `ReplacingMergeTree(ingested_at) PARTITION BY …
 * ORDER BY … TTL ingested_at + toIntervalDay(90) SETTINGS a = 1, b = 2`.
 */
export function tableRetentionState(engineFull: string): TableRetentionState {
  const settingsAt = engineFull.lastIndexOf(' SETTINGS ');
  const head = settingsAt < 0 ? engineFull : engineFull.slice(0, settingsAt);
  const settings = settingsAt < 0 ? '' : engineFull.slice(settingsAt + ' SETTINGS '.length);
  const ttlAt = head.indexOf(' TTL ');
  return {
    ttl: ttlAt < 0 ? null : head.slice(ttlAt + ' TTL '.length).trim(),
    ttlOnlyDropParts: /(?:^|,\s*)ttl_only_drop_parts = 1(?:,|$)/.test(settings),
  };
}

/** One statement that brings a table to its configured retention. */
export interface RetentionChange {
  table: string;
  /** `ttl`: set or change the TTL; `remove_ttl`: keep forever; `whole_parts`: set `ttl_only_drop_parts`. */
  kind: 'ttl' | 'remove_ttl' | 'whole_parts';
  /** The ALTER with `{{local …}}` and `{{on_cluster}}` markers, rendered for the target like a migration. */
  statement: string;
}

/**
 * The statements that take the tables from their `current` state to `cfg`;
 * none when nothing differs, so a start with unchanged configuration alters
 * nothing. Changing a TTL makes ClickHouse apply it to the existing parts in
 * the background (`materialize_ttl_after_modify`); `mutations_sync = 0` keeps
 * the start from waiting for that.
 *
 * @throws Error when `current` lacks one of the tables (migrations create them all).
 */
export function retentionChanges(
  cfg: RetentionConfig,
  current: ReadonlyMap<string, TableRetentionState>,
): RetentionChange[] {
  const changes: RetentionChange[] = [];
  for (const { table, keep, wholeParts } of RETAINED_TABLES) {
    const now = current.get(table);
    if (now === undefined) throw new Error(`table ${table} is missing: run \`tgpulse migrate\` to create it`);
    const alter = `ALTER TABLE {{local ${table}}} {{on_cluster}}`;
    if (wholeParts && !now.ttlOnlyDropParts) {
      changes.push({ table, kind: 'whole_parts', statement: `${alter} MODIFY SETTING ttl_only_drop_parts = 1` });
    }
    const ttl = ttlExpression(cfg[keep]);
    if (ttl === now.ttl) continue;
    changes.push(
      ttl === null
        ? { table, kind: 'remove_ttl', statement: `${alter} REMOVE TTL SETTINGS mutations_sync = 0` }
        : { table, kind: 'ttl', statement: `${alter} MODIFY TTL ${ttl} SETTINGS mutations_sync = 0` },
    );
  }
  return changes;
}
