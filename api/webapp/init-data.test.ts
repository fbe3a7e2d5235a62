/**
 * Checking Telegram's Mini App initData: what Telegram signed for this bot
 * within the accepted age is taken, and everything else is refused with the
 * reason, whatever the string looks like.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodeFields, forgeHash, signFields, signInitData } from '../../test/support/telegram-init-data.ts';
import { MAX_INIT_DATA_CHARS, verifyInitData } from './init-data.ts';

const TOKEN = '5768337691:AAH5YkoiEuPk8-FZa32hStHTqXiLPtAEhx8';
const NOW = Date.UTC(2026, 0, 1, 12);
const NOW_S = NOW / 1000;
const HOUR_S = 3600;
const user = { id: 279058397, first_name: 'Vladislav', username: 'vdkfrost' };

/** initData of `user` signed `ageSeconds` before NOW. */
const aged = (ageSeconds: number, token = TOKEN) => signInitData(token, { user, authDateSeconds: NOW_S - ageSeconds });
const check = (raw: string, now = NOW) => verifyInitData(raw, TOKEN, now, HOUR_S);
const reason = (raw: string, now = NOW) => {
  const c = check(raw, now);
  return c.ok ? 'accepted' : c.reason;
};

describe('initData Telegram signed for this bot', () => {
  it("matches a hash computed apart from this code (Python hmac, per Telegram's description)", () => {
    // user = {"id":279058397,"first_name":"Vladislav + - ? \/","username":"vdkfrost"}, JSON-escaped slash and all.
    const raw =
      'query_id=AAHdF6IQAAAAAN0XohDhrOrc' +
      '&user=%7B%22id%22%3A279058397%2C%22first_name%22%3A%22Vladislav%20%2B%20-%20%3F%20%5C%2F%22%2C%22username%22%3A%22vdkfrost%22%7D' +
      '&auth_date=1767225600' +
      '&hash=9950c6a4d61cc0770e9a6174bfb37c4749dfad8bcdd7c284f7002438b3d4e638';
    expect(verifyInitData(raw, TOKEN, 1767225600_000 + 5000, HOUR_S)).toEqual({
      ok: true,
      user: { id: '279058397', firstName: 'Vladislav + - ? /', username: 'vdkfrost' },
      authDate: 1767225600_000,
    });
  });

  it('names the user and when Telegram signed it; fields in any order, `signature` signed like the rest', () => {
    const raw = aged(60);
    expect(check(raw)).toEqual({
      ok: true,
      user: { id: '279058397', firstName: 'Vladislav', username: 'vdkfrost' },
      authDate: (NOW_S - 60) * 1000,
    });
    expect(reason(raw.split('&').reverse().join('&'))).toBe('accepted');
    expect(reason(raw.replace(/&signature=[^&]*/, ''))).toBe('bad_hash');
  });

  it('takes a user without a username, and names in any script', () => {
    const c = check(signInitData(TOKEN, { user: { id: 1, first_name: '‮Ann 👩‍💻 <b>&amp;' }, authDateSeconds: NOW_S }));
    expect(c).toEqual({ ok: true, user: { id: '1', firstName: '‮Ann 👩‍💻 <b>&amp;' }, authDate: NOW });
  });

  it('takes `+` as a space, as a form-encoded query string means it', () => {
    const fields = { auth_date: String(NOW_S), user: JSON.stringify({ id: 5, first_name: 'Mary Ann' }) };
    const raw = signFields(TOKEN, fields).replace('Mary%20Ann', 'Mary+Ann');
    expect(check(raw)).toMatchObject({ ok: true, user: { firstName: 'Mary Ann' } });
  });
});

