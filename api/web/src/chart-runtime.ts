/**
 * Drawing charts with vega-embed. The Vega runtime is a large chunk of its
 * own (vite.config.ts), imported on first use, so pages paint before it
 * arrives. Expressions run through vega-interpreter instead of `new Function`,
 * so the page's Content-Security-Policy needs no 'unsafe-eval'.
 */
import type { Result } from 'vega-embed';
import { type ChartSpec, patchDatetimes } from './chart-spec.ts';

let runtime: Promise<[typeof import('vega-embed'), typeof import('vega-interpreter')]> | null = null;
let firstChartMarked = false;
/** Vega's log level that reports errors only (vega-util's `Error`). */
const ERROR_LOG_LEVEL = 1;
/** Views of the current page, finalized when the page changes (each listens to window resizes). */
const live = new Set<Result>();

/**
 * Start loading the Vega runtime (once). A page calls it as it asks for its
 * chart specs, so the two downloads overlap instead of following each other.
 */
export function loadRuntime() {
  runtime ??= Promise.all([import('vega-embed'), import('vega-interpreter')]);
  return runtime;
}

/** The draw in progress: charts are drawn one after another (see {@link drawChart}). */
let drawing: Promise<unknown> = Promise.resolve();

/**
 * Draw `spec` (already prepared for the page) into `container`; marks the
 * page's first chart for bench:web. Draws run one at a time, in the order
 * their specs arrived: started together they would share the one main thread
 * and every chart would appear only when all of them are done.
 */
export function drawChart(container: HTMLElement, spec: ChartSpec): Promise<void> {
  const next = drawing.then(
    () => drawNow(container, spec),
    () => drawNow(container, spec),
  );
  drawing = next.catch(() => undefined);
  return next;
}

async function drawNow(container: HTMLElement, spec: ChartSpec): Promise<void> {
  // The page was left while this chart waited its turn.
  if (!container.isConnected) return;
  const [{ default: embed }, { expressionInterpreter }] = await loadRuntime();
  const result = await embed(container, spec as Parameters<typeof embed>[1], {
    actions: false,
    // Compiled by the API for this page (read/charts/page-look.ts); Vega-Lite is not in the bundle.
    mode: 'vega',
    renderer: 'svg',
    ast: true,
    expr: expressionInterpreter,
    patch: patchDatetimes,
    // Vega's warnings (an empty series has an infinite extent) are not the reader's business: errors only.
    logLevel: ERROR_LOG_LEVEL,
  });
  live.add(result);
  container.dataset.rendered = 'true';
  if (!firstChartMarked) {
    firstChartMarked = true;
    performance.mark('tgpulse:first-chart');
  }
}

/** Release the charts of the page being left. */
export function releaseCharts(): void {
  for (const result of live) result.finalize();
  live.clear();
}
