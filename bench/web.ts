/**
 * `npm run bench:web`: what the web app costs a visitor.
 *
 *   1. bundle   builds dist-web/ (scripts/build-web.sh) and prints every file's
 *               size, raw and gzip, summed into the app's own code and the Vega
 *               runtime (the chunks named `vega-…`), against the app budget
 *   2. first    the API on pipeline-produced data (test/support/web-stack.ts),
 *      chart    and the channel page opened BENCH_WEB_RUNS times in Debian's
 *               headless chromium, each in a fresh context (empty HTTP cache,
 *               no session): time to the app's `tgpulse:first-chart` mark from
 *               Chromium's Performance API, and to DOMContentLoaded, both from
 *               navigation start, against the first-chart budget
 *
 * The API's answer cache is on (30 s) as in production, so only the first
 * run pays the warehouse queries; the table shows each run.
 *
 * Data: 3 channels × 30 days (the channel page's default period); 5 runs.
 */
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { launchBrowser, REPO_ROOT, type TestBrowser, WEB_ROOT } from '../test/support/browser.ts';
import { startWebStack, type WebStack } from '../test/support/web-stack.ts';

// Handed to the page (addInitScript); this Node type-check has no DOM library.
declare const sessionStorage: { setItem(name: string, value: string): void };
declare const location: { protocol: string };

/** Issue 15's budgets. */
const APP_BUDGET_GZIP_KB = 150;
const FIRST_CHART_BUDGET_MS = 1000;
const FIRST_CHART_MARK = 'tgpulse:first-chart';
const CHANNELS = 3;
const DAYS = 30;
const RUNS = 5;

const out = (text = '') => process.stdout.write(`${text}\n`);
const kb = (bytes: number) => (bytes / 1024).toFixed(1);

