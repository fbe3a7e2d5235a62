/**
 * Panel presets shared by the dashboards, so each dashboard file says what a
 * panel shows rather than how Grafana draws it. Sizes are grid units (24 wide).
 */
import {
  BigValueColorMode,
  BigValueGraphMode,
  BigValueTextMode,
  GraphDrawStyle,
  LegendDisplayMode,
  LegendPlacement,
  ReduceDataOptionsBuilder,
  SortOrder,
  TooltipDisplayMode,
  VizLegendOptionsBuilder,
  VizTooltipOptionsBuilder,
} from '@grafana/grafana-foundation-sdk/common';
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TablePanel } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeSeriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';

export interface PanelSize {
  span: number;
  height: number;
}

/** A line chart (or bars for counts per bucket) with a table legend of mean and last values. */
export function timeSeries(
  title: string,
  datasource: dashboard.DataSourceRef,
  size: PanelSize,
  opts: { unit?: string; bars?: boolean; description?: string } = {},
): TimeSeriesPanel {
  const panel = new TimeSeriesPanel()
    .title(title)
    .datasource(datasource)
    .span(size.span)
    .height(size.height)
    .unit(opts.unit ?? 'short')
    .drawStyle(opts.bars ? GraphDrawStyle.Bars : GraphDrawStyle.Line)
    .fillOpacity(opts.bars ? 80 : 10)
    .lineWidth(1)
    .legend(
      new VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(LegendDisplayMode.Table)
        .placement(LegendPlacement.Bottom)
        .calcs(['mean', 'max', 'lastNotNull']),
    )
    .tooltip(new VizTooltipOptionsBuilder().mode(TooltipDisplayMode.Multi).sort(SortOrder.Descending));
  return opts.description ? panel.description(opts.description) : panel;
}

/** A table; columns keep the query's names unless overridden. */
export function table(
  title: string,
  datasource: dashboard.DataSourceRef,
  size: PanelSize,
  description?: string,
): TablePanel {
  const panel = new TablePanel().title(title).datasource(datasource).span(size.span).height(size.height);
  return description ? panel.description(description) : panel;
}

/** Big numbers, one per field of the query's last row. */
export function stat(
  title: string,
  datasource: dashboard.DataSourceRef,
  size: PanelSize,
  opts: { unit?: string; description?: string; sparkline?: boolean } = {},
): StatPanel {
  const panel = new StatPanel()
    .title(title)
    .datasource(datasource)
    .span(size.span)
    .height(size.height)
    .unit(opts.unit ?? 'short')
    .colorMode(BigValueColorMode.None)
    .graphMode(opts.sparkline ? BigValueGraphMode.Area : BigValueGraphMode.None)
    .textMode(BigValueTextMode.ValueAndName)
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false));
  return opts.description ? panel.description(opts.description) : panel;
}

/** Properties of a field override: the name to show and, optionally, a unit. */
export function shownAs(displayName: string, unit?: string): dashboard.DynamicConfigValue[] {
  return [{ id: 'displayName', value: displayName }, ...(unit ? [{ id: 'unit', value: unit }] : [])];
}
