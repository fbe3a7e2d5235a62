import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api } from 'telegram';
import { openControlPlane, type ControlPlane } from '../../control/postgres.ts';
import { freshTestControl, type TestControl } from '../../control/testing.ts';
import { addAccount, setAccountStatus } from '../../control/mtproto-accounts.ts';
import { encryptSession } from '../../control/session-crypto.ts';
import { silentLogger } from '../../observability/log.ts';
import { FakeTelegram } from '../../test/support/fake-telegram.ts';
import { DEFAULT_MTPROTO_CONFIG, type MtprotoConfig } from './config.ts';
import {
  connectionRoutes,
  openAccounts,
  openTelegramClient,
  proxyOption,
  type TelegramClientOptions,
} from './telegram-client.ts';

describe("a proxy URL becomes gramjs's proxy option", () => {
  it('socks5 with credentials', () => {
    expect(proxyOption('socks5://bob:p%40ss@10.0.0.1:1080')).toEqual({
      socksType: 5,
      ip: '10.0.0.1',
      port: 1080,
      username: 'bob',
      password: 'p@ss',
    });
  });

  it('socks5 without credentials, IPv6 host unbracketed', () => {
    expect(proxyOption('socks5://[::1]:9050')).toEqual({ socksType: 5, ip: '::1', port: 9050 });
  });

  it('an MTProxy with its secret', () => {
    const secret = 'ee0123456789abcdef0123456789abcdef';
    expect(proxyOption(`mtproxy://${secret}@proxy.example:443`)).toEqual({
      ip: 'proxy.example',
      port: 443,
      secret,
      MTProxy: true,
    });
  });

  it.each([
    ['http://10.0.0.1:8080', /not supported/],
    ['socks5://10.0.0.1', /port/],
    ['mtproxy://proxy.example:443', /secret/],
    ['no url', /not a URL/],
  ])('refuses %s', (url, message) => {
    expect(() => proxyOption(url)).toThrow(message);
  });

  it('does not repeat a password in its errors', () => {
    expect(() => proxyOption('socks5://bob:hunter2@host')).toThrow(/socks5:\/\/bob:\*\*\*@host/);
  });
});

describe('an account tries its own route, then the fallback proxies', () => {
  it('in order, each once', () => {
    expect(connectionRoutes('socks5://a:1', ['socks5://b:2', 'socks5://a:1'])).toEqual([
      'socks5://a:1',
      'socks5://b:2',
    ]);
    expect(connectionRoutes(null, ['socks5://b:2'])).toEqual([null, 'socks5://b:2']);
  });
});

describe('opening the accounts of the control plane', () => {
  let test: TestControl;
  let control: ControlPlane;
  const key = randomBytes(32);
  const config: MtprotoConfig = {
    ...DEFAULT_MTPROTO_CONFIG,
    apiId: 12345,
    apiHash: '0123456789abcdef0123456789abcdef',
    sessionKey: key,
    proxies: ['socks5://fallback:1080', 'socks5://user:secretpw@second:1080'],
  };
  const tg = new FakeTelegram();
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    test = await freshTestControl('embedded');
    control = await openControlPlane(test.config);
    const good = await addAccount(control.pool, {
      phone: '+15550000001',
      userId: '1',
      sealSession: (id) => encryptSession('session-of-good', key, id),
      proxy: 'socks5://own:1080',
    });
    const foreign = await addAccount(control.pool, {
      phone: '+15550000002',
      userId: '2',
      sealSession: (id) => encryptSession('session-of-foreign', randomBytes(32), id),
    });
    const off = await addAccount(control.pool, {
      phone: '+15550000003',
      userId: '3',
      sealSession: (id) => encryptSession('session-of-off', key, id),
    });
    await setAccountStatus(control.pool, off.id, 'disabled');
    Object.assign(ids, { good: good.id, foreign: foreign.id, off: off.id });
  });
  afterAll(async () => {
    await control?.close();
    await test?.dispose();
  });

  it('decrypts each active session, rotates proxies on connection failure and skips an account whose session does not open', async () => {
    const attempts: Array<Pick<TelegramClientOptions, 'session' | 'proxy'>> = [];
    const opened = await openAccounts({
      control: control.pool,
      config,
      log: silentLogger,
      connect: async (o) => {
        attempts.push({ session: o.session, proxy: o.proxy });
        // Only the second fallback gets through.
        if (o.proxy !== 'socks5://user:secretpw@second:1080') throw new Error('connection refused');
        return tg.client({ account: 'good' });
      },
    });
    try {
      expect(attempts).toEqual([
        { session: 'session-of-good', proxy: 'socks5://own:1080' },
        { session: 'session-of-good', proxy: 'socks5://fallback:1080' },
        { session: 'session-of-good', proxy: 'socks5://user:secretpw@second:1080' },
      ]);
      expect(opened.sessions.map((s) => s.accountId)).toEqual([ids.good]);
      expect(opened.skipped).toEqual([
        { accountId: ids.foreign, phone: '+15550000002', reason: expect.stringContaining('TGPULSE_SESSION_KEY') },
      ]);
      // The session works: calls go through the AccountSession to (fake) Telegram.
      const state = await opened.sessions[0].call(new Api.updates.GetState());
      expect(state.pts).toBe(1);
    } finally {
      for (const s of opened.sessions) await FakeTelegram.close(s.client);
    }
  });

  it('reports an account no route connects, naming the routes without their passwords', async () => {
    const opened = await openAccounts({
      control: control.pool,
      config,
      log: silentLogger,
      only: [ids.good],
      connect: async () => {
        throw new Error('timeout');
      },
    });
    expect(opened.sessions).toEqual([]);
    expect(opened.skipped[0].reason).toMatch(
      /could not connect to Telegram through any route \(socks5:\/\/own:1080, socks5:\/\/fallback:1080, socks5:\/\/user:\*\*\*@second:1080\)/,
    );
    expect(opened.skipped[0].reason).not.toContain('secretpw');
  });

  it('refuses to start without the API credentials or the session key', async () => {
    await expect(
      openAccounts({ control: control.pool, config: { ...config, apiId: null, apiHash: null }, log: silentLogger }),
    ).rejects.toThrow(/TGPULSE_TG_API_ID/);
    await expect(
      openAccounts({ control: control.pool, config: { ...config, sessionKey: null }, log: silentLogger }),
    ).rejects.toThrow(/openssl rand -hex 32/);
  });
});

describe('opening a real gramjs client', () => {
  it('fails with the route it tried when Telegram cannot be reached', async () => {
    // A SOCKS proxy on a closed local port: gramjs's retries fail fast, without touching the internet.
    await expect(
      openTelegramClient({
        session: '',
        apiId: 12345,
        apiHash: '0123456789abcdef0123456789abcdef',
        proxy: 'socks5://user:pw@127.0.0.1:1',
        log: silentLogger,
      }),
    ).rejects.toThrow(/could not connect to Telegram through socks5:\/\/user:\*\*\*@127\.0\.0\.1:1/);
  }, 30_000);
});
