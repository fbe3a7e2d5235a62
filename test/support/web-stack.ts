/**
 * The web app's server side as the browser tests and `bench:web` use it:
 * pipeline-produced data (test/support/read-side.ts), a fresh embedded control
 * plane, and the real API serving dist-web/ and the Mini App session route.
 *
 * The data ends at the current hour and the API runs on the real clock,
 * because the browser computes nothing from a pinned clock: what the app
 * shows as "the last 30 days" is the API's default period, from now.
 */
import { LOOPBACK_API_CONFIG } from './api-target.ts';
import { Registry } from 'prom-client';
import { createApiKey, type ApiScope } from '../../control/api-keys.ts';
import { openControlPlane, type ControlPlane } from '../../control/postgres.ts';
import { freshTestControl, type TestControl } from '../../control/testing.ts';
import { startApiServer, type ApiServer } from '../../api/server.ts';
import { silentLogger } from '../../observability/log.ts';
import { DAY_MS, HOUR_MS } from '../../common/index.ts';
import { produceReadSideData, type ReadSideData } from './read-side.ts';
import { WEB_ROOT } from './browser.ts';

/** The bot token the Mini App's initData is signed with (test/support signs it the way Telegram does). */
export const TEST_BOT_TOKEN = '123456:web-test-bot-token';

export interface WebStack {
  data: ReadSideData;
  control: ControlPlane;
  api: ApiServer;
  /** A key with `read` and `export` on every channel. */
  readKey: string;
  /** A key that may only create and revoke share links. */
  shareKey: string;
  close(): Promise<void>;
}

export async function startWebStack(opts: { channels: number; days: number; seed: number }): Promise<WebStack> {
  const closers: Array<() => Promise<void>> = [];
  // Everything started is stopped, newest first, even when one of them fails to stop.
  const close = async () => {
    const failures: unknown[] = [];
    for (const closeOne of closers.reverse()) await closeOne().catch((err: unknown) => failures.push(err));
    if (failures.length > 0) throw new AggregateError(failures, 'stopping the web stack failed');
  };
  try {
    const start = Math.floor(Date.now() / HOUR_MS) * HOUR_MS - opts.days * DAY_MS;
    const data = await produceReadSideData({ ...opts, start });
    closers.push(() => data.close());
    const testControl: TestControl = await freshTestControl('embedded');
    closers.push(() => testControl.dispose());
    const control = await openControlPlane(testControl.config);
    closers.push(() => control.close());
    const api = await startApiServer({
      warehouse: data.pipe.warehouse,
      control,
      controlConfig: testControl.config,
      config: {
        // The answer cache on, as in production: the page's repeated requests are what it serves.
        ...LOOPBACK_API_CONFIG,
        cacheSeconds: 30,
        webRoot: WEB_ROOT,
        webApp: { botToken: TEST_BOT_TOKEN, maxAgeSeconds: 3600 },
      },
      log: silentLogger,
      registry: new Registry(),
    });
    closers.push(() => api.close());
    const key = async (name: string, scopes: ApiScope[]) => (await createApiKey(control.pool, { name, scopes })).token;
    return {
      data,
      control,
      api,
      readKey: await key('web reader', ['read', 'export']),
      shareKey: await key('web sharer', ['share']),
      close,
    };
  } catch (err) {
    // The cause of the failed start matters more than a failure to stop what did start.
    await close().catch(() => {});
    throw err;
  }
}
