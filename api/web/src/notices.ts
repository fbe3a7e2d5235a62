/**
 * What the page says about itself: a polite live region for loading and
 * progress, and an alert region for failures, both announced by screen
 * readers. The wording of API failures is chosen here, in one place.
 */
import { ApiFailure } from './api.ts';
import { currentKey, signOut } from './session.ts';

const statusRegion = () => document.getElementById('status');
const alertRegion = () => document.getElementById('alert');

export function announce(text: string): void {
  const el = statusRegion();
  if (el) el.textContent = text;
}

export function showAlert(text: string): void {
  const el = alertRegion();
  if (!el) return;
  el.textContent = text;
  el.hidden = false;
}

export function clearAlert(): void {
  const el = alertRegion();
  if (!el) return;
  el.textContent = '';
  el.hidden = true;
}

/** A failure in words a reader can act on. */
export function describeFailure(err: unknown): string {
  if (!(err instanceof ApiFailure)) return `Something went wrong: ${err instanceof Error ? err.message : String(err)}`;
  switch (err.status) {
    case 0:
      return err.message;
    case 401:
      return `Your key was refused (${err.message}).`;
    case 403:
      return `Not allowed: ${err.message}. Your key may not see this channel, or lacks the scope.`;
    case 404:
      return `Not found: ${err.message}`;
    case 429:
      return `Too many requests${err.retryAfter ? `: try again in ${err.retryAfter} s` : ', try again shortly'}.`;
    default:
      return `The API answered ${err.status}: ${err.message}`;
  }
}

/** A message for the next page (an expired session is explained on the sign-in page it leads to). */
let pending: string | null = null;

/** Show the message left for this page, if any. */
export function showPending(): void {
  if (pending !== null) showAlert(pending);
  pending = null;
}

/**
 * Report a failed request. A refused key (401) ends the session and leads
 * back to sign-in with the reason; anything else is shown in the alert region.
 */
export function reportFailure(err: unknown): void {
  if (err instanceof ApiFailure && err.status === 401 && currentKey() !== null) {
    signOut();
    pending = `${describeFailure(err)} Please sign in again.`;
    location.hash = '#/';
    return;
  }
  showAlert(describeFailure(err));
}
