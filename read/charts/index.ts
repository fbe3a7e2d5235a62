/**
 * Charts: Vega-Lite specs of the read models, rendered to SVG and PNG.
 */
export { channelChart, CHART_METRICS, type ChartName, isChartMetric } from './channel-charts.ts';
export { renderChart } from './render.ts';
export { anomaliesChart, CHART_SIZE_LIMITS } from './specs.ts';
