/**
 * The web app in headless Chromium (Debian's, through playwright-core) on
 * data the pipeline produced: the pages a channel owner, a share-link reader
 * and a Telegram Mini App user see, with their charts drawn by vega-embed,
 * no console errors, full keyboard reach, and screenshots of every page at
 * desktop and phone width (test-results/web/, to look at).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { BrowserContextOptions, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantChannel, upsertBotUser } from '../control/bot-store.ts';
import { upsertChannel } from '../control/tracked-channels.ts';
import { DESKTOP, ensureWebBuilt, launchBrowser, PHONE, REPO_ROOT, type TestBrowser } from './support/browser.ts';
import { forgeHash, miniAppUrl, signInitData } from './support/telegram-init-data.ts';
import { startWebStack, TEST_BOT_TOKEN, type WebStack } from './support/web-stack.ts';

// The functions handed to page.evaluate run in the page; this Node type-check has no DOM library.
declare const document: any;
declare const sessionStorage: any;
declare const location: any;
declare function getComputedStyle(element: unknown): any;

const SCREENSHOTS = join(REPO_ROOT, 'test-results', 'web');
const KEY_STORAGE = 'tgpulse.key';
const EXPIRED_TITLE = 'This link has expired or was revoked';
/** How long a page may take to draw its charts (a cold warehouse query included). */
const DRAW_MS = 20_000;

/** Where the app's markup is read (api/web/src/pages); the contract fixes only `data-chart` and `data-rendered`. */
const UI = {
  keyInput: '#api-key',
  /** A row of the channel list, with the channel's id in `data-channel-id`. */
  channelRow: 'tr[data-channel-id]',
  search: '#channel-search',
  kpiValue: '.kpi .kpi-value',
  postLink: 'a[href*="/posts/"]',
  /** A shown alert (the page keeps an empty, hidden one for notices). */
  refusal: '[role="alert"]:not([hidden])',
  /** A section's placeholder until its answer arrives. */
  loading: '.loading',
};

let stack: WebStack;
let browser: TestBrowser;
/** A share link that stays valid and one revoked, from the share test, for the screenshots. */
const shares: { live?: string; revoked?: string } = {};

beforeAll(async () => {
  await mkdir(SCREENSHOTS, { recursive: true });
  // The build (when stale) and the pipeline run side by side; neither needs the other.
  const [built, started] = await Promise.allSettled([
    ensureWebBuilt(),
    startWebStack({ channels: 3, days: 10, seed: 23 }),
  ]);
  if (started.status === 'fulfilled') stack = started.value;
  if (built.status === 'rejected') throw built.reason;
  if (started.status === 'rejected') throw started.reason;
  browser = await launchBrowser();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

const url = (path = '/') => `${stack.api.url}${path}`;

async function screenshot(page: Page, name: string, fullPage = false): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage });
}

/** A page in a fresh context already holding the read key, as after a sign-in. */
async function signedInPage(opts: BrowserContextOptions = {}): Promise<Page> {
  const context = await browser.newContext(opts);
  await context.addInitScript(
    ([name, key]) => {
      // Also runs in about:blank, whose storage is off limits.
      if (location.protocol === 'http:' && !sessionStorage.getItem(name)) sessionStorage.setItem(name, key);
    },
    [KEY_STORAGE, stack.readKey] as const,
  );
  return context.newPage();
}

interface DrawnChart {
  name: string;
  marks: number;
  /** Axes none of whose tick labels shows (Vega hides overlapping labels with opacity 0). */
  unlabelledAxes: number;
}

/**
 * Waits until every section of the page has loaded and every chart container
 * says it is drawn, then counts the marks inside each chart's data-mark
 * groups (Vega's `role-mark` groups: lines, bars, points, cells; axes and
 * legends are other roles) and the axes left without a readable tick label.
 */
