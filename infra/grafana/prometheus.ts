/**
 * Prometheus queries over the metrics tgpulse's roles export on `/metrics`
 * (observability/metrics.ts, ingest/mtproto/metrics.ts, api/plugins/metrics.ts,
 * bot/notifier/notifier.ts), every selector filtered by the `job` and
 * `instance` variables. Scrape jobs are named `tgpulse-<role>`
 * (infra/prometheus/prometheus.yml).
 */
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { QueryVariableBuilder, VariableRefresh, VariableSort } from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';

/** The provisioned Prometheus data source (provisioning/datasources/tgpulse.yaml). */
export const PROMETHEUS: dashboard.DataSourceRef = { type: 'prometheus', uid: 'tgpulse-prometheus' };

/** The label matchers every selector carries. */
const SCOPE = 'job=~"$job", instance=~"$instance"';

/** `metric{job=~"$job", instance=~"$instance", …}`. */
export function sel(metric: string, matchers = ''): string {
  return `${metric}{${[SCOPE, matchers].filter(Boolean).join(', ')}}`;
}

/**
 * `metric` (a per-partition gauge) only where its process owns the partition
 * now: a process that lost a lease keeps its last value, which would
 * otherwise look like a stuck partition.
 */
export function owned(metric: string): string {
  return `(${sel(metric)} and on (job, instance, worker, partition) ${sel('tgpulse_partition_owned')} == 1)`;
}

/** A range query with a legend template (`{{stage}}`). */
export function prom(refId: string, expr: string, legend: string): DataqueryBuilder {
  return new DataqueryBuilder().refId(refId).datasource(PROMETHEUS).expr(expr).legendFormat(legend).range();
}

/** The `q`-quantile of a histogram's per-interval distribution, by `by` (comma-separated labels, or ''). */
export function quantile(q: number, histogram: string, by: string, matchers = ''): string {
  const labels = ['le', ...by.split(',').filter(Boolean)].join(', ');
  return `histogram_quantile(${q}, sum by (${labels}) (rate(${sel(`${histogram}_bucket`, matchers)}[$__rate_interval])))`;
}

/** Every role exports the process metrics (prefixed `tgpulse_`), so they list what runs. */
const PROCESSES = 'tgpulse_process_cpu_seconds_total';

function promVariable(name: string, label: string, query: string, allValue: string): QueryVariableBuilder {
  return new QueryVariableBuilder(name)
    .label(label)
    .datasource(PROMETHEUS)
    .query(query)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .allValue(allValue)
    .current({ text: 'All', value: '$__all' });
}

/** The roles (scrape jobs `tgpulse-<role>`) and, within them, the processes scraped. */
export function scopeVariables(): QueryVariableBuilder[] {
  return [
    promVariable('job', 'Role', `label_values(${PROCESSES}{job=~"tgpulse-.+"}, job)`, 'tgpulse-.+'),
    promVariable('instance', 'Instance', `label_values(${PROCESSES}{job=~"$job"}, instance)`, '.+'),
  ];
}
