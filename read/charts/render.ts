/**
 * Draws a chart spec as SVG (Vega, headless, no canvas) or PNG (the SVG
 * rasterised by resvg). Nothing is fetched: the loader given to Vega refuses
 * every URL, so a spec can only draw the inline data it carries.
 */
import { renderAsync, Resvg, type ResvgRenderOptions } from '@resvg/resvg-js';
import { parse, View, Warn, type Loader, type LoggerInterface, type Spec } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { CHART_FONT } from './specs.ts';

/** What {@link renderChart} can produce. */
export type ChartFormat = 'svg' | 'png';

/** A chart could not be drawn; `messages` are what Vega reported, `cause` what it threw, if anything. */
export class ChartRenderError extends Error {
  constructor(
    message: string,
    readonly messages: readonly string[],
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'ChartRenderError';
  }
}

/** Vega's messages, kept for the caller: Vega would otherwise print them to the console. */
interface CollectedLog {
  logger: LoggerInterface;
  errors: string[];
  warnings: string[];
}

function collectLog(): CollectedLog {
  const errors: string[] = [];
  const warnings: string[] = [];
  const text = (args: unknown[]): string => args.map(String).join(' ');
  let current = Warn;
  // Closures, not methods: Vega calls its logger's methods detached from the logger.
  const logger: LoggerInterface = {
    level: (level?: number) => {
      if (level === undefined) return current;
      current = level;
      return logger;
    },
    error: (...args: unknown[]) => {
      errors.push(text(args));
      return logger;
    },
    warn: (...args: unknown[]) => {
      warnings.push(text(args));
      return logger;
    },
    info: () => logger,
    debug: () => logger,
  };
  return { logger, errors, warnings };
}

/** A Vega-Lite spec compiled to Vega, with what the compiler warned about. */
export interface CompiledChart {
  vega: Spec;
  warnings: string[];
}

/**
 * Compiles a Vega-Lite spec to Vega, collecting warnings instead of printing
 * them. A warning usually means an encoding was silently dropped, so tests
 * assert there are none.
 */
export function compileChart(spec: TopLevelSpec): CompiledChart {
  const log = collectLog();
  const { spec: vega } = compile(spec, { logger: log.logger });
  return { vega, warnings: [...log.warnings, ...log.errors] };
}

/**
 * Vega's loader, minus the network and the file system. Vega only warns when
 * a load fails and draws the chart without that data, so refusals are
 * recorded in `refused` for the render to fail on.
 */
function offlineLoader(refused: string[]): Loader {
  const refuse = async (uri: string): Promise<never> => {
    refused.push(uri);
    throw new Error(`refused to load ${uri}`);
  };
  return { load: refuse, sanitize: refuse, http: refuse, file: refuse };
}

async function toSvg(spec: TopLevelSpec): Promise<string> {
  const log = collectLog();
  const refused: string[] = [];
  const { vega } = compileChart(spec);
  // renderer 'none': the scenegraph is built without a canvas; text width is estimated.
  const view = new View(parse(vega), {
    renderer: 'none',
    loader: offlineLoader(refused),
    logger: log.logger,
    logLevel: Warn,
  });
  let svg: string;
  try {
    svg = await view.toSVG();
  } catch (cause) {
    // Vega logs the dataflow error that broke the scenegraph; what it throws afterwards says less.
    throw new ChartRenderError(`chart could not be drawn: ${log.errors[0] ?? String(cause)}`, log.errors, { cause });
  } finally {
    view.finalize();
  }
  if (refused.length > 0) {
    throw new ChartRenderError(`charts draw inline data only; refused to load ${refused.join(', ')}`, log.warnings);
  }
  if (log.errors.length > 0) throw new ChartRenderError(`chart could not be drawn: ${log.errors[0]}`, log.errors);
  return svg;
}

type FontOptions = NonNullable<ResvgRenderOptions['font']>;

/**
 * Fonts for PNGs. System fonts stay loaded so that glyphs DejaVu lacks
 * (CJK, for one) can come from another installed font, where there is one.
 */
const PNG_FONTS: FontOptions = {
  loadSystemFonts: true,
  defaultFontFamily: CHART_FONT,
  sansSerifFamily: CHART_FONT,
};

/** Thrown when resvg has no font to draw text with; the message says what to install. */
export class ChartFontsMissingError extends Error {
  constructor() {
    super('PNG charts need fonts: apt-get install fonts-dejavu-core');
    this.name = 'ChartFontsMissingError';
  }
}

/** Is any pixel of an RGBA image darker than mid-grey? */
function hasInk(rgba: Buffer): boolean {
  for (let i = 0; i < rgba.length; i += 4) {
    if (rgba[i] < 128 && rgba[i + 3] > 0) return true;
  }
  return false;
}

/**
 * Throws {@link ChartFontsMissingError} unless resvg can draw text with
 * `fonts`. Without a font resvg drops text silently and PNG charts lose
 * every title and label, so this draws one word and looks for ink. The API
 * and the bot call it at start to fail there rather than on the first chart;
 * PNG rendering checks it once as well.
 *
 * @example
 * assertChartFonts(); // at start, before serving PNG charts
 */
export function assertChartFonts(fonts: FontOptions = PNG_FONTS): void {
  const probe = `<svg xmlns="http://www.w3.org/2000/svg" width="60" height="24"><text x="2" y="18" font-family="${CHART_FONT}, sans-serif" font-size="16">Hg</text></svg>`;
  const image = new Resvg(probe, { font: fonts, background: 'white' }).render();
  if (!hasInk(image.pixels)) throw new ChartFontsMissingError();
}

let fontsChecked = false;

async function toPng(svg: string): Promise<Buffer> {
  if (!fontsChecked) {
    assertChartFonts();
    fontsChecked = true;
  }
  // renderAsync rasterises off the event loop; the SVG already has the requested size.
  const image = await renderAsync(svg, { font: PNG_FONTS, background: 'white', fitTo: { mode: 'original' } });
  return image.asPng();
}

/**
 * Draws a chart spec. SVG text is escaped by Vega, so titles from users are
 * safe to serve as `image/svg+xml`.
 *
 * @example
 * const png = await renderChart(growthChart(frame, points), 'png');
 * await bot.api.sendPhoto(chatId, new InputFile(png, 'growth.png'));
 */
export async function renderChart(spec: TopLevelSpec, format: 'svg'): Promise<string>;
export async function renderChart(spec: TopLevelSpec, format: 'png'): Promise<Buffer>;
export async function renderChart(spec: TopLevelSpec, format: ChartFormat): Promise<string | Buffer>;
export async function renderChart(spec: TopLevelSpec, format: ChartFormat): Promise<string | Buffer> {
  const svg = await toSvg(spec);
  return format === 'svg' ? svg : toPng(svg);
}
