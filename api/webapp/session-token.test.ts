/**
 * Mini App session tokens: the API's own signature and an expiry decide,
 * nothing else; a token moved to another user, extended, or signed with the
 * share secret itself is refused.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isSessionToken, issueSession, SESSION_TTL_MS, sessionKey, verifySession } from './session-token.ts';

const SHARE_SECRET = Buffer.alloc(32, 7);
const KEY = sessionKey(SHARE_SECRET);
const NOW = Date.UTC(2026, 0, 1, 12, 0, 0, 400);

describe('session tokens', () => {
  it('carry the user until an hour after issue (to the second), then expire', () => {
    const { token, expiresAt } = issueSession(KEY, '279058397', NOW);
    expect(token).toMatch(/^tgw_279058397\.\d+\.[A-Za-z0-9_-]{43}$/);
    expect(isSessionToken(token)).toBe(true);
    expect(expiresAt).toBe(Math.floor((NOW + SESSION_TTL_MS) / 1000) * 1000);
    expect(verifySession(KEY, token, NOW)).toEqual({ ok: true, userId: '279058397', expiresAt });
    expect(verifySession(KEY, token, expiresAt - 1)).toMatchObject({ ok: true });
    expect(verifySession(KEY, token, expiresAt)).toEqual({ ok: false, reason: 'expired' });
  });

  it('refuse a changed user, a later expiry or any changed character of the signature', () => {
    const { token } = issueSession(KEY, '279058397', NOW);
    const [head, exp, sig] = token.split('.');
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    const altered = [
      `tgw_279058398.${exp}.${sig}`,
      `${head}.${Number(exp) + 3600}.${sig}`,
      ...[0, 21, sig.length - 1].map((i) => `${head}.${exp}.${flip(sig, i)}`),
    ];
    for (const t of altered) expect(verifySession(KEY, t, NOW), t).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('are signed with a key of their own, not the share secret, and not across deployments', () => {
    const body = `tgw_1.${Math.floor(NOW / 1000) + 60}`;
    const withShareSecret = `${body}.${createHmac('sha256', SHARE_SECRET).update(body).digest('base64url')}`;
    expect(verifySession(KEY, withShareSecret, NOW)).toEqual({ ok: false, reason: 'bad_signature' });
    const elsewhere = issueSession(sessionKey(Buffer.alloc(32, 8)), '1', NOW).token;
    expect(verifySession(KEY, elsewhere, NOW)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('refuse anything not shaped like one', () => {
    const { token } = issueSession(KEY, '1', NOW);
    for (const t of [
      '',
      'tgw_',
      `${token}.x`,
      `${token} `,
      token.replace('tgw_', 'tgp_'),
      `tgw_-1.1.${'A'.repeat(43)}`,
    ])
      expect(verifySession(KEY, t, NOW), t).toEqual({ ok: false, reason: 'malformed' });
    expect(isSessionToken(`tgp_000000000000_${'A'.repeat(43)}`)).toBe(false);
  });
});
