/**
 * One Telegram account as the collectors use it: every MTProto call of the
 * account goes through {@link AccountSession.call}, which holds it to its rate
 * limits, retries what is worth retrying, follows a DC migration once, and
 * parks the whole account when Telegram answers FLOOD_WAIT, so the pool can
 * move its work to other accounts instead of hammering on.
 */
import type { Api, TelegramClient } from 'telegram';
import { RateLimiter, backoffMs, sleep } from '../../common/index.ts';
import type { Logger } from '../../observability/index.ts';
import { classifyRpcFailure, MtprotoCallError } from './rpc-errors.ts';
import type { CollectorMetrics } from './metrics.ts';

/** Requests per minute, per account: `default` for each method, `methods` overriding it by class name. */
export interface RateLimits {
  default: number;
  methods: Record<string, number>;
  /** All methods together. */
  total: number;
}

/**
 * What we assume of Telegram's limits (it publishes none): about 30 calls a
 * minute per method and a few per second overall keep user accounts clear of
 * FLOOD_WAIT in practice; stats calls are heavier and rarer.
 */
export const DEFAULT_RATE_LIMITS: RateLimits = {
  default: 30,
  total: 120,
  methods: {
    'stats.GetBroadcastStats': 6,
    'stats.LoadAsyncGraph': 30,
    'stats.GetMessageStats': 10,
    'stats.GetMessagePublicForwards': 10,
    'contacts.ResolveUsername': 5,
    // Joining is throttled hard by Telegram; the collector spaces joins further (TGPULSE_JOIN_EVERY_S).
    'channels.JoinChannel': 1,
  },
};

export interface AccountSessionOptions {
  accountId: string;
  client: TelegramClient;
  limits?: RateLimits;
  /** Attempts for transient failures (network, Telegram internal errors). */
  attempts?: number;
  log: Logger;
  metrics?: CollectorMetrics;
  /**
   * Opens a new connection (the next proxy route) when the current one keeps
   * failing; without it, failures are only retried.
   */
  reconnect?: () => Promise<TelegramClient>;
  /** Transient failures in a row after which the account reconnects (default 3). */
  reconnectAfter?: number;
  clock?: () => number;
  /** Waits; tests pass one that advances a fake clock. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface CallOptions {
  /** Send to this DC (stats live on the channel's stats DC). */
  dcId?: number;
  signal?: AbortSignal;
  /** Told the DC Telegram redirected the call to (e.g. STATS_MIGRATE_4), so later calls go there first. */
  onMigrate?: (dcId: number) => void;
}

/** An account's live state as the pool sees it. */
export interface AccountHealth {
  /** 1 = every recent call succeeded; decays with failures, recovers with successes. */
  health: number;
  /** Epoch ms until which the account must not call Telegram (FLOOD_WAIT), or null. */
  parkedUntil: number | null;
  lastError: string | null;
  /** Transient failures in a row: many suggest the connection or proxy is bad. */
  connectionFailures: number;
}

export class AccountSession {
  readonly accountId: string;
  client: TelegramClient;
  readonly #limits: RateLimits;
  readonly #limiter = new RateLimiter();
  /** The last waiting call of each method: calls of a method take tokens in arrival order. */
  readonly #queues = new Map<string, Promise<void>>();
  readonly #attempts: number;
  readonly #log: Logger;
  readonly #metrics?: CollectorMetrics;
  readonly #clock: () => number;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly state: AccountHealth = { health: 1, parkedUntil: null, lastError: null, connectionFailures: 0 };
  readonly #reconnect?: () => Promise<TelegramClient>;
  readonly #reconnectAfter: number;
  readonly #updateHandlers: Array<(update: Api.TypeUpdate) => void> = [];
  #reconnecting: Promise<void> | null = null;
  /** Calls sent per minute over the last hour (a ring by minute), for {@link budgetUsed}. */
  readonly #sent = new Array<number>(60).fill(0);
  #sentMinute = 0;

  constructor(opts: AccountSessionOptions) {
    this.accountId = opts.accountId;
    this.client = opts.client;
    this.#limits = opts.limits ?? DEFAULT_RATE_LIMITS;
    this.#attempts = opts.attempts ?? 3;
    this.#log = opts.log.child({ account: opts.accountId });
    this.#metrics = opts.metrics;
    this.#clock = opts.clock ?? Date.now;
    this.#sleep = opts.sleep ?? sleep;
    this.#reconnect = opts.reconnect;
    this.#reconnectAfter = opts.reconnectAfter ?? 3;
  }

  /** Subscribes to the account's pushed updates; kept across reconnects. */
  onUpdate(handler: (update: Api.TypeUpdate) => void): void {
    this.#updateHandlers.push(handler);
    this.client.addEventHandler((update: unknown) => handler(update as Api.TypeUpdate));
  }