async function chartsDrawn(page: Page): Promise<DrawnChart[]> {
  await page.waitForSelector('[data-chart]', { timeout: DRAW_MS });
  await page.waitForFunction(
    (loading) =>
      document.querySelector(loading) === null &&
      [...document.querySelectorAll('[data-chart]')].every((c: any) => c.getAttribute('data-rendered') === 'true'),
    UI.loading,
    { timeout: DRAW_MS },
  );
  return page.$$eval('[data-chart]', (charts) =>
    charts.map((chart) => ({
      name: chart.getAttribute('data-chart') ?? '',
      marks: chart.querySelectorAll(
        'svg g.role-mark path, svg g.role-mark rect, svg g.role-mark circle, svg g.role-mark line',
      ).length,
      // Grid-only axes have no labels at all; an axis with labels must show at least one.
      unlabelledAxes: [...chart.querySelectorAll('svg g.role-axis')]
        .map((axis) => [...axis.querySelectorAll('g.role-axis-label text')])
        .filter(
          (labels) =>
            labels.length > 0 &&
            !labels.some((l) => l.getAttribute('opacity') !== '0' && (l.textContent ?? '').trim() !== ''),
        ).length,
    })),
  );
}

function expectMarks(charts: DrawnChart[]): void {
  expect(charts.length).toBeGreaterThan(0);
  expect(charts.filter((c) => c.marks === 0).map((c) => c.name)).toEqual([]);
  expect(charts.filter((c) => c.unlabelledAxes > 0).map((c) => c.name)).toEqual([]);
}

async function openChannel(page: Page, channelId: string): Promise<DrawnChart[]> {
  await page.goto(url(`/#/channels/${channelId}`));
  return chartsDrawn(page);
}

/** Creates a share link of the whole report with the share-only key; answers its path and id. */
async function createShare(channelId: string): Promise<{ url: string; id: string }> {
  const res = await fetch(url(`/v1/channels/${channelId}/share`), {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.shareKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ttl_seconds: 3600 }),
  });
  expect(res.status).toBe(201);
  const link = (await res.json()) as { url: string; id: string };
  return { url: link.url, id: link.id };
}

