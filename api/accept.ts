/**
 * Which representation a request's `Accept` header prefers, HTML or JSON:
 * a browser navigating to a share link asks for HTML first, while API
 * clients ask for JSON or send no preference, and keep getting JSON.
 */

/** The quality a media range list gives `type`: that of its most specific matching range, 0 if none matches. */
function qualityOf(accept: string, type: string): number {
  const [major] = type.split('/');
  let best = { specificity: -1, q: 0 };
  for (const part of accept.split(',')) {
    const [range, ...params] = part.trim().toLowerCase().split(';');
    const r = range.trim();
    const specificity = r === type ? 2 : r === `${major}/*` ? 1 : r === '*/*' ? 0 : -1;
    if (specificity <= best.specificity) continue;
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    best = { specificity, q: Number.isFinite(q) ? Math.min(1, Math.max(0, q)) : 0 };
  }
  return best.q;
}

/**
 * True when `accept` rates text/html above application/json. A tie (no
 * header, or any type alike) stays JSON, so every API client keeps the answer it had.
 *
 * @example prefersHtml('text/html,application/xhtml+xml,*\/*;q=0.8') // true
 * @example prefersHtml('application/json') // false
 */
export function prefersHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  return qualityOf(accept, 'text/html') > qualityOf(accept, 'application/json');
}
