/**
 * The four channel charts as Vega-Lite specs: pure functions from bucketed
 * series to a spec that `renderChart` (render.ts) draws, so a chart can be
 * checked (or drawn by a browser) without rendering it here.
 *
 * Every chart shares one frame: white background, title, a subtitle naming
 * the channel and the period in UTC, a UTC time axis over exactly
 * `[from, to)`, SI-formatted counts (1.2k, 3.4M), a legend on top, and a
 * fixed size in pixels for the whole image (axes and legend included).
 * Inline data only, so rendering never touches the network.
 */
import type { Config, TopLevelSpec } from 'vega-lite';
import type { Axis } from 'vega-lite/types_unstable/axis.js';
import type { ColorDef, PositionDef } from 'vega-lite/types_unstable/channeldef.js';
import type { Legend } from 'vega-lite/types_unstable/legend.js';
import type { UnitSpec } from 'vega-lite/types_unstable/spec/unit.js';
import type { ExprRef } from 'vega-lite/types_unstable/expr.js';

import { metricLabel, subtitleLabel } from './labels.ts';
import type {
  AnomalyMark,
  AnomalySeverity,
  BandPoint,
  ForecastBand,
  ChartFrame,
  Granularity,
  GrowthPoint,
  MetricPoint,
  ReachPoint,
  ViewsPoint,
} from './types.ts';
import { DAY_MS, HOUR_MS } from '../../common/index.ts';

/**
 * The font every chart asks for. DejaVu Sans is what the PNG renderer is
 * given too, so SVG and PNG lay text out the same way; it also covers
 * Cyrillic, which many channel titles are written in.
 */
export const CHART_FONT = 'DejaVu Sans';

/**
 * Accepted image sizes in pixels. The API validates requests against these;
 * the bounds keep a request from asking for an unreadably small image or
 * for a render that takes seconds.
 */
export const CHART_SIZE_LIMITS = {
  width: { min: 320, max: 2000, default: 800 },
  height: { min: 200, max: 1200, default: 400 },
} as const;

/** The text an empty chart shows in place of its marks. */
export const NO_DATA_TEXT = 'No data in this period';

/** Colours of every series, fixed so a series looks the same on every chart. */
export const COLOR = {
  primary: '#4c78a8',
  gained: '#54a24b',
  lost: '#e45756',
  posts: '#f2b880',
  forwards: '#f58518',
  reactions: '#b279a2',
  band: '#9ecae9',
  info: '#7b61c4',
  warning: '#f58518',
  critical: '#d62728',
} as const;

const SEVERITY_LEGEND: Record<AnomalySeverity, { label: string; color: string }> = {
  info: { label: 'Info', color: COLOR.info },
  warning: { label: 'Warning', color: COLOR.warning },
  critical: { label: 'Critical', color: COLOR.critical },
};

const DIRECTION_SHAPES = { Spike: 'triangle-up', Drop: 'triangle-down', Quiet: 'square' } as const;

const PADDING = 12;
const SUBTITLE_FONT_SIZE = 12;
/** Average advance of DejaVu Sans in ems, a little generous so text is cut before it can overflow. */
const FONT_EM_PER_CHAR = 0.62;
/**
 * Vega's text width estimate without a canvas (0.8 em a character). Its
 * layout and label overlap tests use it, so text sized by it never pushes
 * the plot around or loses labels.
 */
const VEGA_EM_PER_CHAR = 0.8;
const TITLE_FONT_SIZE = 15;
/** Height that the title, subtitle, legend and x axis take from the image; the rest is the plot. */
const PLOT_HEIGHT_TAKEN = 130;
const AXIS_LABEL_FONT_SIZE = 11;
/** Room a y axis takes beside the plot: labels like "1.5M", padding, and its title. */
const Y_AXIS_WIDTH = 65;
/** Lines with more buckets than this get no point markers: they would merge into a thick line. */
const MAX_MARKED_POINTS = 62;
/** Share of a bucket left empty on each side of its bar, so neighbouring bars stay apart. */
const BAR_INSET = 0.12;
/** Bars narrower than this touch: gaps of a pixel or less would stripe the plot. */
const MIN_SPACED_BAR_PX = 6;

/**
 * Tick labels: SI prefixes for counts (1.2k, 3.4M); below 1 plain digits,
 * because SI would print 0.5 as "500m", which reads as millions.
 */
