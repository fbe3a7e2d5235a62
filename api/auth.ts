/**
 * Who is calling: API keys from `Authorization: Bearer <key>` or
 * `X-API-Key`, checked against the control plane and remembered for a few
 * seconds so a busy client costs one Postgres lookup per key and interval
 * (a revoked key stops working within that interval).
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { touchApiKey, verifyApiKey, type ApiKey, type ApiScope } from '../control/index.ts';
import type { Logger } from '../observability/index.ts';
import { Memo } from './memo.ts';
import { ApiError } from './errors.ts';

/** The key a request presents, or null when it presents none. */
export function presentedKey(headers: Record<string, string | string[] | undefined>): string | null {
  const auth = headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1];
  }
  const key = headers['x-api-key'];
  return typeof key === 'string' && key.length > 0 ? key : null;
}

/** Verifies keys with a short-lived memory of the answers. */
export class KeyVerifier {
  readonly #seen: Memo<ApiKey | null>;
  /** When each key's last_used_at was last written: at most once a minute per key. */
  readonly #touched = new Map<string, number>();
  constructor(
    private readonly pool: pg.Pool,
    private readonly log: Logger,
    ttlMs = 10_000,
  ) {
    this.#seen = new Memo(ttlMs);
  }

  /**
   * The key, or a 401 error saying what is wrong.
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
    const key = await this.#seen.get(id, async () => (token.length > 200 ? null : verifyApiKey(this.pool, token)), now);
    if (key === null) {
      throw new ApiError(401, 'unauthorized', 'this API key is unknown or revoked', undefined, {
        'www-authenticate': 'Bearer error="invalid_token"',
      });
    }
    this.#touch(key.id, now);
    return key;
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
