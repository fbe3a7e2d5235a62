/**
 * The web app's entry: reads the location, renders its page into `<main>`,
 * and follows hash changes. Pages that need a key send a reader without one
 * to sign-in first; a share report and the Telegram Mini App entry need none.
 */
import { loadRuntime, releaseCharts } from './chart-runtime.ts';
import { announce, clearAlert, reportFailure, showAlert, showPending } from './notices.ts';
import { renderChannel } from './pages/channel.ts';
import { renderChannels } from './pages/channels.ts';
import { pageTitle, renderNav } from './pages/chrome.ts';
import { startMiniApp } from './pages/mini-app.ts';
import { renderPost } from './pages/post.ts';
import { renderShare } from './pages/share.ts';
import { renderSignIn } from './pages/sign-in.ts';
import { parseLocation, type Route } from './routes.ts';
import { currentKey } from './session.ts';
import { h } from './dom.ts';

const main = document.getElementById('main') as HTMLElement;
let rendered = false;

async function render(route: Route): Promise<void> {
  releaseCharts();
  clearAlert();
  // A message the previous page left for this one (why the session ended), shown before the page loads.
  showPending();
  announce('');
  renderNav(route.page === 'share' ? 'share' : 'app');
  switch (route.page) {
    case 'sign-in':
      renderSignIn(main);
      break;
    case 'share':
      await renderShare(main, route.token);
      break;
    case 'mini-app':
      if (await startMiniApp(main, route.initData)) {
        renderNav('app');
        await renderChannels(main);
      }
      break;
    case 'channels':
    case 'channel':
    case 'post':
      if (currentKey() === null) {
        // The address stays: once signed in, the reader gets the page asked for.
        renderSignIn(main, () => onLocation());
        showAlert('Sign in to see your channels.');
        break;
      }
      if (route.page === 'channels') await renderChannels(main);
      else if (route.page === 'channel') renderChannel(main, route.channelId, route.view);
      else renderPost(main, route.channelId, route.postId);
      break;
    case 'not-found':
      main.replaceChildren(
        pageTitle('Page not found'),
        h('p', {}, `Nothing lives at ${route.path}. `, h('a', { href: '#/channels' }, 'Go to the channels'), '.'),
      );
      break;
  }
}

function onLocation(): void {
  const route = parseLocation(location.pathname, location.hash);
  if (route === null) return;
  // After the first page, move focus to the new page's content, as a full page load would.
  if (rendered) main.focus({ preventScroll: false });
  rendered = true;
  // Pages with charts start fetching the Vega runtime before anything else; a failure surfaces when a chart is drawn.
  if (route.page === 'channel' || route.page === 'post' || route.page === 'share') loadRuntime().catch(() => {});
  render(route).catch(reportFailure);
}

// The skip link targets <main> without changing the hash (which is the page's address).
document.querySelector<HTMLAnchorElement>('.skip-link')?.addEventListener('click', (e) => {
  e.preventDefault();
  main.focus();
});
window.addEventListener('hashchange', onLocation);
onLocation();