const COUNT_LABEL = "abs(datum.value) >= 1 ? format(datum.value, '~s') : format(datum.value, '~g')";

interface TimeAxisStyle {
  bucketMs: number;
  /** d3 time format of the tick labels, applied in UTC (the scale is `utc`). */
  format: string;
  /** Characters in one tick label, to know how many fit side by side. */
  labelChars: number;
  title: string;
}

const TIME_AXIS: Record<Granularity, TimeAxisStyle> = {
  hour: { bucketMs: HOUR_MS, format: '%b %d %H:%M', labelChars: 12, title: 'Time (UTC)' },
  day: { bucketMs: DAY_MS, format: '%b %d', labelChars: 6, title: 'Date (UTC)' },
  week: { bucketMs: 7 * DAY_MS, format: '%b %d', labelChars: 6, title: 'Date (UTC)' },
};

/**
 * A tick spacing of the time axis. Ticks are computed here, not by Vega:
 * Vega's `tickCount: {interval: 'hour'}` fails at runtime (it expects
 * 'hours' while its typings say 'hour'), and explicit values let weeks start
 * on Mondays and months on the 1st, in UTC whatever the machine's zone.
 */
interface TickStep {
  /** Approximate spacing, to count how many ticks a period gets. */
  ms: number;
  /** The first tick at or after `t`. */
  first: (t: number) => number;
  next: (t: number) => number;
}

/** 1970-01-05, the first Monday after the epoch (a Thursday). */
const FIRST_MONDAY = 4 * DAY_MS;

function fixedStep(ms: number, origin = 0): TickStep {
  return { ms, first: (t) => Math.ceil((t - origin) / ms) * ms + origin, next: (t) => t + ms };
}

function monthStep(months: number): TickStep {
  return {
    ms: months * 30 * DAY_MS,
    first: (t) => {
      const d = new Date(t);
      const month = d.getUTCMonth() + (Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) < t ? 1 : 0);
      return Date.UTC(d.getUTCFullYear(), Math.ceil(month / months) * months, 1);
    },
    next: (t) => {
      const d = new Date(t);
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, 1);
    },
  };
}

/** Tick spacings the time axis may use, finest first. */
const TICK_STEPS: readonly TickStep[] = [
  fixedStep(HOUR_MS),
  fixedStep(3 * HOUR_MS),
  fixedStep(6 * HOUR_MS),
  fixedStep(12 * HOUR_MS),
  fixedStep(DAY_MS),
  fixedStep(2 * DAY_MS),
  fixedStep(7 * DAY_MS, FIRST_MONDAY),
  fixedStep(14 * DAY_MS, FIRST_MONDAY),
  monthStep(1),
  monthStep(3),
  monthStep(12),
];

const CONFIG: Config = {
  // ARIA labels name internal fields ("t: Jan 01") on every point, tripling the SVG; the image's text says it all.
  aria: false,
  font: `${CHART_FONT}, sans-serif`,
  background: 'white',
  view: { stroke: null },
  title: {
    anchor: 'start',
    fontSize: TITLE_FONT_SIZE,
    color: '#222',
    subtitleFontSize: SUBTITLE_FONT_SIZE,
    subtitleColor: '#555',
    subtitlePadding: 4,
    offset: 10,
  },
  axis: {
    labelFontSize: AXIS_LABEL_FONT_SIZE,
    titleFontSize: AXIS_LABEL_FONT_SIZE,
    titleFontWeight: 'normal',
    labelColor: '#444',
    titleColor: '#444',
    domainColor: '#888',
    tickColor: '#888',
    gridColor: '#ececec',
  },
  legend: {
    orient: 'top',
    direction: 'horizontal',
    // Each entry as wide as its label, not as the longest one.
    gridAlign: 'none',
    columnPadding: 16,
    labelFontSize: 11,
    symbolSize: 100,
    symbolOpacity: 1,
  },
};

export type Layer = UnitSpec<string>;

/** How many letters of `fontSize` fit in `pixels`, at `emPerChar` each. */
function textUnits(pixels: number, fontSize: number, emPerChar: number): number {
  return Math.floor(pixels / (fontSize * emPerChar));
}

interface Size {
  width: number;
  height: number;
}