/** Columns padded to their widest cell; text columns left, figures right. */
function printTable(head: string[], rows: string[][], leftColumns = 1): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  for (const cells of [head, ...rows])
    out(cells.map((c, i) => (i < leftColumns ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
}

// ---- 1. the bundle ----------------------------------------------------------------------------

interface BuiltFile {
  name: string;
  part: 'app code' | 'Vega runtime';
  raw: number;
  gzip: number;
}

/** Every file the browser may load: index.html and the assets, each gzipped as a server would (level 6). */
async function builtFiles(): Promise<BuiltFile[]> {
  const assets = (await readdir(join(WEB_ROOT, 'assets'))).sort().map((name) => join('assets', name));
  return Promise.all(
    ['index.html', ...assets].map(async (path) => {
      const bytes = await readFile(join(WEB_ROOT, path));
      const name = path.replace(/^assets\//, '');
      return {
        name: path,
        part: name.startsWith('vega-') ? 'Vega runtime' : 'app code',
        raw: bytes.length,
        gzip: gzipSync(bytes, { level: 6 }).length,
      } satisfies BuiltFile;
    }),
  );
}

async function benchBundle(): Promise<boolean> {
  const started = performance.now();
  await promisify(execFile)(join(REPO_ROOT, 'scripts', 'build-web.sh'), [], {
    cwd: REPO_ROOT,
    maxBuffer: 16 * 1024 * 1024,
  });
  out(`built dist-web/ in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  const files = await builtFiles();
  const sum = (part: BuiltFile['part'], key: 'raw' | 'gzip') =>
    files.filter((f) => f.part === part).reduce((s, f) => s + f[key], 0);
  printTable(
    ['file', 'part', 'raw KB', 'gzip KB'],
    [
      ...files.map((f) => [f.name, f.part, kb(f.raw), kb(f.gzip)]),
      ...(['app code', 'Vega runtime'] as const).map((part) => [
        `total ${part}`,
        '',
        kb(sum(part, 'raw')),
        kb(sum(part, 'gzip')),
      ]),
    ],
    2,
  );
  const app = sum('app code', 'gzip') / 1024;
  const within = app <= APP_BUDGET_GZIP_KB;
  out(
    `\napp code: ${app.toFixed(1)} KB gzip, budget ${APP_BUDGET_GZIP_KB} KB: ${within ? 'within' : 'OVER'} (the Vega runtime is not counted)`,
  );
  return within;
}

// ---- 2. time to first chart -------------------------------------------------------------------

interface PageTiming {
  firstChart: number;
  domContentLoaded: number;
  /** Where the time to the first chart goes: the Vega chunk and the first chart spec, fully received. */
  vegaLoaded: number;
  firstSpecLoaded: number;
}

/** Opens the channel page in a fresh context and reads the Performance API once the first chart is drawn. */
async function openChannelPage(browser: TestBrowser, stack: WebStack, channelId: string): Promise<PageTiming> {
  const context = await browser.newContext();
  try {
    await context.addInitScript((key) => {
      // Also runs in about:blank, whose storage is off limits.
      if (location.protocol === 'http:') sessionStorage.setItem('tgpulse.key', key);
    }, stack.readKey);
    const page = await context.newPage();
    await page.goto(`${stack.api.url}/#/channels/${channelId}`);
    await page.waitForFunction((mark) => performance.getEntriesByName(mark).length > 0, FIRST_CHART_MARK, {
      timeout: 30_000,
    });
    // Marks and navigation timings share one origin: the navigation's start.
    const timing = await page.evaluate((mark) => {
      // The page's navigation and resource timings (entry types and shapes Node's types do not know).
      const entriesByType = performance.getEntriesByType as (type: string) => unknown[];
      const [nav] = entriesByType.call(performance, 'navigation') as Array<{ domContentLoadedEventEnd: number }>;
      const resources = entriesByType.call(performance, 'resource') as Array<{ name: string; responseEnd: number }>;
      // No named helper in here: tsx would wrap it in `__name(…)`, which the page does not have.
      const ends = [/\/assets\/vega-[^/]*\.js$/, /\/charts\/[^/]+\.json/].map((pattern) =>
        Math.min(...resources.filter((r) => pattern.test(r.name)).map((r) => r.responseEnd)),
      );
      return {
        firstChart: performance.getEntriesByName(mark)[0].startTime,
        domContentLoaded: nav.domContentLoadedEventEnd,
        vegaLoaded: ends[0],
        firstSpecLoaded: ends[1],
      };
    }, FIRST_CHART_MARK);
    // The page's other charts are still being made (by the API) and drawn: let them finish, so the next
    // run starts on a quiet server instead of behind this page's requests.
    // (An expression string: this file is compiled without the DOM's types.)
    await page.waitForFunction(
      `[...document.querySelectorAll('[data-chart]')].every((c) => !c.hasAttribute('aria-busy'))`,
      undefined,
      { timeout: 30_000 },
    );
    return timing;
  } finally {
    await context.close();
  }
}

/** The value below which `q` of the sorted values lie (nearest rank). */
function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

async function benchFirstChart(): Promise<boolean> {
  out(`\nproducing ${CHANNELS} channels × ${DAYS} days through the pipeline...`);
  let stack: WebStack | undefined;
  let browser: TestBrowser | undefined;
  try {
    stack = await startWebStack({ channels: CHANNELS, days: DAYS, seed: 5 });
    browser = await launchBrowser();
    const timings: PageTiming[] = [];
    for (let run = 0; run < RUNS; run++) timings.push(await openChannelPage(browser, stack, stack.data.channels[0]));
    out(`channel page, ${RUNS} runs, fresh context each (ms from navigation start):\n`);
    printTable(
      ['run', 'first chart', 'DOMContentLoaded', 'Vega chunk received', 'first spec received'],
      timings.map((t, i) =>
        [i + 1, t.firstChart, t.domContentLoaded, t.vegaLoaded, t.firstSpecLoaded].map((n) => n.toFixed(0)),
      ),
    );
    const sorted = (key: keyof PageTiming) => timings.map((t) => t[key]).sort((a, b) => a - b);
    const first = sorted('firstChart');
    const loaded = sorted('domContentLoaded');
    out('');
    printTable(
      ['', 'median', 'p90'],
      [
        ['first chart', quantile(first, 0.5).toFixed(0), quantile(first, 0.9).toFixed(0)],
        ['DOMContentLoaded', quantile(loaded, 0.5).toFixed(0), quantile(loaded, 0.9).toFixed(0)],
      ],
    );
    const within = quantile(first, 0.5) <= FIRST_CHART_BUDGET_MS;
    out(
      `\nfirst chart (median): ${quantile(first, 0.5).toFixed(0)} ms, budget ${FIRST_CHART_BUDGET_MS} ms: ${within ? 'within' : 'OVER'}`,
    );
    // Timings on a busy machine are not timings of the app: say how busy it was.
    out(`load average (1 min): ${loadavg()[0].toFixed(1)} on ${availableParallelism()} cores`);
    const problems = browser.problems();
    for (const p of problems) out(`browser ${p.kind} on ${p.page}: ${p.text}`);
    return within && problems.length === 0;
  } finally {
    await browser?.close();
    await stack?.close();
  }
}

try {
  const bundleWithin = await benchBundle();
  const firstChartWithin = await benchFirstChart();
  if (!bundleWithin || !firstChartWithin) process.exitCode = 1;
} catch (err) {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
}
