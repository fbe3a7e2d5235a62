import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TelegramClient } from 'telegram';
import { openControlPlane, type ControlPlane } from '../control/postgres.ts';
import { freshTestControl, type TestControl } from '../control/testing.ts';
import { accountSession, addAccount, getAccount, listAccounts } from '../control/mtproto-accounts.ts';
import { getChannel, listChannels } from '../control/tracked-channels.ts';
import { decryptSession, encryptSession } from '../control/session-crypto.ts';
import { silentLogger } from '../observability/log.ts';
import { FakeTelegram, madeUpAuthKey } from '../test/support/fake-telegram.ts';
import { loadConfig, type TgpulseConfig } from './config.ts';
import { runAccounts } from './commands/accounts.ts';
import { parseSince, runChannels } from './commands/channels.ts';
import { loginAccount, normalizePhone } from './commands/login.ts';
import type { CliIo } from './commands/cli-io.ts';

/** What a command printed. */
function capture(): CliIo & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    out(text: string) {
      io.stdout += text;
    },
    err(text: string) {
      io.stderr += text;
    },
  };
  return io;
}

const KEY_HEX = randomBytes(32).toString('hex');
const KEY = Buffer.from(KEY_HEX, 'hex');

let test: TestControl;
let control: ControlPlane;
let config: TgpulseConfig;
const tg = new FakeTelegram();
const clients: TelegramClient[] = [];

beforeAll(async () => {
  test = await freshTestControl('embedded');
  control = await openControlPlane(test.config);
  config = loadConfig({
    ...test.env,
    TGPULSE_TG_API_ID: '12345',
    TGPULSE_TG_API_HASH: '0123456789abcdef0123456789abcdef',
    TGPULSE_SESSION_KEY: KEY_HEX,
    TGPULSE_LOG_LEVEL: 'silent',
  });
});
afterAll(async () => {
  for (const c of clients) await FakeTelegram.close(c);
  await control?.close();
  await test?.dispose();
});

/** A fake client as `connect` would return it. */
async function fakeConnect(): Promise<TelegramClient> {
  const client = await tg.client({ account: `acc${clients.length}` });
  clients.push(client);
  return client;
}

async function accounts(argv: string[]) {
  const io = capture();
  const code = await runAccounts(argv, config, { io, control: control.pool, log: silentLogger });
  return { code, ...io };
}

async function channels(argv: string[], connect = fakeConnect) {
  const io = capture();
  const code = await runChannels(argv, config, { io, control: control.pool, log: silentLogger, connect });
  return { code, stdout: io.stdout, stderr: io.stderr };
}

describe('tgpulse login stores the session sealed, one account per phone', () => {
  async function loggedInClient(): Promise<TelegramClient> {
    const client = await fakeConnect();
    // The fake answers as an authorized session; give it the auth key a real login would have.
    client.session.setAuthKey(await madeUpAuthKey());
    return client;
  }
  const noPrompts = {
    code: async () => {
      throw new Error('not asked: the session is authorized');
    },
    password: async () => {
      throw new Error('not asked');
    },
  };

  it('normalizes the phone as typed', () => {
    expect(normalizePhone('+49 151 1234-5678')).toBe('+4915112345678');
    expect(normalizePhone('4915112345678')).toBe('+4915112345678');
  });

  it('seals the session for the account id, and a re-login of the phone replaces it', async () => {
    const first = await loggedInClient();
    const io = capture();
    const account = await loginAccount({
      client: first,
      control: control.pool,
      sessionKey: KEY,
      phone: '+15551230000',
      prompts: noPrompts,
      io,
    });
    expect(account.userId).toMatch(/^[0-9]+$/);
    const stored = decryptSession(await accountSession(control.pool, account.id), KEY, account.id);
    expect(stored).toBe(first.session.save());
    expect(stored).not.toBe('');

    const second = await loggedInClient();
    const again = await loginAccount({
      client: second,
      control: control.pool,
      sessionKey: KEY,
      phone: '+15551230000',
      prompts: noPrompts,
      io,
      proxy: 'socks5://10.0.0.9:1080',
    });
    expect(again.id).toBe(account.id);
    expect(again.proxy).toBe('socks5://10.0.0.9:1080');
    expect(decryptSession(await accountSession(control.pool, account.id), KEY, account.id)).toBe(second.session.save());
    expect((await listAccounts(control.pool)).filter((a) => a.phone === '+15551230000')).toHaveLength(1);
  });

  it('signs in with the code Telegram sends, asking again after a wrong one', async () => {
    const label = `acc${clients.length}`;
    tg.requireLogin(label, '12345');
    const client = await fakeConnect();
    client.session.setAuthKey(await madeUpAuthKey());
    const asked: boolean[] = [];
    const answers = ['99999', '12345'];
    const io = capture();
    const account = await loginAccount({
      client,
      control: control.pool,
      sessionKey: KEY,
      phone: '+15551239999',
      io,
      prompts: {
        code: async (viaApp) => {
          asked.push(viaApp);
          return answers.shift()!;
        },
        password: async () => {
          throw new Error('no 2FA here');
        },
      },
    });
    expect(asked).toEqual([true, true]);
    expect(io.stderr).toMatch(/PHONE_CODE_INVALID.*try again/);
    expect(tg.requests.filter((r) => r.account === label).map((r) => r.className)).toEqual(
      expect.arrayContaining(['auth.SendCode', 'auth.SignIn']),
    );
    expect(decryptSession(await accountSession(control.pool, account.id), KEY, account.id)).toBe(client.session.save());
  });

  it('refuses a malformed phone number before storing anything', async () => {
    const client = await loggedInClient();
    await expect(
      loginAccount({ client, control: control.pool, sessionKey: KEY, phone: '+12', prompts: noPrompts, io: capture() }),
    ).rejects.toThrow(/phone/);
  });
});

