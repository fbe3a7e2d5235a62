/**
 * A chart as the web app draws it: the Vega-Lite spec of the image of the
 * same name (one definition), fitted to the page and compiled to Vega here,
 * so the browser needs neither Vega-Lite's compiler in its bundle nor the
 * time to run it before the first chart. The spec is widened to its
 * container, so it fits a phone as well as a desktop, and in a dark colour
 * scheme drawn on the page's background with light text. Pure: a spec in,
 * a new spec out.
 */
import type { TopLevelSpec } from 'vega-lite';
import { compileChart } from './render.ts';

/** A Vega-Lite spec as JSON: only its top-level frame is read or changed here. */
type ChartSpec = Record<string, unknown>;

/** How the page shows a chart: its colour scheme and whether its container is narrower than the image. */
export interface ChartLook {
  /** The viewer prefers a dark colour scheme. */
  dark: boolean;
  /** The chart's container is narrower than the server's image (a phone). */
  narrow: boolean;
}

/** The looks as one word each, as the API's `look` parameter spells them. */
export const CHART_LOOKS = ['light', 'dark', 'light-narrow', 'dark-narrow'] as const;
export type ChartLookName = (typeof CHART_LOOKS)[number];

export function chartLook(name: ChartLookName): ChartLook {
  return { dark: name.startsWith('dark'), narrow: name.endsWith('-narrow') };
}

const DARK = {
  text: '#e8e8e8',
  muted: '#b4b4b4',
  axis: '#c4c4c4',
  line: '#7a7a7a',
  grid: '#3b3f46',
  emptyCell: '#2c3038',
};

type ConfigBlock = Record<string, unknown>;

function block(config: ConfigBlock, name: string): ConfigBlock {
  const value = config[name];
  return typeof value === 'object' && value !== null ? (value as ConfigBlock) : {};
}

/**
 * The spec as this page draws it: as wide as its container (the height stays
 * the server's), time-axis labels that would overlap dropped, the subtitle
 * stacked on a narrow screen, and in dark mode a transparent background with
 * light text, axes and grid.
 *
 * @example
 * prepareSpec(spec, chartLook('dark-narrow'))
 */
export function prepareSpec(spec: ChartSpec, look: ChartLook): ChartSpec {
  const config = typeof spec.config === 'object' && spec.config !== null ? (spec.config as ConfigBlock) : {};
  const fitted: ChartSpec = {
    ...spec,
    width: 'container',
    autosize: { type: 'fit-x', contains: 'padding' },
    // The server picks tick positions for its own width; on a narrow page some labels would collide.
    config: { ...config, axisX: { ...block(config, 'axisX'), labelOverlap: 'greedy' } },
  };
  if (look.narrow) fitted.title = stackedSubtitle(spec.title);
  return look.dark ? darken(fitted) : fitted;
}

/**
 * The title with its subtitle on several lines, one per ` · `-separated part
 * (channel, period, notes): the server sizes the one-line subtitle for its
 * own width, and on a phone its end would be cut off.
 */
function stackedSubtitle(title: unknown): unknown {
  if (typeof title !== 'object' || title === null) return title;
  const { subtitle } = title as { subtitle?: unknown };
  if (typeof subtitle !== 'string') return title;
  return { ...title, subtitle: subtitle.split(' · ') };
}

function darken(spec: ChartSpec): ChartSpec {
  const config = spec.config as ConfigBlock;
  return {
    ...spec,
    background: 'transparent',
    config: {
      ...config,
      background: 'transparent',
      title: { ...block(config, 'title'), color: DARK.text, subtitleColor: DARK.muted },
      axis: {
        ...block(config, 'axis'),
        labelColor: DARK.axis,
        titleColor: DARK.axis,
        domainColor: DARK.line,
        tickColor: DARK.line,
        gridColor: DARK.grid,
      },
      legend: { ...block(config, 'legend'), labelColor: DARK.text, titleColor: DARK.text },
      text: { ...block(config, 'text'), color: DARK.text },
      style: darkStyles(block(config, 'style')),
    },
  };
}

/**
 * The named mark styles a spec's layers use (read/charts), for a dark page:
 * the heatmap's hours without posts would otherwise be light blocks, and the
 * white gaps between its cells white lines.
 */
function darkStyles(styles: ConfigBlock): ConfigBlock {
  const dark: ConfigBlock = {};
  for (const [name, style] of Object.entries(styles)) {
    const s = typeof style === 'object' && style !== null ? (style as ConfigBlock) : {};
    dark[name] = {
      ...s,
      ...(name === 'empty-cell' ? { color: DARK.emptyCell } : {}),
      ...(s.stroke === 'white' ? { stroke: 'transparent' } : {}),
    };
  }
  return dark;
}

/** The Vega spec the page draws: `spec` fitted to `look` ({@link prepareSpec}) and compiled. */
export function chartForPage(spec: TopLevelSpec, look: ChartLook): object {
  return compileChart(prepareSpec(spec as unknown as ChartSpec, look) as unknown as TopLevelSpec).vega;
}
