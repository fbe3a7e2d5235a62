/**
 * Sign-in: paste an API key (checked with one small request before it is
 * kept), or open a share link someone sent.
 */
import { ApiFailure, getJson } from '../api.ts';
import { fill, h } from '../dom.ts';
import { announce, describeFailure, showAlert } from '../notices.ts';
import { channelsHash } from '../routes.ts';
import { currentKey, signIn, signOut } from '../session.ts';
import { pageTitle } from './chrome.ts';

/** The path of a share link from what a reader pasted: a full URL or the path. */
export function sharePath(pasted: string): string | null {
  const m = /\/v1\/share\/([A-Za-z0-9._~-]+)/.exec(pasted.trim());
  return m ? `/v1/share/${m[1]}` : null;
}

/**
 * The sign-in page. `next` runs once a key is accepted; by default the reader
 * goes to the channel list.
 */
export function renderSignIn(main: HTMLElement, next: () => void = () => (location.hash = channelsHash())): void {
  const keyInput = h('input', {
    id: 'api-key',
    name: 'api-key',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
    'aria-describedby': 'api-key-help',
  });
  const keyForm = h(
    'form',
    { class: 'card stack', 'aria-labelledby': 'key-title' },
    h('h2', { id: 'key-title' }, 'With an API key'),
    h('div', { class: 'field' }, h('label', { for: 'api-key' }, 'API key'), keyInput),
    h(
      'p',
      { id: 'api-key-help', class: 'hint' },
      'Create one with ',
      h('code', {}, 'tgpulse apikey create --scopes read,export'),
      '. It is kept only in this tab and forgotten when the tab closes.',
    ),
    h('button', { type: 'submit' }, 'Sign in'),
  );
  keyForm.addEventListener('submit', (e) => {
    e.preventDefault();
    void tryKey(keyInput.value.trim(), next);
  });

  const linkInput = h('input', { id: 'share-link', name: 'share-link', type: 'url', required: true });
  const linkForm = h(
    'form',
    { class: 'card stack', 'aria-labelledby': 'link-title' },
    h('h2', { id: 'link-title' }, 'With a share link'),
    h('div', { class: 'field' }, h('label', { for: 'share-link' }, 'Share link'), linkInput),
    h('button', { type: 'submit', class: 'secondary' }, 'Open report'),
  );
  linkForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const path = sharePath(linkInput.value);
    if (path === null) showAlert('That is not a tgpulse share link (it contains /v1/share/…).');
    else location.assign(path);
  });

  fill(
    main,
    pageTitle('Sign in'),
    currentKey() !== null
      ? h('p', {}, 'You are signed in. ', h('a', { href: channelsHash() }, 'Go to your channels'), '.')
      : null,
    h('div', { class: 'grid-2' }, keyForm, linkForm),
  );
}

async function tryKey(key: string, next: () => void): Promise<void> {
  if (key === '') return;
  signIn(key);
  announce('Checking the key…');
  try {
    await getJson('/v1/channels', { limit: 1 });
    announce('Signed in.');
    next();
  } catch (err) {
    signOut();
    announce('');
    showAlert(
      err instanceof ApiFailure && err.status === 401 ? `That key was refused: ${err.message}` : describeFailure(err),
    );
  }
}
