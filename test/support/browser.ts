/**
 * Headless Chromium for the web app's tests and bench: Debian's `chromium`
 * driven through playwright-core (no browser download), and a watch on every
 * page it opens for console errors and uncaught page errors, which the tests
 * require to be none.
 *
 * A response the test asks for on purpose (a revoked share link's 410, a
 * refused Mini App session's 401) makes Chromium log "Failed to load
 * resource" as a console error; such a line is ignored only when the test
 * declared that URL and status with `expectFailure`.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './cli.ts';
import { type Browser, type BrowserContext, type BrowserContextOptions, chromium, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';
/** The flags issue 15 asks for: no sandbox (containers), no GPU, no calls home. */
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];

export { REPO_ROOT };
export const WEB_ROOT = join(REPO_ROOT, 'dist-web');

export const DESKTOP = { width: 1280, height: 800 } as const;
export const PHONE = { width: 390, height: 844 } as const;

/** Builds dist-web/ unless it is newer than the client's sources (scripts/build-web.sh decides). */
export async function ensureWebBuilt(): Promise<void> {
  await promisify(execFile)(join(REPO_ROOT, 'scripts', 'build-web.sh'), ['--if-stale'], {
    cwd: REPO_ROOT,
    maxBuffer: 16 * 1024 * 1024,
  });
}

export interface BrowserProblem {
  page: string;
  kind: 'console' | 'pageerror';
  text: string;
}

export interface TestBrowser {
  browser: Browser;
  /** A fresh context (own storage, no key) whose pages are watched. */
  newContext(opts?: BrowserContextOptions): Promise<BrowserContext>;
  /** A page in a fresh context; close the context with `page.context().close()`. */
  newPage(opts?: BrowserContextOptions): Promise<Page>;
  /** Declares that loading `url` (exact, or a suffix of it) answers `status` on purpose. */
  expectFailure(url: string, status: number): void;
  /** Console errors and page errors seen so far on every watched page. */
  problems(): BrowserProblem[];
  close(): Promise<void>;
}

const FAILED_LOAD = /^Failed to load resource: the server responded with a status of (\d{3})/;

export async function launchBrowser(): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM_PATH))
    throw new Error(
      `${CHROMIUM_PATH} is missing: install it with: sudo apt-get install --no-install-recommends chromium (or run TGPULSE_BOOTSTRAP_TESTS=1 scripts/bootstrap.sh)`,
    );
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
  const problems: BrowserProblem[] = [];
  const expected: Array<{ url: string; status: number }> = [];
  const isExpected = (url: string, status: number) =>
    expected.some((e) => e.status === status && (url === e.url || url.endsWith(e.url)));

  function watch(page: Page): void {
    page.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      const failed = FAILED_LOAD.exec(msg.text());
      if (failed && isExpected(msg.location().url, Number(failed[1]))) return;
      problems.push({ page: page.url(), kind: 'console', text: `${msg.text()} (${msg.location().url})` });
    });
    page.on('pageerror', (err) => {
      problems.push({ page: page.url(), kind: 'pageerror', text: err.stack ?? err.message });
    });
  }

  async function newContext(opts: BrowserContextOptions = {}): Promise<BrowserContext> {
    const context = await browser.newContext({ viewport: DESKTOP, deviceScaleFactor: 1, ...opts });
    context.on('page', watch);
    return context;
  }

  return {
    browser,
    newContext,
    async newPage(opts) {
      return (await newContext(opts)).newPage();
    },
    expectFailure(url, status) {
      expected.push({ url, status });
    },
    problems: () => [...problems],
    close: () => browser.close(),
  };
}
