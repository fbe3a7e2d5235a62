import { afterEach, describe, expect, it, vi } from 'vitest';
import { apikeyCommand } from '../cli/commands/apikey.ts';
import { loadConfig } from '../cli/config.ts';
import { createApiKey, listApiKeys, revokeApiKey, touchApiKey, verifyApiKey, type NewApiKey } from './api-keys.ts';
import { listAudit } from './audit.ts';
import { ControlError } from './errors.ts';
import { describeControl } from './testing.ts';

describeControl('API keys', (suite) => {
  const pool = () => suite.control.pool;

  it('creates a key whose token verifies to it', async () => {
    const { key, token } = await createApiKey(pool(), {
      name: ' grafana ',
      scopes: ['export', 'read'],
      channels: ['-1001234567890'],
      ratePerMinute: 60,
    });
    expect(token).toMatch(/^tgp_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(token.startsWith(`tgp_${key.id}_`)).toBe(true);
    expect(key).toMatchObject({
      name: 'grafana',
      scopes: ['read', 'export'],
      channels: ['-1001234567890'],
      ratePerMinute: 60,
      revokedAt: null,
      lastUsedAt: null,
    });
    expect(Math.abs(key.createdAt - Date.now())).toBeLessThan(60_000);
    expect(await verifyApiKey(pool(), token)).toEqual(key);
  });

  it('defaults to all channels and the API rate', async () => {
    const { key } = await createApiKey(pool(), { name: 'everything', scopes: ['read'] });
    expect(key.channels).toBeNull();
    expect(key.ratePerMinute).toBeNull();
  });

  it('stores only a hash of the secret', async () => {
    const { key, token } = await createApiKey(pool(), { name: 'hashed', scopes: ['read'] });
    const secret = token.slice(`tgp_${key.id}_`.length);
    const { rows } = await pool().query<Record<string, unknown>>('SELECT * FROM api_keys WHERE id = $1', [key.id]);
    const stored = JSON.stringify(rows[0]);
    expect(stored).not.toContain(secret);
    expect(rows[0].secret_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses a wrong secret, malformed tokens and unknown ids', async () => {
    const { key, token } = await createApiKey(pool(), { name: 'victim', scopes: ['read'] });
    const last = token.at(-1) === 'A' ? 'B' : 'A';
    expect(await verifyApiKey(pool(), token.slice(0, -1) + last)).toBeNull();
    const otherSecret = (await createApiKey(pool(), { name: 'other', scopes: ['read'] })).token
      .split('_')
      .slice(2)
      .join('_');
    expect(await verifyApiKey(pool(), `tgp_${key.id}_${otherSecret}`)).toBeNull();
    for (const bad of [
      '',
      'tgp_',
      token.slice(0, -1),
      `${token}x`,
      token.replace('tgp_', 'tgx_'),
      `Bearer ${token}`,
      token.toUpperCase(),
    ]) {
      expect(await verifyApiKey(pool(), bad)).toBeNull();
    }
    expect(await verifyApiKey(pool(), token.replace(key.id, '000000000000'))).toBeNull();
  });

  it('revokes a key once, after which its token no longer verifies', async () => {
    const { key, token } = await createApiKey(pool(), { name: 'short-lived', scopes: ['read'] });
    expect(await revokeApiKey(pool(), key.id)).toBe(true);
    expect(await verifyApiKey(pool(), token)).toBeNull();
    expect(await revokeApiKey(pool(), key.id)).toBe(false);
    expect(await revokeApiKey(pool(), 'ffffffffffff')).toBe(false);
    const listed = (await listApiKeys(pool())).find((k) => k.id === key.id);
    expect(listed?.revokedAt).toEqual(expect.any(Number));
  });

  it.each<[Partial<NewApiKey>, string]>([
    [{ name: '' }, 'name'],
    [{ name: '   ' }, 'name'],
    [{ name: 'x'.repeat(101) }, 'name'],
    [{ scopes: [] }, 'scopes'],
    [{ scopes: ['admin' as 'read'] }, 'scopes'],
    [{ channels: [] }, 'channels'],
    [{ channels: ['@durov'] }, 'channels'],
    [{ channels: ['1'.repeat(21)] }, 'channels'],
    [{ ratePerMinute: 0 }, 'ratePerMinute'],
    [{ ratePerMinute: 1.5 }, 'ratePerMinute'],
    [{ ratePerMinute: 1_000_001 }, 'ratePerMinute'],
  ])('refuses %j, naming the field %s', async (override, field) => {
    const create = createApiKey(pool(), { name: 'valid', scopes: ['read'], ...override });
    await expect(create).rejects.toBeInstanceOf(ControlError);
    await expect(create).rejects.toMatchObject({ field });
  });

  it('keeps concurrent creations apart, each with its audit row', async () => {
    const created = await Promise.all(
      Array.from({ length: 12 }, (_, i) => createApiKey(pool(), { name: `parallel-${i}`, scopes: ['read'] })),
    );
    const verified = await Promise.all(created.map(({ token }) => verifyApiKey(pool(), token)));
    expect(verified.map((k) => k?.name)).toEqual(created.map(({ key }) => key.name));
    const audited = new Set((await listAudit(pool(), { limit: 1000 })).map((r) => r.target));
    expect(created.every(({ key }) => audited.has(key.id))).toBe(true);
  });

  it('records last use', async () => {
    const { key } = await createApiKey(pool(), { name: 'busy', scopes: ['read'] });
    await touchApiKey(pool(), key.id);
    const listed = (await listApiKeys(pool())).find((k) => k.id === key.id);
    expect(listed?.lastUsedAt).toEqual(expect.any(Number));
  });

  it('audits creation and revocation without the secret', async () => {
    const { key, token } = await createApiKey(pool(), { name: 'audited', scopes: ['share'] }, { actor: 'ops@example' });
    await revokeApiKey(pool(), key.id, { actor: 'ops@example' });
    const rows = (await listAudit(pool(), { limit: 1000 })).filter((r) => r.target === key.id);
    expect(rows.map((r) => [r.action, r.actor])).toEqual([
      ['api_key.revoke', 'ops@example'],
      ['api_key.create', 'ops@example'],
    ]);
    expect(rows[1].details).toEqual({ name: 'audited', scopes: ['share'], channels: null, ratePerMinute: null });
    expect(JSON.stringify(rows)).not.toContain(token.split('_').slice(2).join('_'));
  });

  describe('tgpulse apikey', () => {
    let stdout = '';
    let stderr = '';
    const run = async (...argv: string[]): Promise<number> => {
      stdout = '';
      stderr = '';
      vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
        stdout += String(chunk);
        return true;
      });
      vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
        stderr += String(chunk);
        return true;
      });
      try {
        // Same TGPULSE_* variables a user would set; the command opens and closes the control plane itself.
        return await apikeyCommand.run(argv, loadConfig({ ...suite.test.env, TGPULSE_LOG_LEVEL: 'silent' }));
      } finally {
        vi.restoreAllMocks();
      }
    };
    afterEach(() => vi.restoreAllMocks());

    it('creates, lists and revokes a key', async () => {
      expect(
        await run('create', '--name', 'from cli', '--scopes', 'read,export', '--channels', '-1001,42', '--rate', '30'),
      ).toBe(0);
      const token = /^(tgp_\S+)$/m.exec(stdout)?.[1];
      expect(token).toBeDefined();
      expect(stdout).toMatch(/will not be shown again/);
      const key = await verifyApiKey(pool(), token ?? '');
      expect(key).toMatchObject({
        name: 'from cli',
        scopes: ['read', 'export'],
        channels: ['-1001', '42'],
        ratePerMinute: 30,
      });

      expect(await run('list')).toBe(0);
      const row = stdout.split('\n').find((l) => l.startsWith(key?.id ?? '?'));
      expect(row).toMatch(/from cli\s+read,export\s+-1001,42\s+30\/min/);
      expect(stdout).toMatch(/channels/);
      expect(stdout).not.toContain(token?.split('_').slice(2).join('_'));

      expect(await run('revoke', key?.id ?? '')).toBe(0);
      expect(await verifyApiKey(pool(), token ?? '')).toBeNull();
      expect(await run('revoke', key?.id ?? '')).toBe(1);
      expect(stderr).toMatch(/no active API key/);
    });

    it('defaults to the read scope and all channels', async () => {
      expect(await run('create', '--name', 'reader')).toBe(0);
      const key = await verifyApiKey(pool(), /^(tgp_\S+)$/m.exec(stdout)?.[1] ?? '');
      expect(key).toMatchObject({ scopes: ['read'], channels: null, ratePerMinute: null });
    });

    it.each([
      [['create']],
      [['create', '--name', 'x', '--scopes', 'admin']],
      [['create', '--name', 'x', '--rate', 'fast']],
      [['create', '--name', 'x', '--channels', 'durov']],
      [['create', '--name', 'x', '--bogus']],
      [['revoke']],
      [['revoke', 'a', 'b']],
      [['rotate']],
      [[]],
    ])('exits 2 with a message on stderr for %j', async (argv) => {
      expect(await run(...argv)).toBe(2);
      expect(stderr).toMatch(/^tgpulse apikey: .+\nusage:/);
      expect(stdout).toBe('');
    });

    it('names the flag, not the field, in validation errors', async () => {
      expect(await run('create', '--name', 'x', '--rate', '0')).toBe(2);
      expect(stderr).toMatch(/invalid --rate: expected an integer/);
    });
  });
});
