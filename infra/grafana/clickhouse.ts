/**
 * ClickHouse queries for the Grafana foundation SDK, which ships no builder
 * for the `grafana-clickhouse-datasource` plugin: a panel target, a template
 * variable and an annotation, each carrying raw SQL with the plugin's macros.
 *
 * Every query is also recorded with the columns its panel reads, so the
 * dashboard test can run it against a filled warehouse and check that they
 * come back (see test/grafana-dashboards.test.ts).
 */
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { QueryVariableBuilder, VariableRefresh, VariableSort } from '@grafana/grafana-foundation-sdk/dashboard';

/** The provisioned ClickHouse data source (provisioning/datasources/tgpulse.yaml). */
export const CLICKHOUSE: dashboard.DataSourceRef = { type: 'grafana-clickhouse-datasource', uid: 'tgpulse-clickhouse' };

/**
 * How the plugin shapes the answer: a time series (a `time` column and
 * numbers, filled into series) or a table as returned. The numbers are the
 * backend's `sqlutil.FormatQueryOption`.
 */
export type ChFormat = 'timeseries' | 'table';
const FORMAT_CODE: Record<ChFormat, number> = { timeseries: 0, table: 1 };

/** One SQL statement of a dashboard and the columns whatever shows it needs, in order. */
export interface ChSql {
  sql: string;
  columns: readonly string[];
  /** Columns that may be NULL in every row (e.g. the post of a channel-level anomaly); the others never are all NULL. */
  nullable?: readonly string[];
}

/** Where a recorded query sits in its dashboard, for the test's messages. */
export interface RecordedSql extends ChSql {
  where: string;
}

/** The ClickHouse queries of one dashboard, in the order they were added. */
export class SqlCatalog {
  readonly #queries: RecordedSql[] = [];

  add(where: string, q: ChSql): void {
    this.#queries.push({ where, sql: q.sql.trim(), columns: [...q.columns], nullable: [...(q.nullable ?? [])] });
  }

  get queries(): readonly RecordedSql[] {
    return this.#queries;
  }
}

/** The plugin's query model as dashboards store it (SQL editor, no query builder state). */
interface ClickHouseTarget extends cog.Dataquery {
  refId: string;
  datasource: dashboard.DataSourceRef;
  editorType: 'sql';
  format: number;
  queryType: ChFormat;
  rawSql: string;
}

function target(refId: string, format: ChFormat, sql: string): ClickHouseTarget {
  return {
    refId,
    datasource: CLICKHOUSE,
    editorType: 'sql',
    format: FORMAT_CODE[format],
    queryType: format,
    rawSql: sql.trim(),
    // Marks the object as a data query for the SDK's types; JSON drops it.
    _implementsDataqueryVariant() {},
  };
}

/** A panel target: `new ChQuery('A', 'table', q)` in `panel.withTarget(…)`. */
export class ChQuery implements cog.Builder<cog.Dataquery> {
  constructor(
    private readonly refId: string,
    private readonly format: ChFormat,
    private readonly q: ChSql,
  ) {}

  build(): ClickHouseTarget {
    return target(this.refId, this.format, this.q.sql);
  }
}

/**
 * A query variable over the warehouse. The plugin reads `rawSql` (its
 * variable editor saves `queryType: 'sql'`); one column gives text and value.
 */
export function chVariable(name: string, label: string, q: ChSql): QueryVariableBuilder {
  return new QueryVariableBuilder(name)
    .label(label)
    .datasource(CLICKHOUSE)
    .query({ refId: name, queryType: 'sql', editorType: 'sql', rawSql: q.sql.trim() })
    .refresh(VariableRefresh.OnDashboardLoad)
    .sort(VariableSort.AlphabeticalAsc);
}

/**
 * An annotation from SQL: the plugin maps the columns `time`, `timeEnd`,
 * `title`, `text` and `tags` of each row to one annotation.
 */
export class ChAnnotation implements cog.Builder<dashboard.AnnotationQuery> {
  constructor(
    private readonly name: string,
    private readonly iconColor: string,
    private readonly q: ChSql,
  ) {}

  build(): dashboard.AnnotationQuery {
    return {
      name: this.name,
      datasource: CLICKHOUSE,
      enable: true,
      iconColor: this.iconColor,
      // The SDK types `target` as Grafana's built-in annotation filter; a data
      // source annotation keeps the data source's own query there instead.
      target: target('Anno', 'table', this.q.sql) as unknown as dashboard.AnnotationTarget,
    };
  }
}
