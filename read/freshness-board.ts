/**
 * Every channel's freshness, read in one query and shared by all answers of
 * the next few seconds. Each analytics answer carries its channel's freshness
 * block; reading it per request would double the warehouse queries of every
 * answer, and under load most requests are for channels asked about within
 * the same seconds anyway.
 *
 * A channel missing from the board (new since the last read, or unknown) is
 * looked up on its own, so a channel is never reported unknown because the
 * board is a few seconds old. The board holds a few small objects per
 * channel: meant for the thousands of channels a deployment tracks, not for
 * millions.
 */
import type { Warehouse } from '../clickhouse/warehouse.ts';
import { allFreshness, channelFreshness, type ChannelFreshness } from './models/freshness.ts';

export class FreshnessBoard {
  #board = new Map<string, ChannelFreshness>();
  #readAt = Number.NEGATIVE_INFINITY;
  #reading: Promise<void> | null = null;
  /** Single-flight lookups of channels missing from the board. */
  #missing = new Map<string, Promise<ChannelFreshness | null>>();

  /**
   * @param ttlMs how old the board may get before the next request reads it
   *              again; a freshness block may be this much behind
   */
  constructor(
    private readonly wh: Warehouse,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The channel's freshness, or null when the warehouse has never seen it. */
  async get(channelId: string): Promise<ChannelFreshness | null> {
    if (this.now() - this.#readAt >= this.ttlMs) await this.#read();
    const known = this.#board.get(channelId);
    if (known) return known;
    return this.#lookUp(channelId);
  }

  /** Read the whole board; concurrent callers share one read. A failed read is thrown to every waiting caller and retried by the next. */
  #read(): Promise<void> {
    this.#reading ??= allFreshness(this.wh)
      .then((board) => {
        this.#board = board;
        this.#readAt = this.now();
      })
      .finally(() => {
        this.#reading = null;
      });
    return this.#reading;
  }

  #lookUp(channelId: string): Promise<ChannelFreshness | null> {
    let running = this.#missing.get(channelId);
    if (!running) {
      running = channelFreshness(this.wh, channelId)
        .then((f) => {
          // Known from now on, until the next read of the board replaces it.
          if (f !== null) this.#board.set(channelId, f);
          return f;
        })
        .finally(() => this.#missing.delete(channelId));
      this.#missing.set(channelId, running);
    }
    return running;
  }
}