describe('refusals', () => {
  it("an altered field, a forged hash, or another bot's token: bad_hash", () => {
    const raw = aged(60);
    expect(reason(raw.replace('279058397', '279058398'))).toBe('bad_hash');
    expect(reason(raw.replace(/auth_date=\d+/, `auth_date=${NOW_S}`))).toBe('bad_hash');
    expect(reason(`${raw}&chat_type=private`)).toBe('bad_hash');
    expect(reason(forgeHash(raw))).toBe('bad_hash');
    expect(reason(aged(60, '5768337691:AAH5YkoiEuPk8-FZa32hStHTqXiLPtAEhx9'))).toBe('bad_hash');
    // The secret is HMAC(key "WebAppData", message token): the token itself, or the HMAC the other
    // way round, signs nothing this accepts.
    const lines = `auth_date=${NOW_S}\nuser=${JSON.stringify(user)}`;
    for (const secret of [Buffer.from(TOKEN), createHmac('sha256', TOKEN).update('WebAppData').digest()]) {
      const hash = createHmac('sha256', secret).update(lines).digest('hex');
      expect(reason(encodeFields({ auth_date: String(NOW_S), user: JSON.stringify(user), hash }))).toBe('bad_hash');
    }
    const right = createHmac('sha256', 'WebAppData').update(TOKEN).digest();
    const hash = createHmac('sha256', right).update(lines).digest('hex');
    expect(reason(encodeFields({ auth_date: String(NOW_S), user: JSON.stringify(user), hash }))).toBe('accepted');
  });

  it('older than the accepted age: expired; exactly that age is still fine', () => {
    expect(reason(aged(HOUR_S))).toBe('accepted');
    expect(reason(aged(HOUR_S + 1))).toBe('expired');
    expect(reason(aged(30 * 86_400))).toBe('expired');
  });

  it('dated ahead of the clock by more than a minute: from_future', () => {
    expect(reason(aged(-59))).toBe('accepted');
    expect(reason(aged(-61))).toBe('from_future');
    expect(reason(aged(-86_400))).toBe('from_future');
  });

  it('no hash, a hash that is not 64 lowercase hex digits, or a repeated field: malformed', () => {
    const raw = aged(60);
    expect(reason(raw.replace(/&hash=[0-9a-f]+/, ''))).toBe('malformed');
    expect(reason(raw.replace(/hash=([0-9a-f]+)/, (_, h: string) => `hash=${h.toUpperCase()}`))).toBe('malformed');
    expect(reason(raw.replace(/hash=([0-9a-f]+)/, (_, h: string) => `hash=${h.slice(1)}`))).toBe('malformed');
    expect(reason(`${raw}&hash=${'0'.repeat(64)}`)).toBe('malformed');
    expect(reason(`${raw}&auth_date=${NOW_S}`)).toBe('malformed');
    expect(reason(`auth_date=${NOW_S}&${raw}`)).toBe('malformed');
  });

  it('signed, but without a usable user or auth_date: malformed', () => {
    const signedWith = (fields: Record<string, string>) => reason(signFields(TOKEN, fields));
    const date = { auth_date: String(NOW_S) };
    expect(signedWith(date)).toBe('malformed');
    expect(signedWith({ user: JSON.stringify(user) })).toBe('malformed');
    for (const bad of [
      'not json',
      'null',
      '[]',
      '"279058397"',
      JSON.stringify({ id: '279058397', first_name: 'x' }),
      JSON.stringify({ id: -5, first_name: 'x' }),
      JSON.stringify({ id: 1.5, first_name: 'x' }),
      JSON.stringify({ id: 2 ** 60, first_name: 'x' }),
      JSON.stringify({ id: 5 }),
      JSON.stringify({ id: 5, first_name: 'x'.repeat(257) }),
      JSON.stringify({ id: 5, first_name: 'x', username: 7 }),
    ])
      expect(signedWith({ ...date, user: bad }), bad).toBe('malformed');
    for (const date of ['', '-1', '1.5', '1e9', 'now', '9'.repeat(13)])
      expect(signedWith({ auth_date: date, user: JSON.stringify(user) }), date).toBe('malformed');
  });

  it('hostile strings are refused, never thrown on', () => {
    const signedWithBreak = signFields(TOKEN, {
      auth_date: String(NOW_S),
      user: JSON.stringify(user),
      start_param: 'x\nuser={"id":1,"first_name":"admin"}',
    });
    const hostile = [
      '',
      '&',
      '=',
      '&&&==&',
      'hash',
      '%',
      '%E0%A4%A',
      '%00=%00',
      `${'a'.repeat(MAX_INIT_DATA_CHARS)}&hash=${'0'.repeat(64)}`,
      encodeFields({ __proto__: '{}', hash: '0'.repeat(64) }),
      encodeFields({ 'constructor.prototype': 'x', hash: '0'.repeat(64) }),
      encodeFields({ 'user id': '1', hash: '0'.repeat(64) }),
      `user=${'%7B'.repeat(1000)}&auth_date=${NOW_S}&hash=${'0'.repeat(64)}`,
      signedWithBreak,
    ];
    for (const raw of hostile) {
      const c = check(raw);
      expect(c.ok, raw.slice(0, 60)).toBe(false);
    }
    expect(reason(signedWithBreak)).toBe('malformed');
    expect(reason(`${aged(60)}&${'a'.repeat(MAX_INIT_DATA_CHARS)}`)).toBe('malformed');
  });
});
