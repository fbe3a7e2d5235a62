/**
 * A dashboard under construction: the SDK's builder, panel ids handed out in
 * order (Grafana needs them unique; the SDK leaves them unset), and the
 * catalogue of its ClickHouse queries with the columns each one must return.
 */
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import { type DashboardBuilder, RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { ChAnnotation, ChQuery, type ChFormat, type ChSql, chVariable, SqlCatalog } from './clickhouse.ts';

/** A built dashboard with the ClickHouse queries it holds. */
export interface GeneratedDashboard {
  dashboard: dashboard.Dashboard;
  sql: SqlCatalog;
}

export class Board {
  readonly #sql = new SqlCatalog();
  #lastId = 0;

  constructor(private readonly builder: DashboardBuilder) {}

  /** A full-width row header; the panels added after it sit under it. */
  row(title: string): this {
    this.builder.withRow(new RowBuilder(title).id(++this.#lastId));
    return this;
  }

  /** A panel, laid out after the previous one (by its span and height). */
  panel(panel: cog.Builder<dashboard.Panel>): this {
    const id = ++this.#lastId;
    this.builder.withPanel({ build: () => ({ ...panel.build(), id }) });
    return this;
  }

  /** A ClickHouse target of the panel titled `panelTitle`, recorded for the test. */
  query(panelTitle: string, refId: string, format: ChFormat, q: ChSql): ChQuery {
    this.#sql.add(`panel "${panelTitle}" ${refId}`, q);
    return new ChQuery(refId, format, q);
  }

  /** A ClickHouse query variable, recorded for the test. */
  variable(name: string, label: string, q: ChSql): this {
    this.#sql.add(`variable ${name}`, q);
    this.builder.withVariable(chVariable(name, label, q));
    return this;
  }

  /** A variable that runs no SQL (a custom list, a data source query). */
  plainVariable(variable: cog.Builder<dashboard.VariableModel>): this {
    this.builder.withVariable(variable);
    return this;
  }

  /** A ClickHouse annotation, recorded for the test. */
  annotation(name: string, iconColor: string, q: ChSql): this {
    this.#sql.add(`annotation "${name}"`, q);
    this.builder.annotation(new ChAnnotation(name, iconColor, q));
    return this;
  }

  build(): GeneratedDashboard {
    return { dashboard: this.builder.build(), sql: this.#sql };
  }
}
