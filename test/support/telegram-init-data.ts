/**
 * Mini App initData as Telegram makes it, for tests: the fields URL-encoded
 * into a query string, with `hash` the hex HMAC-SHA256 of the sorted
 * `name=value` lines under HMAC-SHA256(key "WebAppData", message bot token).
 * Written from Telegram's description rather than from api/webapp/, so a
 * mistake there is not repeated here and hidden.
 */
import { createHmac } from 'node:crypto';

/** The Telegram user the initData names, as Telegram serializes it. */
export interface InitDataUser {
  id: number;
  first_name: string;
  username?: string;
}

/**
 * The initData `user` gets on opening the Mini App from a private chat with
 * the bot at `authDateSeconds` (Unix seconds), signed with `botToken`.
 *
 * @example
 * signInitData(TEST_BOT_TOKEN, { user: { id: 42, first_name: 'Ann' }, authDateSeconds: Math.floor(Date.now() / 1000) })
 */
export function signInitData(botToken: string, opts: { user: InitDataUser; authDateSeconds: number }): string {
  return signFields(botToken, {
    query_id: 'AAHdF6IQAAAAAN0XohDhrOrc',
    user: JSON.stringify({ ...opts.user, language_code: 'en', allows_write_to_pm: true }),
    auth_date: String(opts.authDateSeconds),
    // Telegram adds an Ed25519 signature for third parties; it is signed by `hash` like any field.
    signature: 'ed25519-signature-for-third-parties_not-checked-by-tgpulse',
  });
}

/** Signs any `fields` (the `hash` is added last) and encodes them in the order given. */
export function signFields(botToken: string, fields: Record<string, string>): string {
  const lines = Object.keys(fields)
    .sort()
    .map((name) => `${name}=${fields[name]}`);
  const secret = createHmac('sha256', 'WebAppData').update(botToken).digest();
  const hash = createHmac('sha256', secret).update(lines.join('\n')).digest('hex');
  return encodeFields({ ...fields, hash });
}

/** The fields as a query string (`encodeURIComponent`, as Telegram's clients send them), in the order given. */
export function encodeFields(fields: Record<string, string>): string {
  return Object.entries(fields)
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`)
    .join('&');
}

/** The same initData with one hex digit of its `hash` changed: what a forger without the token sends. */
export function forgeHash(initData: string): string {
  return initData.replace(
    /(^|&)hash=([0-9a-f])/,
    (_, sep: string, digit: string) => `${sep}hash=${digit === '0' ? '1' : '0'}`,
  );
}

/** The URL Telegram opens the Mini App at: the app's root with initData in the fragment. */
export function miniAppUrl(apiUrl: string, initData: string): string {
  return `${apiUrl}/#tgWebAppData=${encodeURIComponent(initData)}&tgWebAppVersion=8.0&tgWebAppPlatform=web`;
}