function checkedSize(value: number | undefined, name: keyof typeof CHART_SIZE_LIMITS): number {
  const { min, max, default: fallback } = CHART_SIZE_LIMITS[name];
  const size = value ?? fallback;
  if (!Number.isInteger(size) || size < min || size > max) {
    throw new RangeError(`chart ${name} must be a whole number of pixels from ${min} to ${max}, got ${size}`);
  }
  return size;
}

function frameSize(frame: ChartFrame): Size {
  if (!Number.isFinite(frame.from) || !Number.isFinite(frame.to) || frame.to <= frame.from) {
    throw new RangeError(`chart period must have from < to (epoch ms), got from=${frame.from} to=${frame.to}`);
  }
  return { width: checkedSize(frame.width, 'width'), height: checkedSize(frame.height, 'height') };
}

/**
 * Tick positions: the finest spacing that is not finer than a bucket (finer
 * ticks would repeat a date label) and leaves room for every label.
 */
function timeTicks(frame: ChartFrame, width: number, yAxes: number): number[] {
  const style = TIME_AXIS[frame.granularity];
  // Sized as Vega will test for overlap, so it never has to hide a label.
  const labelWidth = style.labelChars * AXIS_LABEL_FONT_SIZE * VEGA_EM_PER_CHAR;
  // Less each y axis (labels and title) and the last label's half overhanging the end.
  const plotWidth = width - 2 * PADDING - Y_AXIS_WIDTH * yAxes - labelWidth / 2;
  const maxSteps = Math.max(1, Math.floor(plotWidth / (labelWidth + 8)));
  const candidates = TICK_STEPS.filter((s) => s.ms >= style.bucketMs);
  const step = candidates.find((s) => (frame.to - frame.from) / s.ms <= maxSteps) ?? candidates[candidates.length - 1];
  const ticks: number[] = [];
  for (let t = step.first(frame.from); t <= frame.to; t = step.next(t)) ticks.push(t);
  return ticks;
}

/**
 * The x channel, shared by all layers (each layer its own scale domain would
 * make Vega-Lite warn of conflicting domains): field `t` over exactly the
 * frame's period, ticks and labels in UTC.
 */
function timeX(frame: ChartFrame, width: number, yAxes: number): PositionDef<string> {
  const style = TIME_AXIS[frame.granularity];
  return {
    field: 't',
    type: 'temporal',
    // An expression, not [from, to]: Vega-Lite converts a literal domain for x but not for x2
    // (bars), then warns the two conflict. from and to are checked finite numbers.
    scale: { type: 'utc', domain: { expr: `[${frame.from}, ${frame.to}]` } },
    // Labels centred on their ticks: flush end labels (Vega-Lite's default) collide with their neighbours.
    axis: {
      title: style.title,
      format: style.format,
      values: timeTicks(frame, width, yAxes),
      labelFlush: false,
      labelOverlap: true,
      grid: false,
    },
  };
}

interface CountAxis {
  title: string;
  orient: 'left' | 'right';
  /** Counts cannot be fractional; metrics of unknown kind can. */
  whole?: boolean;
  /** Start at zero (bars must; a line of a large total reads better without). */
  zero?: boolean;
  /** On dual-axis charts, the colour of the line this axis measures. */
  titleColor?: string;
}

export function countY(field: string, options: CountAxis): PositionDef<string> {
  const axis: Axis<ExprRef> = { title: options.title, orient: options.orient, labelExpr: COUNT_LABEL };
  if (options.whole ?? true) axis.tickMinStep = 1;
  if (options.titleColor) axis.titleColor = options.titleColor;
  // Two sets of grid lines on a dual-axis chart never line up; keep the left one.
  if (options.orient === 'right') axis.grid = false;
  return { field, type: 'quantitative', scale: { zero: options.zero ?? true }, axis };
}

/**
 * One colour scale for all layers, so all series share one legend in this
 * order. `shown` limits the legend to the entries on this chart while the
 * colours stay fixed.
 */
export function seriesScale(
  entries: readonly (readonly [label: string, color: string])[],
  shown?: readonly string[],
): { scale: { domain: string[]; range: string[] }; legend: Legend<ExprRef> } {
  const legend: Legend<ExprRef> = { title: null };
  if (shown) legend.values = entries.map(([label]) => label).filter((label) => shown.includes(label));
  return { scale: { domain: entries.map(([label]) => label), range: entries.map(([, color]) => color) }, legend };
}

