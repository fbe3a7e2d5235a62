/**
 * Who is calling: API keys from `Authorization: Bearer <key>` or
 * `X-API-Key`, checked against the control plane and remembered for a few
 * seconds so a busy client costs one Postgres lookup per key and interval
 * (a revoked key stops working within that interval).
 *
 * When Postgres does not answer, a key verified within the last
 * {@link OUTAGE_GRACE_MS} keeps working from memory: a control-plane outage
 * should not take the read-only API down with it. The price is that a key
 * revoked just before or during the outage works until Postgres answers
 * again (then within {@link FRESH_MS}) or the grace runs out. A key not
 * verified lately gets 503, never 401: nobody can tell yet whether it is good.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { isControlPlaneDown, touchApiKey, verifyApiKey, type ApiKey, type ApiScope } from '../control/index.ts';
import type { Logger } from '../observability/index.ts';
import { Memo } from './memo.ts';
import { ApiError } from './errors.ts';

/** The key a request presents (an API key, or a Mini App session token: see webapp/), or null when it presents none. */
export function presentedKey(headers: Record<string, string | string[] | undefined>): string | null {
  const auth = headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1];
  }
  const key = headers['x-api-key'];
  return typeof key === 'string' && key.length > 0 ? key : null;
}

/** How long a verification is trusted while Postgres answers: revocation takes effect within it. */
const FRESH_MS = 10_000;

/** How long a verified key keeps working from memory while Postgres does not answer. */
export const OUTAGE_GRACE_MS = 10 * 60_000;

/** Keys remembered for an outage at most (the oldest verified is forgotten first). */
const MAX_REMEMBERED = 10_000;

/** Verifies keys with a short-lived memory of the answers, and a longer one for control-plane outages. */
export class KeyVerifier {
  readonly #seen: Memo<ApiKey | null>;
  /** Keys that verified, by token hash, with when: what an outage falls back on. */
  readonly #verified = new Map<string, { key: ApiKey; at: number }>();
  /** When each key's last_used_at was last written: at most once a minute per key. */
  readonly #touched = new Map<string, number>();
  constructor(
    private readonly pool: pg.Pool,
    private readonly log: Logger,
    ttlMs = FRESH_MS,
    private readonly graceMs = OUTAGE_GRACE_MS,
  ) {
    this.#seen = new Memo(ttlMs);
  }

  /**
   * The key, or a 401 error saying what is wrong.
   *
   * @throws the control plane's failure when Postgres does not answer and the key was not verified lately (a 503)
   */
  async authenticate(token: string | null, now = Date.now()): Promise<ApiKey> {
    if (token === null) {
      throw new ApiError(
        401,
        'unauthorized',
        'an API key is required: send Authorization: Bearer <key> (create one with `tgpulse apikey create`)',
        undefined,
        {
          'www-authenticate': 'Bearer',
        },
      );
    }
    // Remember by a hash of the token, so the secret is not kept in memory longer than needed.
    const id = createHash('sha256').update(token).digest('base64url');
    const key = await this.#seen.get(id, () => this.#verify(id, token, now), now);
    if (key === null) {
      throw new ApiError(401, 'unauthorized', 'this API key is unknown or revoked', undefined, {
        'www-authenticate': 'Bearer error="invalid_token"',
      });
    }
    this.#touch(key.id, now);
    return key;
  }

  /** Asks the control plane; when it does not answer, the key as verified within the grace, else the failure. */
  async #verify(id: string, token: string, now: number): Promise<ApiKey | null> {
    if (token.length > 200) return null;
    try {
      const key = await verifyApiKey(this.pool, token);
      this.#verified.delete(id);
      if (key !== null) {
        if (this.#verified.size >= MAX_REMEMBERED) this.#verified.delete(this.#verified.keys().next().value as string);
        this.#verified.set(id, { key, at: now });
      }
      return key;
    } catch (err) {
      const known = this.#verified.get(id);
      if (!isControlPlaneDown(err) || known === undefined || now - known.at > this.graceMs) throw err;
      this.log.warn(
        { err, keyId: known.key.id, verifiedSecondsAgo: Math.round((now - known.at) / 1000) },
        'control plane did not answer; accepting an API key verified lately',
      );
      return known.key;
    }
  }

  /** Record use without holding up the request; a failure is logged, and retried on a later request. */
  #touch(id: string, now: number): void {
    if ((this.#touched.get(id) ?? 0) > now - 60_000) return;
    this.#touched.set(id, now);
    touchApiKey(this.pool, id).catch((err: unknown) => {
      this.#touched.delete(id);
      this.log.warn({ err, keyId: id }, 'could not record the use of an API key');
    });
  }
}

/** 403 unless the key has the scope. */
export function requireScope(key: ApiKey, scope: ApiScope): void {
  if (!key.scopes.includes(scope)) {
    throw new ApiError(403, 'forbidden', `this API key lacks the "${scope}" scope (it has: ${key.scopes.join(', ')})`, {
      scope,
    });
  }
}

/** 403 unless the key may read the channel. */
export function requireChannel(key: ApiKey, channelId: string): void {
  if (key.channels !== null && !key.channels.includes(channelId)) {
    throw new ApiError(403, 'forbidden', `this API key may not read channel ${channelId}`, { channel_id: channelId });
  }
}
