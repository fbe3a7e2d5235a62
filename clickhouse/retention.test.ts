import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RETENTION,
  RETAINED_TABLES,
  type RetentionConfig,
  retentionChanges,
  type TableRetentionState,
  tableRetentionState,
  ttlDays,
  ttlExpression,
} from './retention.ts';
import { loadMigrations } from './migrate.ts';
import { renderStatement } from './template.ts';

const ENGINE =
  'ReplacingMergeTree(ingested_at) PARTITION BY toYYYYMM(event_time) ORDER BY (channel_id, event_time, id)';
const SETTINGS = 'SETTINGS non_replicated_deduplication_window = 1000, index_granularity = 8192';

/** The state every table has once `cfg` was applied. */
function appliedState(cfg: RetentionConfig): Map<string, TableRetentionState> {
  return new Map(
    RETAINED_TABLES.map(({ table, keep, wholeParts }) => [
      table,
      { ttl: ttlExpression(cfg[keep]), ttlOnlyDropParts: wholeParts },
    ]),
  );
}

describe('retention expressions', () => {
  it('count whole days from ingested_at, as ClickHouse prints them back', () => {
    expect(ttlExpression(90)).toBe('ingested_at + toIntervalDay(90)');
    expect(ttlExpression(0)).toBe(null);
    expect(() => ttlExpression(1.5)).toThrow(RangeError);
    expect(ttlDays('ingested_at + toIntervalDay(90)')).toBe(90);
    expect(ttlDays('event_time + toIntervalMonth(1)')).toBe(null);
    expect(ttlDays(null)).toBe(null);
  });

  it("read a table's TTL and ttl_only_drop_parts out of its engine_full", () => {
    expect(tableRetentionState(`${ENGINE} ${SETTINGS}`)).toEqual({ ttl: null, ttlOnlyDropParts: false });
    expect(
      tableRetentionState(`${ENGINE} TTL ingested_at + toIntervalDay(90) ${SETTINGS}, ttl_only_drop_parts = 1`),
    ).toEqual({ ttl: 'ingested_at + toIntervalDay(90)', ttlOnlyDropParts: true });
    expect(tableRetentionState(`${ENGINE} TTL ingested_at + toIntervalDay(7)`)).toEqual({
      ttl: 'ingested_at + toIntervalDay(7)',
      ttlOnlyDropParts: false,
    });
    expect(tableRetentionState(`${ENGINE} SETTINGS ttl_only_drop_parts = 0`).ttlOnlyDropParts).toBe(false);
  });

  it('cover every table of the raw and derived migrations, and no serving table', async () => {
    const tablesOf = (sql: string) =>
      [...sql.matchAll(/CREATE TABLE IF NOT EXISTS \{\{local (\w+)\}\}/g)].map((m) => m[1]);
    const migrations = await loadMigrations();
    const rawAndDerived = migrations.filter((m) => m.version <= 2).flatMap((m) => tablesOf(m.sql));
    const serving = migrations.filter((m) => m.version > 2).flatMap((m) => tablesOf(m.sql));
    expect(rawAndDerived).toHaveLength(11);
    expect(RETAINED_TABLES.map((t) => t.table).sort()).toEqual(rawAndDerived.sort());
    expect(serving.length).toBeGreaterThan(0);
    for (const table of serving) expect(RETAINED_TABLES.map((t) => t.table)).not.toContain(table);
  });
});

describe('the retention diff', () => {
  it('issues no ALTER when the tables already have the configured retention', () => {
    expect(retentionChanges(DEFAULT_RETENTION, appliedState(DEFAULT_RETENTION))).toEqual([]);
  });

  it('sets every TTL and ttl_only_drop_parts on fresh tables', () => {
    const fresh = new Map(RETAINED_TABLES.map(({ table }) => [table, { ttl: null, ttlOnlyDropParts: false }]));
    const changes = retentionChanges(DEFAULT_RETENTION, fresh);
    expect(changes.filter((c) => c.kind === 'ttl')).toHaveLength(RETAINED_TABLES.length);
    // Row-by-row deletion where parts mix ages: raw_posts by year, dead_letters not partitioned.
    expect(changes.filter((c) => c.kind === 'whole_parts').map((c) => c.table)).not.toContain('raw_posts');
    expect(changes.filter((c) => c.kind === 'whole_parts').map((c) => c.table)).not.toContain('dead_letters');
    expect(changes.find((c) => c.table === 'raw_post_counters' && c.kind === 'ttl')?.statement).toBe(
      'ALTER TABLE {{local raw_post_counters}} {{on_cluster}} MODIFY TTL ingested_at + toIntervalDay(90) SETTINGS mutations_sync = 0',
    );
    expect(changes.find((c) => c.table === 'raw_posts')?.statement).toContain('toIntervalDay(365)');
    expect(changes.find((c) => c.table === 'dead_letters')?.statement).toContain('toIntervalDay(30)');
  });

  it('changes only the tables whose setting changed', () => {
    const changes = retentionChanges({ ...DEFAULT_RETENTION, rawSnapshotsDays: 30 }, appliedState(DEFAULT_RETENTION));
    expect(changes.map((c) => [c.table, c.kind])).toEqual([
      ['raw_post_counters', 'ttl'],
      ['raw_channel_members', 'ttl'],
      ['raw_channel_stats', 'ttl'],
    ]);
  });

  it('removes the TTL for 0 (keep forever), and leaves a table without one alone', () => {
    const forever = { ...DEFAULT_RETENTION, deadLettersDays: 0 };
    const changes = retentionChanges(forever, appliedState(DEFAULT_RETENTION));
    expect(changes).toEqual([
      {
        table: 'dead_letters',
        kind: 'remove_ttl',
        statement: 'ALTER TABLE {{local dead_letters}} {{on_cluster}} REMOVE TTL SETTINGS mutations_sync = 0',
      },
    ]);
    expect(retentionChanges(forever, appliedState(forever))).toEqual([]);
  });

  it('renders for a cluster like the migrations: the per-node table, ON CLUSTER', () => {
    const [change] = retentionChanges({ ...DEFAULT_RETENTION, derivedDays: 7 }, appliedState(DEFAULT_RETENTION));
    expect(renderStatement(change.statement, { kind: 'cluster', cluster: 'tg', database: 'tgpulse' })).toBe(
      "ALTER TABLE post_deltas_local ON CLUSTER 'tg' MODIFY TTL ingested_at + toIntervalDay(7) SETTINGS mutations_sync = 0",
    );
    expect(renderStatement(change.statement, { kind: 'single' })).toBe(
      'ALTER TABLE post_deltas  MODIFY TTL ingested_at + toIntervalDay(7) SETTINGS mutations_sync = 0',
    );
  });

  it('refuses to plan for a table migrations have not created', () => {
    const state = appliedState(DEFAULT_RETENTION);
    state.delete('trends');
    expect(() => retentionChanges(DEFAULT_RETENTION, state)).toThrow(/trends is missing: run `tgpulse migrate`/);
  });
});