/** A series drawn as one layer: its rows, its y channel, and its colour (a field or a fixed legend entry). */
export interface Series {
  values: object[];
  y: PositionDef<string>;
  color: ColorDef<string>;
}

/** A line through the series; point markers too while there are few enough buckets to tell apart. */
export function lineLayer({ values, y, color }: Series, buckets: number): Layer {
  const point = buckets <= MAX_MARKED_POINTS ? { size: 18, filled: true } : false;
  return { data: { values }, mark: { type: 'line', clip: true, strokeWidth: 2, point }, encoding: { y, color } };
}

/** Where a per-bucket value is drawn: mid-bucket, above the middle of its bar. */
function midBucket(frame: ChartFrame, t: number): number {
  return t + TIME_AXIS[frame.granularity].bucketMs / 2;
}

/** Where a bucket's bar starts and ends: the bucket, less an inset on both sides when bars are wide enough. */
function barSpans(frame: ChartFrame): (t: number) => { t: number; end: number } {
  const { bucketMs } = TIME_AXIS[frame.granularity];
  // Bars are drawn on dual-axis charts only.
  const plotWidth = frameSize(frame).width - 2 * PADDING - 2 * Y_AXIS_WIDTH;
  const bucketPx = (plotWidth * bucketMs) / (frame.to - frame.from);
  const inset = bucketPx >= MIN_SPACED_BAR_PX ? bucketMs * BAR_INSET : 0;
  return (t) => ({ t: t + inset, end: t + bucketMs - inset });
}

/** Bars from zero spanning `t` to `end`. */
function barLayer({ values, y, color }: Series): Layer {
  return {
    data: { values },
    mark: { type: 'bar', clip: true, opacity: 0.65 }, // lighter than the line drawn over it
    encoding: { x2: { field: 'end' }, y, y2: { datum: 0 }, color },
  };
}

/**
 * A volume as bars with a line over them, each on its own y axis: the shape
 * of the growth, reach and views charts.
 */
function barsAndLine(frame: ChartFrame, text: ChartText, buckets: number, bars: Series, line: Series): TopLevelSpec {
  return chart(frame, text, [barLayer(bars), lineLayer(line, buckets)], { yScales: 'independent' });
}

/** The words of a chart besides its axes and legend. */
export interface ChartText {
  title: string;
  /**
   * What the marks show, as a sentence ("Subscribers as a line, …"). With the
   * title and subtitle it makes the spec's `description`, which Vega puts on
   * the chart's container as its aria-label: what a screen reader says.
   */
  shows: string;
  /** Said in the subtitle after the period, e.g. the time zone of a heatmap's hours. */
  note?: string;
}

export interface ChartLayout {
  yScales: 'shared' | 'independent';
  /** The x channel every layer shares; the UTC time axis over the frame's period by default. */
  x?: PositionDef<string>;
  /** Named mark styles (`config.style`) the layers refer to, so a viewer's theme can restyle them. */
  styles?: Config['style'];
}

/**
 * The frame every chart shares: size, white background, padding, fonts,
 * title with the channel and period (and `note`) as subtitle, description,
 * and one x channel for all layers.
 */
export function chart(frame: ChartFrame, text: ChartText, layers: Layer[], layout: ChartLayout): TopLevelSpec {
  const size = frameSize(frame);
  const subtitleUnits = textUnits(size.width - 2 * PADDING, SUBTITLE_FONT_SIZE, VEGA_EM_PER_CHAR);
  const subtitle = subtitleLabel(frame, subtitleUnits, text.note);
  return {
    ...size,
    autosize: { type: 'fit', contains: 'padding' },
    padding: PADDING,
    background: 'white',
    title: { text: text.title, subtitle },
    description: `${text.title}, ${subtitle}. ${text.shows}`,
    config: layout.styles ? { ...CONFIG, style: layout.styles } : CONFIG,
    encoding: { x: layout.x ?? timeX(frame, size.width, layout.yScales === 'independent' ? 2 : 1) },
    layer: layers,
    resolve: { scale: { y: layout.yScales } },
  };
}

