/**
 * What the page reads of a chart's spec (compiled to Vega by the API for the
 * page's look: read/charts/page-look.ts) before drawing it. Pure.
 */

/** A compiled chart spec as JSON. */
export type ChartSpec = Record<string, unknown>;

/**
 * What a screen reader hears for the chart: the spec's description, else its
 * title and subtitle (what the image shows as text).
 */
export function chartLabel(spec: ChartSpec, fallback: string): string {
  if (typeof spec.description === 'string' && spec.description.trim() !== '') return spec.description;
  const title = spec.title;
  if (typeof title === 'string') return title;
  if (typeof title === 'object' && title !== null) {
    const { text, subtitle } = title as { text?: unknown; subtitle?: unknown };
    const parts = [text, subtitle].flat().filter((p): p is string => typeof p === 'string' && p !== '');
    if (parts.length > 0) return parts.join('. ');
  }
  return fallback;
}

/** A one-argument `datetime(<epoch ms>)` call in a Vega expression. */
const DATETIME_OF_MS = /\bdatetime\((-?\d+(?:\.\d+)?)\)/g;

/**
 * The compiled Vega spec with every `datetime(<epoch ms>)` in its expressions
 * replaced by the number itself. Vega-Lite writes temporal constants (axis
 * tick values, domains) that way; Vega's compiled expressions read it as a
 * timestamp, but vega-interpreter (which the page's CSP needs) reads a lone
 * number as a year, an invalid date, and the time axis loses its ticks. A
 * time scale takes epoch ms as they are.
 */
export function patchDatetimes<T>(vegaSpec: T): T {
  return rewrite(vegaSpec, undefined) as T;
}

function rewrite(value: unknown, key: string | undefined): unknown {
  if (Array.isArray(value)) return value.map((v) => rewrite(v, undefined));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rewrite(v, k)]));
  }
  if (typeof value === 'string' && (key === 'signal' || key === 'expr' || key === 'update' || key === 'test')) {
    return value.replace(DATETIME_OF_MS, '$1');
  }
  return value;
}
