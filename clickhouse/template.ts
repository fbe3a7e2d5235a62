/**
 * One migration text, two deployments. Migration files are written once with
 * a few `{{…}}` markers; rendering turns them into plain single-node DDL
 * (embedded chDB, one server) or into cluster DDL: `ON CLUSTER`,
 * `Replicated*MergeTree` local tables and `Distributed` tables over them.
 *
 * Markers (anything else in `{{…}}` is an error, so a typo cannot ship):
 *
 * | marker                         | single node             | cluster `c`, database `db`                                   |
 * |--------------------------------|-------------------------|--------------------------------------------------------------|
 * | `{{on_cluster}}`               | (nothing)               | `ON CLUSTER 'c'`                                             |
 * | `{{local raw_posts}}`          | `raw_posts`             | `raw_posts_local`                                            |
 * | `{{engine ReplacingMergeTree(v)}}` | `ReplacingMergeTree(v)` | `ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', v)` |
 * | `{{distributed raw_posts KEY}}`| (statement dropped)     | `CREATE TABLE IF NOT EXISTS raw_posts ON CLUSTER 'c' AS raw_posts_local ENGINE = Distributed('c', 'db', 'raw_posts_local', KEY)` |
 *
 * On a cluster, writers and readers use the plain names (the Distributed
 * tables); materialized views run on every node from local table to local
 * table. Shard by channel so that every copy of an event lands on the same
 * shard — the only way ReplacingMergeTree can collapse it.
 */

/** Where rendered DDL will run. */
export type RenderTarget = { kind: 'single' } | { kind: 'cluster'; cluster: string; database: string };

/** The single-node target: embedded chDB or one server. */
export const SINGLE_NODE: RenderTarget = { kind: 'single' };

/** Raised for a marker that is unknown or malformed, or an unsafe cluster/database name. */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

const MARKER_RE = /\{\{\s*([a-z_]+)(?:\s+([^}]*?))?\s*\}\}/g;
const IDENT_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const CLUSTER_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const ENGINE_RE = /^([A-Za-z]*MergeTree)\s*(?:\((.*)\))?$/s;
/** Replica path: one ZooKeeper/Keeper node per shard and table; macros are filled in by each server. */
const REPLICA_PATH = "'/clickhouse/tables/{shard}/{database}/{table}', '{replica}'";

/**
 * Render one statement of a migration for a target.
 *
 * ```ts
 * renderStatement('CREATE TABLE {{local t}} {{on_cluster}} (…) ENGINE = {{engine MergeTree}} ORDER BY id',
 *   { kind: 'cluster', cluster: 'tg', database: 'tgpulse' })
 * // "CREATE TABLE t_local ON CLUSTER 'tg' (…) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}') ORDER BY id"
 * ```
 */
export function renderStatement(statement: string, target: RenderTarget): string {
  if (target.kind === 'cluster') {
    if (!CLUSTER_RE.test(target.cluster))
      throw new TemplateError(`cluster name ${JSON.stringify(target.cluster)} is not a plain name`);
    if (!IDENT_RE.test(target.database))
      throw new TemplateError(`database ${JSON.stringify(target.database)} is not an identifier`);
  }
  return statement.replace(MARKER_RE, (_m, name: string, arg: string | undefined) =>
    renderMarker(name, arg?.trim() ?? '', target),
  );
}

function renderMarker(name: string, arg: string, target: RenderTarget): string {
  const cluster = target.kind === 'cluster' ? target : null;
  switch (name) {
    case 'on_cluster':
      if (arg !== '') throw new TemplateError('{{on_cluster}} takes no argument');
      return cluster ? `ON CLUSTER '${cluster.cluster}'` : '';
    case 'local':
      return cluster ? `${identifier(arg, name)}_local` : identifier(arg, name);
    case 'engine':
      return cluster ? replicatedEngine(arg) : plainEngine(arg);
    case 'distributed': {
      const m = /^(\S+)\s+(.+)$/s.exec(arg);
      if (!m) throw new TemplateError('{{distributed TABLE SHARDING_KEY}} needs a table and a sharding key');
      const table = identifier(m[1], name);
      if (!cluster) return '';
      const on = `'${cluster.cluster}'`;
      return (
        `CREATE TABLE IF NOT EXISTS ${table} ON CLUSTER ${on} AS ${table}_local ` +
        `ENGINE = Distributed(${on}, '${cluster.database}', '${table}_local', ${m[2]})`
      );
    }
    default:
      throw new TemplateError(`unknown template marker {{${name}}}`);
  }
}

function identifier(arg: string, marker: string): string {
  if (!IDENT_RE.test(arg)) throw new TemplateError(`{{${marker}}} needs a table name, got ${JSON.stringify(arg)}`);
  return arg;
}

function plainEngine(arg: string): string {
  if (!ENGINE_RE.test(arg)) throw new TemplateError(`{{engine}} needs a *MergeTree engine, got ${JSON.stringify(arg)}`);
  return arg;
}

function replicatedEngine(arg: string): string {
  const m = ENGINE_RE.exec(arg);
  if (!m) throw new TemplateError(`{{engine}} needs a *MergeTree engine, got ${JSON.stringify(arg)}`);
  const params = m[2]?.trim();
  return `Replicated${m[1]}(${REPLICA_PATH}${params ? `, ${params}` : ''})`;
}

/**
 * Split a migration file into statements. A statement ends with `;` as the
 * last character of a line (outside a `--` comment line); chunks holding only
 * comments or blank lines are dropped. Keep `;` out of line ends inside string
 * literals — migrations are DDL, where that never needs to happen.
 */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let current: string[] = [];
  const flush = (): void => {
    const text = current.join('\n').trim();
    current = [];
    if (hasCode(text)) statements.push(text);
  };
  for (const line of sql.replace(/\r\n/g, '\n').split('\n')) {
    const trimmed = line.trimEnd();
    if (!isCommentLine(trimmed) && trimmed.endsWith(';')) {
      current.push(trimmed.slice(0, -1));
      flush();
    } else {
      current.push(line);
    }
  }
  flush();
  return statements;
}

function isCommentLine(line: string): boolean {
  return line.trimStart().startsWith('--');
}

function hasCode(text: string): boolean {
  return text.split('\n').some((l) => l.trim() !== '' && !isCommentLine(l));
}