/** The frame with a message in the middle, for a period without data. */
export function noDataChart(frame: ChartFrame, title: string, note?: string): TopLevelSpec {
  const message: Layer = {
    data: { values: [{ message: NO_DATA_TEXT }] },
    mark: { type: 'text', fontSize: 14, color: '#666', align: 'center', baseline: 'middle' },
    encoding: { text: { field: 'message' }, x: { value: { expr: 'width / 2' } }, y: { value: { expr: 'height / 2' } } },
  };
  const text = { title, shows: `${NO_DATA_TEXT}.`, ...(note ? { note } : {}) };
  return chart(frame, text, [message], { yScales: 'shared' });
}

/**
 * Subscribers over the period (line, left axis) with the subscribers gained
 * and lost in each bucket (bars above and below zero, right axis).
 *
 * @example
 * const svg = await renderChart(growthChart(frame, points), 'svg');
 */
export function growthChart(frame: ChartFrame, points: readonly GrowthPoint[]): TopLevelSpec {
  const title = 'Subscriber growth';
  if (points.length === 0) return noDataChart(frame, title);
  const color = seriesScale([
    ['Subscribers', COLOR.primary],
    ['Gained', COLOR.gained],
    ['Lost', COLOR.lost],
  ]);
  const bar = barSpans(frame);
  const changes = points.flatMap((p) => [
    { ...bar(p.t), series: 'Gained', change: p.gained },
    { ...bar(p.t), series: 'Lost', change: -p.lost },
  ]);
  // The count is the one at the end of the bucket, so it is drawn there.
  const totals = points.map((p) => ({ t: p.t + TIME_AXIS[frame.granularity].bucketMs, subscribers: p.subscribers }));
  return barsAndLine(
    frame,
    {
      title,
      shows: `Subscribers as a line on the left axis; subscribers gained and lost per ${frame.granularity} as bars above and below zero on the right axis.`,
    },
    points.length,
    {
      values: changes,
      y: countY('change', { title: `Change per ${frame.granularity}`, orient: 'right' }),
      color: { field: 'series', type: 'nominal', ...color },
    },
    {
      values: totals,
      y: countY('subscribers', { title: 'Subscribers', orient: 'left', zero: false, titleColor: COLOR.primary }),
      color: { datum: 'Subscribers', ...color },
    },
  );
}

/**
 * Views per post (line, left axis) and posts published (bars, right axis)
 * in each bucket: whether reach follows posting volume.
 *
 * @example
 * const png = await renderChart(reachChart({ ...frame, width: 640, height: 320 }, points), 'png');
 */
export function reachChart(frame: ChartFrame, points: readonly ReachPoint[]): TopLevelSpec {
  const title = 'Reach per post';
  if (points.length === 0) return noDataChart(frame, title);
  const color = seriesScale([
    ['Views per post', COLOR.primary],
    ['Posts', COLOR.posts],
  ]);
  const bar = barSpans(frame);
  const posts = points.map((p) => ({ ...bar(p.t), posts: p.posts }));
  const reach = points.map((p) => ({ t: midBucket(frame, p.t), reachPerPost: p.reachPerPost }));
  return barsAndLine(
    frame,
    {
      title,
      shows: `Views per post as a line on the left axis; posts published per ${frame.granularity} as bars on the right axis.`,
    },
    points.length,
    {
      values: posts,
      y: countY('posts', { title: `Posts per ${frame.granularity}`, orient: 'right' }),
      color: { datum: 'Posts', ...color },
    },
    {
      values: reach,
      y: countY('reachPerPost', { title: 'Views per post', orient: 'left', whole: false, titleColor: COLOR.primary }),
      color: { datum: 'Views per post', ...color },
    },
  );
}

/**
 * Views (bars, left axis) with forwards and reactions (lines, right axis)
 * gained in each bucket.
 *
 * Forwards and reactions are ~1/100 of views: on one axis they lie flat on
 * zero, a log scale makes owners misjudge differences, and two stacked
 * panels would halve the height of the bot's 640×320 image. So they get the
 * right axis. Views are bars, not a third line: reactions move with views, so
 * on their own axes the two lines would lie on top of each other and read as one.
 *
 * @example
 * const svg = await renderChart(viewsChart(frame, points), 'svg');
 */
