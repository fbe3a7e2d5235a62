/**
 * What the bundle has in place of Vega-Lite (vite.config.ts aliases it):
 * the API sends the page its charts already compiled to Vega
 * (read/charts/page-look.ts), so vega-embed never compiles Vega-Lite here,
 * and its compiler, a third of the Vega runtime, is neither downloaded nor
 * evaluated before the first chart.
 */
export const version = 'not bundled: the API compiles the charts';

export function compile(): never {
  throw new Error('Vega-Lite is not bundled: chart specs come compiled to Vega from the API (`look` parameter)');
}
