import { describe, expect, it } from 'vitest';
import { loadMigrations, migrationStatements, renderTargetFor } from './migrate.ts';
import { SINGLE_NODE, TemplateError, renderStatement, splitStatements, type RenderTarget } from './template.ts';

const ALL_TABLES = [
  'raw_posts',
  'raw_post_counters',
  'raw_channel_members',
  'raw_channel_stats',
  'raw_post_deleted',
  'raw_bot_events',
  'post_deltas',
  'window_aggs',
  'trends',
  'anomaly_events',
  'dead_letters',
  'channel_hourly',
  'channel_daily',
  'post_summary',
  'post_meta',
  'channel_members_latest',
  'anomalies',
  'trends_latest',
  'channel_sources',
  'post_timeline',
  'channel_stats_latest',
  'channel_final_until',
  'citations',
];
const CLUSTER: RenderTarget = { kind: 'cluster', cluster: 'tg_cluster', database: 'tgpulse' };

describe('splitStatements', () => {
  it('splits at ";" ending a line; comments travel with the next statement; comment-only chunks are dropped', () => {
    const sql = [
      '-- header comment;',
      "CREATE TABLE a (x String DEFAULT 'a;b') ENGINE = Memory;",
      '',
      '-- only a comment here',
      '',
      'SELECT 1',
      'FROM numbers(1);   ',
      'SELECT 2;',
      '-- trailing comment;',
      '',
    ].join('\n');
    expect(splitStatements(sql)).toEqual([
      "-- header comment;\nCREATE TABLE a (x String DEFAULT 'a;b') ENGINE = Memory",
      '-- only a comment here\n\nSELECT 1\nFROM numbers(1)',
      'SELECT 2',
    ]);
  });

  it('treats CRLF like LF', () => {
    expect(splitStatements('SELECT 1;\r\nSELECT 2;\r\n')).toEqual(['SELECT 1', 'SELECT 2']);
  });
});

describe('renderStatement', () => {
  const ddl = `CREATE TABLE IF NOT EXISTS {{local raw_posts}} {{on_cluster}} (id String, ingested_at DateTime64(3))
ENGINE = {{engine ReplacingMergeTree(ingested_at)}} ORDER BY id`;

  it('renders plain single-node DDL', () => {
    expect(renderStatement(ddl, SINGLE_NODE)).toBe(
      'CREATE TABLE IF NOT EXISTS raw_posts  (id String, ingested_at DateTime64(3))\nENGINE = ReplacingMergeTree(ingested_at) ORDER BY id',
    );
    expect(renderStatement('{{distributed raw_posts cityHash64(channel_id)}}', SINGLE_NODE)).toBe('');
  });

  it('renders ON CLUSTER, a Replicated local table and a Distributed table for a cluster', () => {
    expect(renderStatement(ddl, CLUSTER)).toBe(
      "CREATE TABLE IF NOT EXISTS raw_posts_local ON CLUSTER 'tg_cluster' (id String, ingested_at DateTime64(3))\n" +
        "ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', ingested_at) ORDER BY id",
    );
    expect(renderStatement('ENGINE = {{engine AggregatingMergeTree}}', CLUSTER)).toBe(
      "ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')",
    );
    expect(renderStatement('{{distributed raw_posts cityHash64(channel_id)}}', CLUSTER)).toBe(
      "CREATE TABLE IF NOT EXISTS raw_posts ON CLUSTER 'tg_cluster' AS raw_posts_local " +
        "ENGINE = Distributed('tg_cluster', 'tgpulse', 'raw_posts_local', cityHash64(channel_id))",
    );
  });

  it('refuses unknown markers, non-MergeTree engines and unsafe names', () => {
    expect(() => renderStatement('{{lcoal x}}', SINGLE_NODE)).toThrow(TemplateError);
    expect(() => renderStatement('{{engine Memory}}', SINGLE_NODE)).toThrow(/MergeTree/);
    expect(() => renderStatement('{{local x; DROP}}', SINGLE_NODE)).toThrow(TemplateError);
    expect(() => renderStatement('{{on_cluster}}', { kind: 'cluster', cluster: "c' --", database: 'db' })).toThrow(
      TemplateError,
    );
  });

  it('derives the target from the warehouse configuration', () => {
    expect(
      renderTargetFor({ driver: 'local', dataDir: '/tmp/x', database: 'tgpulse', httpPort: 0, nativePort: 0 }),
    ).toEqual(SINGLE_NODE);
    expect(
      renderTargetFor({ driver: 'server', url: 'http://ch:8123', username: 'u', password: 'p', database: 'tgpulse' }),
    ).toEqual(SINGLE_NODE);
    expect(
      renderTargetFor({
        driver: 'server',
        url: 'http://ch:8123',
        username: 'u',
        password: 'p',
        database: 'tgpulse',
        cluster: 'tg_cluster',
      }),
    ).toEqual(CLUSTER);
  });
});

describe('shipped migrations rendered for a cluster', () => {
  it('put every table on the cluster, replicated and behind a Distributed table sharded by channel', async () => {
    const statements = (await loadMigrations()).flatMap((m) => migrationStatements(m, CLUSTER));
    const creates = statements.filter((s) => /^\s*(--.*\n\s*)*CREATE/m.test(s));
    expect(statements.every((s) => !s.includes('{{'))).toBe(true);
    expect(creates.every((s) => s.includes("ON CLUSTER 'tg_cluster'"))).toBe(true);

    const dropped = new Set(
      [...statements.join('\n').matchAll(/DROP TABLE IF EXISTS (\w+)_local ON CLUSTER/g)].map((m) => m[1]),
    );
    const created = [...statements.join('\n').matchAll(/CREATE TABLE IF NOT EXISTS (\w+)_local ON CLUSTER/g)].map(
      (m) => m[1],
    );
    const localTables = created.filter((t) => !dropped.has(t));
    const distributed = [
      ...statements
        .join('\n')
        .matchAll(/CREATE TABLE IF NOT EXISTS (\w+) ON CLUSTER '\w+' AS (\w+)_local ENGINE = Distributed/g),
    ];
    expect([...localTables].sort()).toEqual([...ALL_TABLES].sort());
    expect(distributed.map((m) => m[1]).sort()).toEqual([...created].sort());
    for (const s of statements.filter((x) => /CREATE TABLE IF NOT EXISTS \w+_local/.test(x))) {
      expect(s).toMatch(
        /ENGINE = Replicated\w*MergeTree\('\/clickhouse\/tables\/\{shard\}\/\{database\}\/\{table\}', '\{replica\}'/,
      );
    }
    // Materialized views read and write local tables on every node.
    for (const s of statements.filter((x) => x.includes('CREATE MATERIALIZED VIEW'))) {
      expect(s).toMatch(/ TO \w+_local AS/);
      expect(s).toMatch(/FROM \w+_local/);
    }
  });

  it('render to the same statements as single-node DDL apart from the markers', async () => {
    for (const m of await loadMigrations()) {
      const single = migrationStatements(m, SINGLE_NODE);
      expect(single.every((s) => !s.includes('{{') && !s.includes('_local') && !s.includes('ON CLUSTER'))).toBe(true);
      expect(single.some((s) => s.includes('Distributed'))).toBe(false);
    }
  });
});
