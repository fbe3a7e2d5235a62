/**
 * A Mini App session as the rest of the API sees it: a key-like principal
 * with the `read` and `export` scopes whose channel allow-list is what the
 * control plane grants that Telegram user (the grants the bot's /grant,
 * /verify and /track make). Grants are read at request time, remembered
 * for {@link GRANTS_FRESH_MS}, so a revoked grant takes effect within that,
 * not when the token expires.
 */
import type pg from 'pg';
import { type ApiKey, grantedChannels } from '../../control/index.ts';
import { ApiError } from '../errors.ts';
import { Memo } from '../memo.ts';
import { SESSION_TTL_MS, verifySession, type WebAppSession } from './session-token.ts';

/** How long a user's grants are reused: a page load's burst of requests costs one Postgres lookup. */
export const GRANTS_FRESH_MS = 2000;

/** Checks session tokens and turns them into principals. */
export class WebAppSessions {
  readonly #grants = new Memo<string[]>(GRANTS_FRESH_MS);
  constructor(
    private readonly control: pg.Pool,
    /** From `sessionKey(shareSecret)`. */
    private readonly key: Buffer,
  ) {}

  /**
   * The principal of a session token, or a 401 saying to open the app again.
   *
   * @param now the API's clock, which issued the token (tests pin it)
   * @throws the control plane's failure when Postgres does not answer (a 503)
   */
  async authenticate(token: string, now: number): Promise<ApiKey> {
    const session = verifySession(this.key, token, now);
    if (!session.ok) {
      throw new ApiError(
        401,
        'unauthorized',
        session.reason === 'expired'
          ? 'this Mini App session has expired: open the dashboard from the bot again'
          : 'this Mini App session token is not valid',
        undefined,
        { 'www-authenticate': 'Bearer error="invalid_token"' },
      );
    }
    // Wall-clock time, unlike `now`: a pinned test clock must not keep a revoked grant forever.
    const channels = await this.#grants.get(session.userId, () => grantedChannels(this.control, session.userId));
    return webAppPrincipal(session, channels);
  }
}

/** The key-like principal of a session: what rate limits, access logs and allow-lists read. */
function webAppPrincipal(session: WebAppSession, channels: string[]): ApiKey {
  return {
    id: `webapp:${session.userId}`,
    name: `Telegram user ${session.userId} (Mini App)`,
    scopes: ['read', 'export'],
    channels,
    ratePerMinute: null,
    createdAt: session.expiresAt - SESSION_TTL_MS,
    revokedAt: null,
    lastUsedAt: null,
  };
}
