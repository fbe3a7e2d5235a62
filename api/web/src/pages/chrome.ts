/**
 * The frame around every page: the navigation in the header (which links a
 * signed-in reader has), the freshness line of an analytics page, and the
 * page heading.
 */
import { h } from '../dom.ts';
import { formatTime } from '../format.ts';
import { channelsHash } from '../routes.ts';
import { currentKey, signOut } from '../session.ts';
import type { Answer } from '../api.ts';

/** Fill the header's navigation for the reader: signed in, signed out, or reading a share link. */
export function renderNav(mode: 'app' | 'share'): void {
  const nav = document.getElementById('nav');
  if (!nav) return;
  if (mode === 'share') {
    nav.replaceChildren(h('span', { class: 'nav-note' }, 'Shared report'));
    return;
  }
  // Signed out, every way on is on the sign-in page itself.
  if (currentKey() === null) {
    nav.replaceChildren();
    return;
  }
  const out = h('button', { type: 'button', class: 'link-button' }, 'Sign out');
  out.addEventListener('click', () => {
    signOut();
    location.hash = '#/';
  });
  nav.replaceChildren(h('a', { href: channelsHash() }, 'Channels'), out);
}

/** "Data as of <local time>", and a mark when part of the period is still open (figures may grow). */
export function freshnessLine(meta: Answer<unknown>['meta']): HTMLElement {
  return h(
    'p',
    { class: 'freshness', 'data-freshness': '' },
    `Data as of ${formatTime(meta.data_updated_at)}`,
    meta.window_open
      ? h(
          'span',
          { class: 'badge open-window', title: 'The latest figures may still grow' },
          'Open window: latest figures may still grow',
        )
      : null,
  );
}

/** The page's `<h1>`, and the document title that goes with it. */
export function pageTitle(text: string): HTMLElement {
  document.title = `${text} · tgpulse`;
  return h('h1', {}, text);
}

/** Gives a page's `<h1>` (and the document title) a better name once it is known. */
export function renameTitle(heading: HTMLElement, text: string): void {
  document.title = `${text} · tgpulse`;
  heading.textContent = text;
}
