/**
 * The metric names a PromQL expression reads, and the PromQL expressions of
 * Grafana dashboards, so a test can hold the rules and dashboards to what
 * tgpulse exports. A small lexer rather than a parser: it drops what is not a
 * metric name (strings, label matchers, ranges, grouping labels, functions,
 * keywords, Grafana variables) and keeps the identifiers left.
 */

const KEYWORDS = new Set(['and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const MORE_KEYWORDS = new Set(['offset', 'bool', 'atan2', 'inf', 'nan']);
/** Stands in for a Grafana variable: an identifier touching one is part of a name nobody can know here. */
const VARIABLE = '§';

/**
 * The metric names `expr` selects, e.g. `sum(rate(a_total{x="y"}[5m])) / b` → a_total, b.
 *
 * ```ts
 * metricNames('max by (p) (age and on (p) owned == 1)'); // ['age', 'owned']
 * ```
 */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
    .replace(/\$\{[^}]*\}|\$\w+|\[\[\w+\]\]/g, VARIABLE)
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)/g, ' ');
  const names = new Set<string>();
  for (const m of bare.matchAll(/(?<![\w.§])[A-Za-z_:][\w:]*(?![\w§])/g)) {
    const word = m[0];
    const followedBy = bare.slice(m.index + word.length).trimStart()[0];
    if (followedBy === '(') continue; // a function or an aggregation
    if (KEYWORDS.has(word) || MORE_KEYWORDS.has(word.toLowerCase())) continue;
    names.add(word);
  }
  return [...names];
}

export interface DashboardQuery {
  file: string;
  panel: string;
  expr: string;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Every Prometheus query of a dashboard (any object with `targets`: panels,
 * panels in rows, either dashboard schema): the targets with an `expr`, except
 * those whose data source is known to be another kind (Loki's queries have an
 * `expr` too).
 */
export function dashboardQueries(file: string, dashboard: unknown): DashboardQuery[] {
  const sourceTypes = datasourceVariables(dashboard);
  const typeOf = (ds: unknown): string | null => {
    if (isObject(ds) && typeof ds.type === 'string') return ds.type;
    const ref = isObject(ds) ? ds.uid : ds;
    if (typeof ref !== 'string') return null;
    return sourceTypes.get(ref.replace(/^\$\{?|\}$/g, '')) ?? null;
  };
  const out: DashboardQuery[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(walk);
      return;
    }
    if (!isObject(node)) return;
    if (Array.isArray(node.targets)) {
      for (const t of node.targets) {
        if (!isObject(t) || typeof t.expr !== 'string' || t.expr.trim() === '') continue;
        const type = typeOf(t.datasource) ?? typeOf(node.datasource);
        if (type !== null && type !== 'prometheus') continue;
        out.push({ file, panel: String(node.title ?? `panel ${String(node.id ?? '?')}`), expr: t.expr });
      }
    }
    for (const v of Object.values(node)) if (typeof v === 'object') walk(v);
  };
  walk(dashboard);
  return out;
}

/** Data-source variables of the dashboard (`$datasource` → its plugin type, e.g. prometheus). */
function datasourceVariables(dashboard: unknown): Map<string, string> {
  const types = new Map<string, string>();
  const root = isObject(dashboard) && isObject(dashboard.dashboard) ? dashboard.dashboard : dashboard;
  const list = isObject(root) && isObject(root.templating) ? root.templating.list : undefined;
  if (Array.isArray(list))
    for (const v of list)
      if (isObject(v) && v.type === 'datasource' && typeof v.name === 'string' && typeof v.query === 'string')
        types.set(v.name, v.query);
  return types;
}
