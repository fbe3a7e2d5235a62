/**
 * The API's answer cache: analytics answers are cached in-process for a few
 * seconds (the serving tables change at most once per sink flush), keyed by
 * the request's path, query and representation. Every cached answer carries
 * a strong ETag of its bytes, so a client revalidating gets `304`.
 */
import { createHash } from 'node:crypto';

export interface CachedAnswer {
  contentType: string;
  /** Headers the answer was sent with besides its body's (freshness of charts, CSV file name). */
  headers: Record<string, string>;
  body: string | Buffer;
  etag: string;
  expiresAt: number;
}

/** A strong ETag of a body. */
export function etagOf(body: string | Buffer): string {
  return `"${createHash('sha1').update(body).digest('base64url')}"`;
}

/** True when an If-None-Match header names this ETag (or `*`). */
export function matchesEtag(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  return ifNoneMatch
    .split(',')
    .map((t) => t.trim().replace(/^W\//, ''))
    .some((t) => t === etag || t === '*');
}

/** A bounded least-recently-used map of answers with expiry. */
export class AnswerCache {
  readonly #entries = new Map<string, CachedAnswer>();
  constructor(
    private readonly maxEntries = 5000,
    private readonly maxBytes = 256 * 1024 * 1024,
  ) {}
  #bytes = 0;

  get(key: string, now = Date.now()): CachedAnswer | undefined {
    const hit = this.#entries.get(key);
    if (!hit) return undefined;
    this.#entries.delete(key);
    if (hit.expiresAt <= now) {
      this.#bytes -= hit.body.length;
      return undefined;
    }
    this.#entries.set(key, hit);
    return hit;
  }

  set(key: string, answer: CachedAnswer): void {
    const old = this.#entries.get(key);
    if (old) {
      this.#entries.delete(key);
      this.#bytes -= old.body.length;
    }
    this.#entries.set(key, answer);
    this.#bytes += answer.body.length;
    while (this.#entries.size > this.maxEntries || this.#bytes > this.maxBytes) {
      const [oldest, entry] = this.#entries.entries().next().value as [string, CachedAnswer];
      this.#entries.delete(oldest);
      this.#bytes -= entry.body.length;
    }
  }

  get size(): number {
    return this.#entries.size;
  }
}
