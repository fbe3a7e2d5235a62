/**
 * Charts: Vega-Lite specs of the read models, rendered to SVG and PNG.
 */
export {
  channelChart,
  type ChannelChartRequest,
  CHART_METRICS,
  type ChartName,
  isChartMetric,
  UnknownPostError,
} from './channel-charts.ts';
export { channelForecastChart } from './forecast-chart.ts';
export { renderChart } from './render.ts';
export { anomaliesChart, CHART_SIZE_LIMITS } from './specs.ts';
export { CHART_LOOKS, chartForPage, chartLook, type ChartLookName } from './page-look.ts';