describe('tgpulse accounts', () => {
  let id: string;
  beforeAll(async () => {
    id = (
      await addAccount(control.pool, {
        phone: '+15559990001',
        userId: '99',
        sealSession: (acc) => encryptSession('s', KEY, acc),
      })
    ).id;
  });

  it('lists accounts without their sessions, proxies redacted', async () => {
    expect((await accounts(['proxy', id, 'socks5://bob:hunter2@10.0.0.1:1080'])).stdout).toContain(
      'socks5://bob:***@10.0.0.1:1080',
    );
    const list = await accounts(['list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain('+15559990001');
    expect(list.stdout).toContain('socks5://bob:***@10.0.0.1:1080');
    expect(list.stdout).not.toContain('hunter2');
    expect(list.stdout).not.toContain('v1.');
  });

  it('disables, enables, clears the proxy and removes', async () => {
    expect((await accounts(['disable', id])).code).toBe(0);
    expect((await getAccount(control.pool, id))?.status).toBe('disabled');
    expect((await accounts(['enable', id])).code).toBe(0);
    expect((await getAccount(control.pool, id))?.status).toBe('active');
    expect((await accounts(['proxy', id, 'none'])).code).toBe(0);
    expect((await getAccount(control.pool, id))?.proxy).toBeNull();
    expect((await accounts(['remove', id])).code).toBe(0);
    expect(await getAccount(control.pool, id)).toBeNull();
  });

  it('says so for an unknown id, a bad proxy and a wrong invocation', async () => {
    expect(await accounts(['disable', 'nope'])).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('no MTProto account has the id "nope"'),
    });
    const added = await addAccount(control.pool, {
      phone: '+15559990002',
      userId: null,
      sealSession: (acc) => encryptSession('s', KEY, acc),
    });
    expect(await accounts(['proxy', added.id, 'http://x:1'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('invalid proxy'),
    });
    expect(await accounts(['frobnicate'])).toMatchObject({ code: 2, stderr: expect.stringContaining('usage:') });
    expect(await accounts(['disable'])).toMatchObject({ code: 2 });
  });
});

describe('tgpulse channels', () => {
  it('adds a channel resolved through a logged-in account, with a backfill start', async () => {
    const ch = tg.addChannel({ id: '2001', username: 'daily_digest', title: 'Daily Digest', members: 321 });
    const added = await channels(['add', 'https://t.me/daily_digest', '--since', '2026-01-15']);
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    expect(added.stdout).toContain('tracking @daily_digest');
    const row = await getChannel(control.pool, '2001');
    expect(row).toMatchObject({
      username: 'daily_digest',
      title: 'Daily Digest',
      accessHash: ch.accessHash,
      members: 321,
      backfillUntil: Date.UTC(2026, 0, 15),
      backfillDone: false,
    });
  });

  it('reports what Telegram said when the channel cannot be added', async () => {
    tg.users.push({ id: '4242', username: 'just_a_person' });
    expect(await channels(['add', '@just_a_person'])).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('is a user, not a channel'),
    });
    expect(await channels(['add', '9999999'])).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('must be a member'),
    });
    expect(await channels(['add', 'https://example.com/x'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('not a channel reference'),
    });
  });

  it('tries the next account when one cannot connect', async () => {
    tg.addChannel({ id: '2002', username: 'second_one' });
    let calls = 0;
    const flaky = async () => {
      calls++;
      if (calls === 1) throw new Error('connection refused');
      return fakeConnect();
    };
    // Fresh config: no fallback proxies, so the first account has one route and fails.
    const result = await channels(['add', '@second_one'], flaky);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('is unusable');
  });

  it('lists and removes by @name', async () => {
    const list = await channels(['list']);
    expect(list.stdout).toContain('@daily_digest');
    expect(list.stdout).toMatch(/pending \(to 2026-01-15\)/);
    expect((await channels(['remove', '@daily_digest'])).code).toBe(0);
    expect((await listChannels(control.pool)).map((c) => c.channelId)).not.toContain('2001');
    expect(await channels(['remove', '@daily_digest'])).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('no tracked channel matches'),
    });
  });

  it('checks --since and the Telegram configuration before doing anything', async () => {
    expect(() => parseSince('2026-02-31')).toThrow(/--since/);
    expect(await channels(['add', '@x_channel', '--since', 'yesterday'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--since expects a date'),
    });
    const io = capture();
    const bare = loadConfig({ ...test.env, TGPULSE_LOG_LEVEL: 'silent' });
    expect(await runChannels(['add', '@x_channel'], bare, { io, control: control.pool })).toBe(2);
    expect(io.stderr).toContain('TGPULSE_TG_API_ID');
    expect(io.stderr).toContain('TGPULSE_SESSION_KEY');
  });
});
