import { randomBytes } from 'node:crypto';
import { madeUpSession } from '../test/support/fake-telegram.ts';
import { beforeAll, expect, it } from 'vitest';
import { listAudit } from './audit.ts';
import { acquireLeases } from './collector-leases.ts';
import { leasesOf, describeControl } from './testing.ts';
import { ControlError } from './errors.ts';
import {
  accountSession,
  addAccount,
  checkProxy,
  getAccount,
  listAccounts,
  recordAccountHealth,
  redactProxy,
  removeAccount,
  setAccountProxy,
  setAccountStatus,
} from './mtproto-accounts.ts';
import { decryptSession, encryptSession, SessionKeyError } from './session-crypto.ts';
import { upsertChannel } from './tracked-channels.ts';

const key = randomBytes(32);
const sealWith = (session: string) => (id: string) => encryptSession(session, key, id);

describeControl('MTProto accounts', (suite) => {
  const pool = () => suite.control.pool;
  let first = '';
  let second = '';
  beforeAll(async () => {
    [first, second] = await Promise.all([madeUpSession(), madeUpSession()]);
  });

  it('stores an account with its session sealed for its own id, and never lists the session', async () => {
    const account = await addAccount(
      pool(),
      { phone: '+4915100000001', sealSession: sealWith(first), userId: '777000' },
      { actor: 'cli' },
    );
    expect(account).toMatchObject({
      phone: '+4915100000001',
      userId: '777000',
      status: 'active',
      proxy: null,
      health: 1,
      parkedUntil: null,
      lastError: null,
    });
    expect(account.id).toMatch(/^[0-9a-f]{12}$/);
    expect(decryptSession(await accountSession(pool(), account.id), key, account.id)).toBe(first);
    expect(await getAccount(pool(), account.id)).toEqual(account);
    const listed = JSON.stringify(await listAccounts(pool()));
    expect(listed).toContain(account.id);
    expect(listed).not.toContain('v1.');
    const { rows } = await pool().query<{ session_sealed: string }>(
      'SELECT session_sealed FROM mtproto_accounts WHERE id = $1',
      [account.id],
    );
    expect(rows[0].session_sealed).not.toContain(first.slice(0, 40));
    expect((await listAudit(pool(), { limit: 5 })).find((e) => e.target === account.id)).toMatchObject({
      actor: 'cli',
      action: 'mtproto_account.add',
    });
  });

  it('replaces the session on a re-login of the same phone, keeping the id and enabling the account again', async () => {
    const account = await addAccount(pool(), {
      phone: '+4915100000002',
      sealSession: sealWith(first),
      userId: '1001',
      proxy: 'socks5://10.0.0.1:1080',
    });
    await setAccountStatus(pool(), account.id, 'disabled');
    await recordAccountHealth(pool(), account.id, {
      health: 0.2,
      parkedUntil: Date.now() + 60_000,
      lastError: 'FLOOD_WAIT_60',
    });
    const again = await addAccount(pool(), {
      phone: ' +4915100000002 ',
      sealSession: sealWith(second),
      userId: '1001',
    });
    expect(again).toMatchObject({
      id: account.id,
      status: 'active',
      health: 1,
      parkedUntil: null,
      lastError: null,
      proxy: 'socks5://10.0.0.1:1080',
    });
    expect(decryptSession(await accountSession(pool(), account.id), key, account.id)).toBe(second);
    const direct = await addAccount(pool(), {
      phone: '+4915100000002',
      sealSession: sealWith(second),
      userId: '1001',
      proxy: null,
    });
    expect(direct.proxy).toBeNull();
    expect((await listAccounts(pool())).filter((a) => a.phone === '+4915100000002')).toHaveLength(1);
  });

  it('gives one account to concurrent first logins of one phone, the session sealed for that id', async () => {
    // Several phones at once, so on a server the logins of one phone really overlap.
    const phones = Array.from({ length: 8 }, (_, i) => `+49151000003${i}`);
    const stored = await Promise.all(
      phones.flatMap((phone) =>
        [first, second].map((s) => addAccount(pool(), { phone, sealSession: sealWith(s), userId: null })),
      ),
    );
    for (const [i, phone] of phones.entries()) {
      const [a, b] = stored.slice(2 * i, 2 * i + 2);
      expect(a.id, phone).toBe(b.id);
      expect([first, second]).toContain(decryptSession(await accountSession(pool(), a.id), key, a.id));
    }
  });

  it('refuses a sealed session moved onto another account row', async () => {
    const a = await addAccount(pool(), { phone: '+4915100000004', sealSession: sealWith(first), userId: null });
    const b = await addAccount(pool(), { phone: '+4915100000005', sealSession: sealWith(second), userId: null });
    await pool().query(
      'UPDATE mtproto_accounts SET session_sealed = (SELECT session_sealed FROM mtproto_accounts WHERE id = $1) WHERE id = $2',
      [a.id, b.id],
    );
    const moved = await accountSession(pool(), b.id);
    expect(() => decryptSession(moved, key, b.id)).toThrow(SessionKeyError);
  });

  it('disables and re-enables an account; disabling gives its channels back', async () => {
    const account = await addAccount(pool(), { phone: '+4915100000006', sealSession: sealWith(first), userId: null });
    await upsertChannel(pool(), {
      channelId: '600001',
      username: null,
      title: 'disable me',
      accessHash: '1',
      canViewStats: false,
      statsDc: null,
      members: null,
    });
    const now = Date.now();
    const held = await acquireLeases(pool(), {
      holder: 'acct-status',
      accountIds: [account.id],
      want: 1000,
      ttlMs: 60_000,
      now,
    });
    expect(held.map((l) => l.channelId)).toContain('600001');
    expect(await setAccountStatus(pool(), account.id, 'disabled', { actor: 'cli' })).toBe(true);
    expect((await getAccount(pool(), account.id))?.status).toBe('disabled');
    expect(await leasesOf(pool(), 'acct-status', { now })).toEqual([]);
    expect(
      await acquireLeases(pool(), { holder: 'acct-status', accountIds: [account.id], want: 1000, ttlMs: 60_000, now }),
    ).toEqual([]);
    expect(await setAccountStatus(pool(), account.id, 'active')).toBe(true);
    expect((await getAccount(pool(), account.id))?.status).toBe('active');
    expect(await setAccountStatus(pool(), 'ffffffffffff', 'disabled')).toBe(false);
    await expect(setAccountStatus(pool(), account.id, 'banned' as 'active')).rejects.toMatchObject({ field: 'status' });
  });

  it('removes an account with its session and its leases', async () => {
    const account = await addAccount(pool(), { phone: '+4915100000007', sealSession: sealWith(first), userId: null });
    await upsertChannel(pool(), {
      channelId: '700001',
      username: null,
      title: 'remove me',
      accessHash: '1',
      canViewStats: false,
      statsDc: null,
      members: null,
    });
    const now = Date.now();
    expect(
      (await acquireLeases(pool(), { holder: 'acct-remove', accountIds: [account.id], want: 1000, ttlMs: 60_000, now }))
        .length,
    ).toBeGreaterThan(0);
    expect(await removeAccount(pool(), account.id, { actor: 'cli' })).toBe(true);
    expect(await getAccount(pool(), account.id)).toBeNull();
    expect(await leasesOf(pool(), 'acct-remove', { now })).toEqual([]);
    const { rows } = await pool().query('SELECT 1 FROM collector_leases WHERE account_id = $1', [account.id]);
    expect(rows).toEqual([]);
    await expect(accountSession(pool(), account.id)).rejects.toMatchObject({ field: 'accountId' });
    expect(await removeAccount(pool(), account.id)).toBe(false);
  });

  it('records health, flood waits and errors, keeping what is not reported', async () => {
    const account = await addAccount(pool(), { phone: '+4915100000008', sealSession: sealWith(first), userId: null });
    const until = Date.now() + 3_600_000;
    expect(
      await recordAccountHealth(pool(), account.id, { health: 0.7, parkedUntil: until, lastError: 'FLOOD_WAIT_3600' }),
    ).toBe(true);
    expect(await getAccount(pool(), account.id)).toMatchObject({
      health: 0.7,
      parkedUntil: until,
      lastError: 'FLOOD_WAIT_3600',
    });
    await recordAccountHealth(pool(), account.id, { health: 0.8 });
    expect(await getAccount(pool(), account.id)).toMatchObject({
      health: 0.8,
      parkedUntil: until,
      lastError: 'FLOOD_WAIT_3600',
    });
    await recordAccountHealth(pool(), account.id, { health: 1, parkedUntil: null, lastError: 'x'.repeat(5000) });
    const after = await getAccount(pool(), account.id);
    expect(after).toMatchObject({ health: 1, parkedUntil: null });
    expect(after?.lastError).toHaveLength(1000);
    for (const health of [-0.1, 1.01, Number.NaN, Infinity]) {
      await expect(recordAccountHealth(pool(), account.id, { health })).rejects.toMatchObject({ field: 'health' });
    }
    await expect(recordAccountHealth(pool(), account.id, { health: 1, parkedUntil: 1.5 })).rejects.toMatchObject({
      field: 'parkedUntil',
    });
    expect(await recordAccountHealth(pool(), 'ffffffffffff', { health: 1 })).toBe(false);
  });

  it('sets and clears a proxy, auditing it without the password', async () => {
    const account = await addAccount(pool(), { phone: '+4915100000009', sealSession: sealWith(first), userId: null });
    expect(await setAccountProxy(pool(), account.id, 'socks5://bob:hunter2@proxy.example:1080', { actor: 'cli' })).toBe(
      true,
    );
    expect((await getAccount(pool(), account.id))?.proxy).toBe('socks5://bob:hunter2@proxy.example:1080');
    expect(
      await setAccountProxy(pool(), account.id, 'mtproxy://ee0123456789abcdef0123456789abcdef@[2001:db8::1]:443'),
    ).toBe(true);
    expect(await setAccountProxy(pool(), account.id, null)).toBe(true);
    expect((await getAccount(pool(), account.id))?.proxy).toBeNull();
    const audited = JSON.stringify((await listAudit(pool(), { limit: 10 })).filter((e) => e.target === account.id));
    expect(audited).toContain('socks5://bob:***@proxy.example:1080');
    expect(audited).not.toContain('hunter2');
    expect(audited).not.toContain('0123456789abcdef');
    expect(await setAccountProxy(pool(), 'ffffffffffff', null)).toBe(false);
  });

  it.each([
    'http://proxy.example:8080',
    'socks5://proxy.example',
    'socks5://proxy.example:0',
    'socks5://proxy.example:70000',
    'socks5://:1080',
    'socks5://bob:hunter2@proxy.example:1080/path',
    'socks5://proxy.example:1080?x=1',
    'mtproxy://proxy.example:443',
    'mtproxy://secret:more@proxy.example:443',
    'proxy.example:1080',
    '',
  ])('refuses the proxy %j without repeating it', async (proxy) => {
    const account = await addAccount(pool(), { phone: '+4915100000012', sealSession: sealWith(first), userId: null });
    const set = setAccountProxy(pool(), account.id, proxy);
    await expect(set).rejects.toBeInstanceOf(ControlError);
    await expect(set).rejects.toMatchObject({ field: 'proxy' });
    const message = await set.catch((err: Error) => err.message);
    if (proxy.includes('hunter2')) expect(message).not.toContain('hunter2');
    await expect(
      addAccount(pool(), { phone: '+4915100000010', sealSession: sealWith(first), userId: null, proxy }),
    ).rejects.toMatchObject({ field: 'proxy' });
  });

  it.each(['4915112345678', '+49 151 1234', '+123456', '+1234567890123456', '+49151abc', ''])(
    'refuses the phone %j',
    async (phone) => {
      await expect(addAccount(pool(), { phone, sealSession: sealWith(first), userId: null })).rejects.toMatchObject({
        field: 'phone',
      });
    },
  );

  it('refuses a user id that is not decimal', async () => {
    await expect(
      addAccount(pool(), { phone: '+4915100000011', sealSession: sealWith(first), userId: '@durov' }),
    ).rejects.toMatchObject({ field: 'userId' });
  });
});

it('redacts proxy credentials for display', () => {
  expect(redactProxy('socks5://bob:hunter2@10.0.0.1:1080')).toBe('socks5://bob:***@10.0.0.1:1080');
  expect(redactProxy('socks5://10.0.0.1:1080')).toBe('socks5://10.0.0.1:1080');
  expect(redactProxy('mtproxy://dd0123456789abcdef0123456789abcdef@proxy.example:443')).toBe(
    'mtproxy://***@proxy.example:443',
  );
  expect(checkProxy(' socks5://bob:hunter2@10.0.0.1:1080 ')).toBe('socks5://bob:hunter2@10.0.0.1:1080');
});