describe('a channel owner with an API key', () => {
  it('signs in, and the list, the channel page and a post page render with data and drawn charts', async () => {
    // A collector registered the first channel by name; the simulated others are known by id only.
    const named = stack.data.channels[0];
    await upsertChannel(stack.control.pool, {
      channelId: named,
      username: 'pulse_news',
      title: 'Pulse News',
      accessHash: '77',
      canViewStats: false,
      statsDc: null,
      members: null,
    });
    const page = await (await browser.newContext()).newPage();
    await page.goto(url('/'));
    await page.locator(UI.keyInput).waitFor();
    await screenshot(page, 'signin-desktop');
    await page.locator(UI.keyInput).fill(stack.readKey);
    await page.locator(UI.keyInput).press('Enter');
    await page.waitForURL(/#\/channels$/);
    expect(await page.evaluate((name) => sessionStorage.getItem(name), KEY_STORAGE)).toBe(stack.readKey);

    const rows = page.locator(UI.channelRow);
    await expect.poll(() => rows.count(), { timeout: DRAW_MS }).toBe(stack.data.channels.length);
    expect((await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-channel-id')))).sort()).toEqual(
      stack.data.channels,
    );
    for (const text of await rows.allInnerTexts()) expect(text).toMatch(/\d/);
    expect(await page.locator(`${UI.channelRow}[data-channel-id="${named}"]`).textContent()).toContain('Pulse News');
    await screenshot(page, 'channels-desktop');
    // The search hides the rows that do not match.
    const shown = page.locator(`${UI.channelRow}:visible`);
    await page.locator(UI.search).fill('@pulse_news');
    await expect
      .poll(() => shown.evaluateAll((els) => els.map((e) => e.getAttribute('data-channel-id'))))
      .toEqual([named]);
    await page.locator(UI.search).fill('');
    await expect.poll(() => shown.count()).toBe(stack.data.channels.length);

    const channel = stack.data.channels[0];
    await page.locator(`${UI.channelRow} a[href="#/channels/${channel}"]`).click();
    await page.waitForURL(new RegExp(`#/channels/${channel}`));
    expectMarks(await chartsDrawn(page));
    await expect.poll(() => page.locator('h1').textContent()).toBe('Pulse News');
    expect(await page.title()).toBe('Pulse News · tgpulse');
    const kpis = await page.locator(UI.kpiValue).allInnerTexts();
    expect(kpis.length).toBeGreaterThanOrEqual(6);
    for (const text of kpis) expect(text).toMatch(/\d/);
    await screenshot(page, 'channel-desktop', true);

    await page.locator(UI.postLink).first().click();
    await page.waitForURL(/\/posts\/\d+/);
    const post = await chartsDrawn(page);
    expect(post.map((c) => c.name)).toContain('post');
    expectMarks(post);
    await screenshot(page, 'post-desktop', true);
    await page.context().close();
  });

  it('reaches every control of the channel page with Tab, and Tab cycles back to the top', async () => {
    const page = await signedInPage();
    await openChannel(page, stack.data.channels[1]);
    // Every visible interactive element, tagged in document order.
    const controls = await page.evaluate(() => {
      const found: string[] = [];
      for (const el of document.querySelectorAll('a[href], button, input, select, textarea, [tabindex]')) {
        const box = el.getBoundingClientRect();
        const style = getComputedStyle(el);
        const hidden = box.width === 0 || box.height === 0 || style.visibility === 'hidden';
        if (hidden || el.tabIndex < 0 || el.matches(':disabled') || el.closest('[inert]')) continue;
        el.dataset.tabProbe = String(found.length);
        found.push(`${el.tagName.toLowerCase()} "${(el.getAttribute('aria-label') ?? el.textContent ?? '').trim()}"`);
      }
      return found;
    });
    expect(controls.length).toBeGreaterThan(3);

    const reached = new Set<number>();
    let cycled = false;
    for (let presses = 0; presses < controls.length * 2 + 6 && !cycled; presses++) {
      await page.keyboard.press('Tab');
      const probe = await page.evaluate(() => document.activeElement?.dataset?.tabProbe as string | undefined);
      if (probe === undefined) continue;
      const index = Number(probe);
      // Back at a control seen before after all were reached: focus went round.
      if (reached.has(index) && reached.size === controls.length) cycled = true;
      reached.add(index);
    }
    expect(controls.filter((_, i) => !reached.has(i))).toEqual([]);
    expect(cycled).toBe(true);
    await page.context().close();
  });
});

describe('share links', () => {
  it('open without a key as a report with charts; a revoked one shows the expired page', async () => {
    const channel = stack.data.channels[2];
    const live = await createShare(channel);
    const revoked = await createShare(channel);
    const context = await browser.newContext();
    const page = await context.newPage();
    const answer = await page.goto(url(live.url));
    expect(answer?.status()).toBe(200);
    expectMarks(await chartsDrawn(page));
    expect(await page.evaluate((name) => sessionStorage.getItem(name), KEY_STORAGE)).toBeNull();
    await screenshot(page, 'share-desktop', true);

    const gone = await fetch(url(`/v1/share/${revoked.id}`), {
      method: 'DELETE',
      headers: { authorization: `Bearer ${stack.shareKey}` },
    });
    expect(gone.status).toBe(204);
    for (const status of [404, 410]) browser.expectFailure(revoked.url, status);
    const refused = await page.goto(url(revoked.url));
    expect([404, 410]).toContain(refused?.status());
    expect((await page.locator('h1').textContent())?.trim()).toBe(EXPIRED_TITLE);
    await screenshot(page, 'expired-desktop');
    await context.close();
    shares.live = live.url;
    shares.revoked = revoked.url;
  });
});

describe('the Telegram Mini App', () => {
  const user = { id: 777_000_111, first_name: 'Mini', username: 'mini_owner' };
  const nowSeconds = () => Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    await upsertBotUser(stack.control.pool, { userId: String(user.id), username: user.username });
    await grantChannel(stack.control.pool, {
      userId: String(user.id),
      channelId: stack.data.channels[0],
      via: 'admin',
      grantedBy: null,
    });
  });

  it('opens with valid initData and lists only the channels granted to that user', async () => {
    const page = await (await browser.newContext({ viewport: PHONE })).newPage();
    const session = page.waitForResponse((r) => r.url().endsWith('/v1/webapp/session'));
    await page.goto(miniAppUrl(stack.api.url, signInitData(TEST_BOT_TOKEN, { user, authDateSeconds: nowSeconds() })));
    expect((await session).status()).toBe(201);
    const rows = page.locator(UI.channelRow);
    await expect.poll(() => rows.count(), { timeout: DRAW_MS }).toBe(1);
    expect(await rows.first().getAttribute('data-channel-id')).toBe(stack.data.channels[0]);
    await screenshot(page, 'miniapp-phone');
    await page.context().close();
  });

  for (const [what, initData] of [
    ['a forged hash', () => forgeHash(signInitData(TEST_BOT_TOKEN, { user, authDateSeconds: nowSeconds() }))],
    ['a stale auth_date', () => signInitData(TEST_BOT_TOKEN, { user, authDateSeconds: nowSeconds() - 2 * 86_400 })],
  ] as const) {
    it(`refuses ${what}: 401 from the session route and a refusal on screen`, async () => {
      browser.expectFailure('/v1/webapp/session', 401);
      const page = await (await browser.newContext({ viewport: PHONE })).newPage();
      const session = page.waitForResponse((r) => r.url().endsWith('/v1/webapp/session'));
      await page.goto(miniAppUrl(stack.api.url, initData()));
      expect((await session).status()).toBe(401);
      await page.locator(UI.refusal).first().waitFor({ timeout: DRAW_MS });
      expect(await page.locator(UI.refusal).first().textContent()).toMatch(/Telegram|sign-in/i);
      expect(await page.locator(UI.channelRow).count()).toBe(0);
      await page.context().close();
    });
  }
});

