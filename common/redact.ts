/**
 * URLs for messages, logs and `tgpulse status`: every password replaced by
 * `***`. Takes a comma-separated list too (TGPULSE_NATS_URL names a cluster).
 */
export function redactUrl(urls: string): string {
  return urls
    .split(',')
    .map((one) => {
      const trimmed = one.trim();
      try {
        const u = new URL(trimmed);
        if (u.password) u.password = '***';
        // WHATWG URL adds a slash to `nats://host:4222`; keep what was written when nothing changed.
        return u.password ? u.toString().replace(/\/$/, trimmed.endsWith('/') ? '/' : '') : trimmed;
      } catch {
        return '<unparsable URL>';
      }
    })
    .join(',');
}