export function viewsChart(frame: ChartFrame, points: readonly ViewsPoint[]): TopLevelSpec {
  const title = 'Views, forwards and reactions';
  if (points.length === 0) return noDataChart(frame, title);
  const color: ColorDef<string> = {
    field: 'series',
    type: 'nominal',
    ...seriesScale([
      ['Views', COLOR.primary],
      ['Forwards', COLOR.forwards],
      ['Reactions', COLOR.reactions],
    ]),
  };
  const bar = barSpans(frame);
  const views = points.map((p) => ({ ...bar(p.t), series: 'Views', value: p.views }));
  const engagement = points.flatMap((p) => [
    { t: midBucket(frame, p.t), series: 'Forwards', value: p.forwards },
    { t: midBucket(frame, p.t), series: 'Reactions', value: p.reactions },
  ]);
  const per = frame.granularity;
  return barsAndLine(
    frame,
    {
      title,
      shows: `Views per ${per} as bars on the left axis; forwards and reactions per ${per} as lines on the right axis.`,
    },
    points.length,
    {
      values: views,
      y: countY('value', { title: `Views per ${per}`, orient: 'left', titleColor: COLOR.primary }),
      color,
    },
    { values: engagement, y: countY('value', { title: `Forwards & reactions per ${per}`, orient: 'right' }), color },
  );
}

/**
 * One metric's series with its anomalies: the observed values (line), the
 * expected range (a band where `band` is given, otherwise a bar over each
 * anomaly from its `bandLow` to `bandHigh`), and each anomaly as a point
 * coloured by severity (fixed colours) and shaped by direction (▲ spike,
 * ▼ drop, ■ quiet). Anomalies outside the period are left out.
 *
 * @example
 * // the bot's alert: a day of hourly values around one anomaly
 * const png = await renderChart(anomaliesChart({ ...frame, width: 640, height: 320 }, 'views', series, [anomaly]), 'png');
 */
export function anomaliesChart(
  frame: ChartFrame,
  metric: string,
  series: readonly MetricPoint[],
  anomalies: readonly AnomalyMark[],
  band?: readonly BandPoint[],
): TopLevelSpec {
  const { width, height } = frameSize(frame);
  const titlePrefix = 'Anomalies: ';
  const axisSuffix = ` per ${frame.granularity}`;
  // Short enough for the title's line and for the y axis title along the plot's height.
  const label = metricLabel(
    metric,
    Math.min(
      textUnits(width - 2 * PADDING, TITLE_FONT_SIZE, VEGA_EM_PER_CHAR) - titlePrefix.length,
      textUnits(height - PLOT_HEIGHT_TAKEN, AXIS_LABEL_FONT_SIZE, FONT_EM_PER_CHAR) - axisSuffix.length,
    ),
  );
  const title = titlePrefix + label;
  if (series.length === 0 && anomalies.length === 0) return noDataChart(frame, title);
  const hasBand = band !== undefined && band.length > 0;
  // Anomalies are drawn unclipped (a point on the plot's edge stays whole), so keep only the period's.
  const shownAnomalies = anomalies.filter((a) => a.t >= frame.from && a.t < frame.to);
  const showsRange = hasBand || shownAnomalies.length > 0;
  const severities = Object.values(SEVERITY_LEGEND);
  const color = seriesScale(
    [
      ['Observed', COLOR.primary],
      ['Expected range', COLOR.band],
      ...severities.map((s) => [s.label, s.color] as const),
    ],
    [
      'Observed',
      ...(showsRange ? ['Expected range'] : []),
      ...shownAnomalies.map((a) => SEVERITY_LEGEND[a.severity].label),
    ],
  );
  const y = (field: string): PositionDef<string> =>
    countY(field, { title: label + axisSuffix, orient: 'left', whole: false, zero: false });
  const marks = shownAnomalies.map((a) => ({
    t: midBucket(frame, a.t),
    value: a.value,
    low: a.bandLow,
    high: a.bandHigh,
    severity: SEVERITY_LEGEND[a.severity].label,
    direction: a.direction[0].toUpperCase() + a.direction.slice(1),
  }));
  const range = hasBand ? band.map((b) => ({ t: midBucket(frame, b.t), low: b.low, high: b.high })) : marks;
  const layers: Layer[] = [];
  if (showsRange) {
    layers.push({
      data: { values: range },
      mark: hasBand
        ? { type: 'area', clip: true, opacity: 0.45 }
        : { type: 'rule', clip: true, strokeWidth: 6, opacity: 0.7 },
      encoding: { y: y('low'), y2: { field: 'high' }, color: { datum: 'Expected range', ...color } },
    });
  }
  layers.push(
    lineLayer(
      {
        values: series.map((p) => ({ t: midBucket(frame, p.t), value: p.value })),
        y: y('value'),
        color: { datum: 'Observed', ...color },
      },
      series.length,
    ),
    {
      data: { values: marks },
      mark: { type: 'point', filled: true, size: 150, opacity: 1, stroke: 'white', strokeWidth: 1 },
      encoding: {
        y: y('value'),
        color: { field: 'severity', type: 'nominal', ...color },
        shape: {
          field: 'direction',
          type: 'nominal',
          scale: { domain: Object.keys(DIRECTION_SHAPES), range: Object.values(DIRECTION_SHAPES) },
          // ▲ above the range and ▼ below it explain themselves; a second legend would not fit 640 px.
          legend: null,
        },
      },
    },
  );
  const shows =
    `${label} per ${frame.granularity} as a line${showsRange ? ' with its expected range' : ''}; ` +
    `${shownAnomalies.length} anomal${shownAnomalies.length === 1 ? 'y' : 'ies'} marked by severity.`;
  return chart(frame, { title, shows }, layers, { yScales: 'shared' });
}