describe('screenshots', () => {
  it('of every page at phone width, and of the channel page in dark mode', async () => {
    const phone: BrowserContextOptions = { viewport: PHONE, deviceScaleFactor: 1, isMobile: true, hasTouch: true };
    const signIn = await (await browser.newContext(phone)).newPage();
    await signIn.goto(url('/'));
    await signIn.locator(UI.keyInput).waitFor();
    await screenshot(signIn, 'signin-phone');
    await signIn.context().close();

    const page = await signedInPage(phone);
    await page.goto(url('/#/channels'));
    await page.locator(UI.channelRow).first().waitFor({ timeout: DRAW_MS });
    await screenshot(page, 'channels-phone');
    expectMarks(await openChannel(page, stack.data.channels[0]));
    await screenshot(page, 'channel-phone', true);
    await page.locator(UI.postLink).first().click();
    await chartsDrawn(page);
    await screenshot(page, 'post-phone', true);
    await page.context().close();

    if (!shares.live || !shares.revoked) throw new Error('the share test did not leave its links');
    const reader = await (await browser.newContext(phone)).newPage();
    await reader.goto(url(shares.live));
    await chartsDrawn(reader);
    await screenshot(reader, 'share-phone', true);
    await reader.goto(url(shares.revoked));
    await screenshot(reader, 'expired-phone');
    await reader.context().close();

    const dark = await signedInPage({ viewport: DESKTOP, colorScheme: 'dark' });
    expectMarks(await openChannel(dark, stack.data.channels[0]));
    await screenshot(dark, 'channel-dark-desktop', true);
    await dark.context().close();
  });
});

describe('the browser console', () => {
  // Last in the file: it covers every page the tests above visited.
  it('has no errors and no uncaught exceptions on any page', () => {
    expect(browser.problems()).toEqual([]);
  });
});
