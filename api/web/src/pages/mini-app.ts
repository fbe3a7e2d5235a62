/**
 * The Telegram Mini App entry: Telegram opens the app with its signed
 * `initData` in the hash. The server checks it and answers a short-lived
 * token that then works like an API key, limited to the channels granted to
 * that Telegram user.
 */
import { ApiFailure, postJson } from '../api.ts';
import { h } from '../dom.ts';
import { announce, showAlert } from '../notices.ts';
import { channelsHash } from '../routes.ts';
import { signIn, signOut } from '../session.ts';
import { pageTitle } from './chrome.ts';

interface WebAppSession {
  token: string;
  expires_at: number;
  user: { id: number | string; name: string };
  channels: string[];
}

/** Why Telegram's sign-in did not work, in words for the person holding the phone. */
export function refusalText(err: unknown): string {
  if (!(err instanceof ApiFailure)) return 'The server could not be reached. Close the app and open it again.';
  switch (err.code) {
    case 'init_data_expired':
      return 'The sign-in from Telegram is too old. Close the app and open it again from the bot.';
    case 'init_data_invalid':
      return 'Telegram’s sign-in data could not be verified, so the app cannot show your channels. Open it from the bot’s /dashboard button.';
    case 'webapp_unavailable':
      return 'Telegram sign-in is not set up on this server (no bot token is configured).';
    default:
      return `Telegram sign-in failed: ${err.message}`;
  }
}

/** Exchange the initData for a session, then continue to the channel list (replacing the hash that carried it). */
export async function startMiniApp(main: HTMLElement, initData: string): Promise<boolean> {
  main.replaceChildren(pageTitle('Signing in with Telegram…'));
  announce('Signing in with Telegram…');
  try {
    const session = await postJson<WebAppSession>('/v1/webapp/session', { init_data: initData });
    signIn(session.token);
    announce(`Signed in as ${session.user.name}.`);
    // The initData must not stay in the address (or the history): replace it.
    history.replaceState(null, '', `${location.pathname}${location.search}${channelsHash()}`);
    return true;
  } catch (err) {
    signOut();
    announce('');
    // The alert region announces the refusal; the page keeps a way forward.
    showAlert(refusalText(err));
    main.replaceChildren(
      pageTitle('Telegram sign-in failed'),
      h('p', {}, 'You can also ', h('a', { href: '#/' }, 'sign in with an API key'), '.'),
    );
    return false;
  }
}