  /** Swaps in a new connection (next proxy route), once at a time, moving the update handlers over; true when it did. */
  async #rotate(): Promise<boolean> {
    if (!this.#reconnect) return false;
    const before = this.client;
    this.#reconnecting ??= (async () => {
      const old = this.client;
      try {
        const client = await this.#reconnect!();
        for (const handler of this.#updateHandlers)
          client.addEventHandler((update: unknown) => handler(update as Api.TypeUpdate));
        this.client = client;
        this.state.connectionFailures = 0;
        this.#metrics?.reconnects.inc({ outcome: 'ok' });
        this.#log.warn('the connection kept failing: reconnected through the next route');
        await old.destroy().catch(() => undefined);
      } catch (err) {
        this.#metrics?.reconnects.inc({ outcome: 'failed' });
        this.#log.error(
          { err },
          'reconnecting to Telegram failed on every route; calls keep failing until the network is back',
        );
      } finally {
        this.#reconnecting = null;
      }
    })();
    await this.#reconnecting;
    return this.client !== before;
  }

  /**
   * Share of the account's total budget (`limits.total` a minute) the calls of
   * the last hour used: 1 = the account ran at its limit.
   */
  budgetUsed(now = this.#clock()): number {
    this.#advanceSent(now);
    return this.#sent.reduce((a, b) => a + b, 0) / (this.#limits.total * 60);
  }

  #advanceSent(now: number): void {
    const minute = Math.floor(now / 60_000);
    if (minute - this.#sentMinute >= 60) this.#sent.fill(0);
    else for (let m = this.#sentMinute + 1; m <= minute; m++) this.#sent[m % 60] = 0;
    this.#sentMinute = Math.max(this.#sentMinute, minute);
  }

  /** Whether FLOOD_WAIT keeps the account off Telegram at `now`. */
  parked(now = this.#clock()): boolean {
    return this.state.parkedUntil !== null && now < this.state.parkedUntil;
  }

  /**
   * Calls Telegram. Throws {@link MtprotoCallError} when the call fails for
   * good; its `failure` says why (flood: the account is now parked).
   *
   * ```ts
   * const full = await account.call(new Api.channels.GetFullChannel({ channel }));
   * ```
   */
  async call<R extends Api.AnyRequest>(request: R, opts: CallOptions = {}): Promise<R['__response']> {
    const method = request.className;
    let dcId = opts.dcId;
    let migrated = false;
    let rotated = false;
    for (let attempt = 1; ; attempt++) {
      if (this.parked()) {
        throw new MtprotoCallError(method, {
          kind: 'flood',
          seconds: Math.ceil((this.state.parkedUntil! - this.#clock()) / 1000),
          message: 'account parked',
        });
      }
      await this.#takeToken(method, opts.signal);
      if (opts.signal?.aborted) throw new MtprotoCallError(method, { kind: 'transient', message: 'stopped' });
      const stopTimer = this.#metrics?.requestSeconds.startTimer({ method });
      try {
        // The home DC is the main connection; naming it would open a second one.
        const target = dcId === this.client.session.dcId ? undefined : dcId;
        const result = await this.client.invoke(request, target);
        stopTimer?.();
        this.#metrics?.requests.inc({ method, outcome: 'ok' });
        this.#succeeded();
        return result;
      } catch (err) {
        stopTimer?.();
        const failure = classifyRpcFailure(err);
        this.#metrics?.requests.inc({ method, outcome: failure.kind });
        if (failure.kind === 'migrate' && !migrated) {
          // STATS_MIGRATE_X and kin: the answer is on DC X; ask there once.
          migrated = true;
          dcId = failure.dcId;
          opts.onMigrate?.(dcId);
          attempt--;
          continue;
        }
        if (failure.kind === 'flood') {
          this.state.parkedUntil = this.#clock() + failure.seconds * 1000;
          this.#metrics?.floodWaits.inc({ method });
          this.#metrics?.floodWaitSeconds.inc({ method }, failure.seconds);
          this.#log.warn({ method, seconds: failure.seconds }, 'FLOOD_WAIT: account parked');
        }
        if (failure.kind === 'transient') {
          this.state.connectionFailures++;
          if (this.state.connectionFailures >= this.#reconnectAfter && !rotated && (await this.#rotate())) {
            // A fresh connection earns the call another try.
            rotated = true;
            attempt--;
            continue;
          }
          if (attempt < this.#attempts && !opts.signal?.aborted) {
            const waitMs = backoffMs(attempt, 500, 10_000);
            this.#log.warn({ method, attempt, waitMs, error: failure.message }, 'Telegram call failed; retrying');
            await this.#sleep(waitMs, opts.signal);
            continue;
          }
        }
        this.#failed(failure.message);
        throw new MtprotoCallError(method, failure, { cause: err });
      }
    }
  }

  /**
   * Waits for a token of the method's own bucket, then of the account's
   * total. Calls of one method queue first-in first-out, so a burst of waiting
   * calls neither wakes all at once nor overtakes each other, and a call
   * never spends a total token while its method is still over its rate.
   */
  async #takeToken(method: string, signal?: AbortSignal): Promise<void> {
    const prev = this.#queues.get(method) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = prev.then(() => mine);
    this.#queues.set(method, tail);
    try {
      await prev;
      const perMinute = this.#limits.methods[method] ?? this.#limits.default;
      await this.#waitFor(method, perMinute, signal);
      await this.#waitFor('*', this.#limits.total, signal, method);
      const now = this.#clock();
      this.#advanceSent(now);
      this.#sent[Math.floor(now / 60_000) % 60]++;
    } finally {
      release();
      if (this.#queues.get(method) === tail) this.#queues.delete(method);
    }
  }

  /** Takes one token of `bucket`, sleeping until the bucket has one. */
  async #waitFor(bucket: string, perMinute: number, signal: AbortSignal | undefined, method = bucket): Promise<void> {
    for (;;) {
      const taken = this.#limiter.take(bucket, perMinute, this.#clock());
      if (taken.ok || signal?.aborted) return;
      this.#metrics?.rateLimited.inc({ method });
      await this.#sleep(taken.retryAfterMs, signal);
    }
  }

  #succeeded(): void {
    this.state.health = Math.min(1, this.state.health * 0.9 + 0.1);
    this.state.connectionFailures = 0;
  }

  #failed(message: string): void {
    this.state.health *= 0.8;
    this.state.lastError = message.slice(0, 500);
  }
}
