/**
 * The few pages the server writes itself, for a browser that cannot be
 * given the web app: a share link that is not valid or has gone, and a web
 * app that was never built. Self-contained (inline style, no script, no
 * external resource) so the strict CSP holds, and they name nothing of the
 * link: no token, no channel.
 */

/**
 * The Content-Security-Policy of every HTML answer: scripts and styles only
 * from this server (Vega runs through vega-interpreter, so no 'unsafe-eval'),
 * inline styles for Vega's own, framing only by Telegram (the Mini App).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "frame-ancestors 'self' https://web.telegram.org https://*.telegram.org",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

/** `text` with the characters that mean something in HTML escaped. */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

/** A page with a heading and paragraphs, in light or dark as the reader's system is. */
export function messagePage(heading: string, paragraphs: readonly string[]): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>${escapeHtml(heading)} · tgpulse</title>
<style>
  :root { color-scheme: light dark; font-family: system-ui, sans-serif; line-height: 1.5; }
  body { margin: 0; padding: 2rem 1.25rem; }
  main { max-width: 36rem; margin: 10vh auto 0; }
  h1 { font-size: 1.5rem; margin: 0 0 1rem; }
  p { margin: 0 0 0.75rem; }
</style>
</head>
<body>
<main>
<h1>${escapeHtml(heading)}</h1>
${paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join('\n')}
</main>
</body>
</html>
`;
}

/** An expired, revoked or unknown share link. */
export function shareGonePage(): string {
  return messagePage('This link has expired or was revoked', [
    'The report this link pointed to is no longer shared. Share links work for a limited time, and whoever made one can revoke it.',
    'Ask the person who sent it to you for a new link.',
  ]);
}

/** A share link whose signature does not match: altered, cut short, or not a share link at all. */
export function shareInvalidPage(): string {
  return messagePage('This link is not valid', [
    'This address is not a complete share link: it may have been cut short or changed when it was copied.',
    'Open the link exactly as you received it, or ask for a new one.',
  ]);
}

/** `/` before the web app was built. */
export function notBuiltPage(): string {
  return messagePage('The web app is not built', [
    'This server answers the API, but the web dashboard has not been built yet.',
    'Run scripts/build-web.sh in the tgpulse folder (scripts/bootstrap.sh does it too), then reload this page.',
  ]);
}