/**
 * A daily series and its forecast: the history (line), the point forecast
 * (dashed line) and its 80 % and 95 % prediction intervals (bands, the
 * wider one lighter). The frame spans the history shown and the forecast;
 * `label` names the series (the y axis and the title).
 *
 * @example
 * const png = await renderChart(forecastChart({ ...frame, width: 640, height: 320 }, 'Subscribers', history, forecast), 'png');
 */
export function forecastChart(
  frame: ChartFrame,
  label: string,
  history: readonly { t: number; value: number | null }[],
  forecast: readonly ForecastBand[],
): TopLevelSpec {
  const title = `Forecast: ${label}`;
  if (history.length === 0 && forecast.length === 0) return noDataChart(frame, title);
  const color = seriesScale(
    [
      ['History', COLOR.primary],
      ['Forecast', COLOR.forwards],
      ['80 % interval', COLOR.band],
      // Lighter than the 80 % band it surrounds, as a colour rather than an opacity so the legend shows it.
      ['95 % interval', '#d4e8f7'],
    ],
    ['History', ...(forecast.length > 0 ? ['Forecast', '80 % interval', '95 % interval'] : [])],
  );
  const y = (field: string): PositionDef<string> =>
    countY(field, { title: label, orient: 'left', whole: false, zero: false });
  const mid = (t: number) => midBucket(frame, t);
  const band = (low: 'low80' | 'low95', high: 'high80' | 'high95', name: string): Layer => ({
    data: { values: forecast.map((p) => ({ t: mid(p.t), low: p[low], high: p[high] })) },
    mark: { type: 'area', clip: true },
    encoding: { y: y('low'), y2: { field: 'high' }, color: { datum: name, ...color } },
  });
  const buckets = history.length + forecast.length;
  // The forecast line starts at the last observed day, so the two lines join.
  const last = history.filter((p) => p.value !== null).at(-1);
  const expected = [
    ...(last ? [{ t: mid(last.t), value: last.value }] : []),
    ...forecast.map((p) => ({ t: mid(p.t), value: p.expected })),
  ];
  const layers: Layer[] = [];
  if (forecast.length > 0)
    layers.push(band('low95', 'high95', '95 % interval'), band('low80', 'high80', '80 % interval'));
  layers.push(
    lineLayer(
      {
        values: history.map((p) => ({ t: mid(p.t), value: p.value })),
        y: y('value'),
        color: { datum: 'History', ...color },
      },
      buckets,
    ),
  );
  if (forecast.length > 0) {
    layers.push({
      data: { values: expected },
      mark: { type: 'line', clip: true, strokeWidth: 2, strokeDash: [6, 4] },
      encoding: { y: y('value'), color: { datum: 'Forecast', ...color } },
    });
  }
  const shows =
    forecast.length > 0
      ? `${label} per day as a line, then its forecast for ${forecast.length} days as a dashed line in its 80 % and 95 % prediction intervals.`
      : `${label} per day as a line; too little history for a forecast.`;
  return chart(frame, { title, shows }, layers, { yScales: 'shared' });
}
