/**
 * The caller's credential: an API key pasted on the sign-in page, or the
 * token a Mini App session was given. Kept in session storage, so it lives
 * as long as the tab and is never written to disk by a "remember me".
 */

const STORAGE_KEY = 'tgpulse.key';

export function currentKey(): string | null {
  try {
    return sessionStorage.getItem(STORAGE_KEY);
  } catch {
    // Storage can be refused (privacy settings, some webviews): the app then simply is signed out.
    return null;
  }
}

export function signIn(key: string): void {
  sessionStorage.setItem(STORAGE_KEY, key);
}

export function signOut(): void {
  try {
    sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // Nothing stored, nothing to remove.
  }
}
