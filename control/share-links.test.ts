import { createHmac } from 'node:crypto';
import { expect, it } from 'vitest';
import { createApiKey } from './api-keys.ts';
import { listAudit } from './audit.ts';
import { ControlError } from './errors.ts';
import { createShareLink, resolveShareToken, revokeShareLink, shareSecret, type NewShareLink } from './share-links.ts';
import { describeControl } from './testing.ts';
import { DAY_MS } from '../common/index.ts';

const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);
const SECRET = Buffer.from('a'.repeat(32));

function link(override: Partial<NewShareLink> = {}): NewShareLink {
  return {
    channelId: '-1001234567890',
    from: NOW - 7 * DAY_MS,
    to: NOW,
    sections: ['growth', 'overview'],
    ttlSeconds: 3600,
    createdBy: null,
    ...override,
  };
}

describeControl('share links', (suite) => {
  const pool = () => suite.control.pool;

  it('creates a link whose token resolves to it', async () => {
    const { link: created, token } = await createShareLink(pool(), SECRET, link(), NOW);
    expect(token).toMatch(/^[0-9a-f]{12}\.[0-9]+\.[A-Za-z0-9_-]{43}$/);
    expect(created).toMatchObject({
      channelId: '-1001234567890',
      from: NOW - 7 * DAY_MS,
      to: NOW,
      sections: ['overview', 'growth'],
      createdBy: null,
      revokedAt: null,
    });
    expect(created.expiresAt).toBe(NOW + 3600_000);
    expect(await resolveShareToken(pool(), SECRET, token, NOW + 1000)).toEqual({ ok: true, link: created });
  });

  it('refuses a token whose signature, expiry or id was tampered with, or signed with another secret', async () => {
    const { token } = await createShareLink(pool(), SECRET, link(), NOW);
    const [id, exp, sig] = token.split('.');
    const flipped = sig.slice(0, 10) + (sig[10] === 'A' ? 'B' : 'A') + sig.slice(11);
    for (const forged of [
      `${id}.${exp}.${flipped}`,
      `${id}.${Number(exp) + 86_400}.${sig}`,
      `${'0'.repeat(12)}.${exp}.${sig}`,
    ]) {
      expect(await resolveShareToken(pool(), SECRET, forged, NOW)).toEqual({ ok: false, reason: 'bad_signature' });
    }
    expect(await resolveShareToken(pool(), Buffer.from('b'.repeat(32)), token, NOW)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it('refuses malformed tokens', async () => {
    const { token } = await createShareLink(pool(), SECRET, link(), NOW);
    for (const bad of ['', 'abc', token.replaceAll('.', '_'), `${token}.x`, token.slice(0, -1), `tgp_${token}`]) {
      expect(await resolveShareToken(pool(), SECRET, bad, NOW)).toEqual({ ok: false, reason: 'malformed' });
    }
  });

  it('expires at the expiry in the token, or earlier when the row says so', async () => {
    const { link: created, token } = await createShareLink(pool(), SECRET, link({ ttlSeconds: 60 }), NOW);
    expect((await resolveShareToken(pool(), SECRET, token, created.expiresAt - 1)).ok).toBe(true);
    expect(await resolveShareToken(pool(), SECRET, token, created.expiresAt)).toEqual({ ok: false, reason: 'expired' });
    await pool().query('UPDATE share_links SET expires_at = $2 WHERE id = $1', [created.id, new Date(NOW + 30_000)]);
    expect(await resolveShareToken(pool(), SECRET, token, NOW + 30_000)).toEqual({ ok: false, reason: 'expired' });
  });

  it('refuses a revoked link, and revokes once', async () => {
    const { link: created, token } = await createShareLink(pool(), SECRET, link(), NOW);
    expect(await revokeShareLink(pool(), created.id)).toBe(true);
    expect(await resolveShareToken(pool(), SECRET, token, NOW)).toEqual({ ok: false, reason: 'revoked' });
    expect(await revokeShareLink(pool(), created.id)).toBe(false);
    expect(await revokeShareLink(pool(), 'ffffffffffff')).toBe(false);
  });

  it('reports a correctly signed token of a link that does not exist as unknown', async () => {
    const id = 'abcdefabcdef';
    const exp = Math.floor(NOW / 1000) + 600;
    const sig = createHmac('sha256', SECRET).update(`${id}.${exp}`).digest('base64url');
    expect(await resolveShareToken(pool(), SECRET, `${id}.${exp}.${sig}`, NOW)).toEqual({
      ok: false,
      reason: 'unknown',
    });
  });

  it.each<[Partial<NewShareLink>, string]>([
    [{ channelId: '@durov' }, 'channelId'],
    [{ from: NOW, to: NOW }, 'to'],
    [{ from: NOW, to: NOW - 1 }, 'to'],
    [{ from: Number.NaN }, 'from'],
    [{ sections: [] }, 'sections'],
    [{ sections: ['everything' as 'overview'] }, 'sections'],
    [{ ttlSeconds: 59 }, 'ttlSeconds'],
    [{ ttlSeconds: 90 * 86_400 + 1 }, 'ttlSeconds'],
    [{ createdBy: 'ffffffffffff' }, 'createdBy'],
  ])('refuses %j, naming the field %s', async (override, field) => {
    const create = createShareLink(pool(), SECRET, link(override), NOW);
    await expect(create).rejects.toBeInstanceOf(ControlError);
    await expect(create).rejects.toMatchObject({ field });
  });

  it('refuses a share secret shorter than 32 bytes', async () => {
    await expect(createShareLink(pool(), Buffer.from('short'), link(), NOW)).rejects.toMatchObject({ field: 'secret' });
  });

  it('records the creating key and audits creation and revocation as it', async () => {
    const { key } = await createApiKey(pool(), { name: 'sharer', scopes: ['share'] });
    const { link: created } = await createShareLink(pool(), SECRET, link({ createdBy: key.id }), NOW);
    expect(created.createdBy).toBe(key.id);
    await revokeShareLink(pool(), created.id, { actor: key.id });
    const rows = (await listAudit(pool(), { limit: 100 })).filter((r) => r.target === created.id);
    expect(rows.map((r) => [r.action, r.actor])).toEqual([
      ['share_link.revoke', key.id],
      ['share_link.create', key.id],
    ]);
    expect(rows[1].details).toMatchObject({
      channelId: '-1001234567890',
      sections: ['overview', 'growth'],
      expiresAt: created.expiresAt,
    });
  });

  it('uses a configured share secret as given', async () => {
    expect(await shareSecret(pool(), 'x'.repeat(40))).toEqual(Buffer.from('x'.repeat(40)));
  });

  it('generates the share secret once and keeps it', async () => {
    const first = await shareSecret(pool());
    expect(first.length).toBeGreaterThanOrEqual(32);
    expect(await shareSecret(pool())).toEqual(first);
    const { rows } = await pool().query('SELECT name FROM control_secrets');
    expect(rows).toEqual([{ name: 'share_hmac' }]);
  });
});
