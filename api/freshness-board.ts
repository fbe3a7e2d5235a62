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
import type { Warehouse } from '../clickhouse/index.ts';
import { allFreshness, channelFreshness, type ChannelFreshness } from '../read/index.ts';
import { Memo } from './memo.ts';

export class FreshnessBoard {
  /** The whole board, read again by the first request after `ttlMs`; concurrent requests share one read. */
  readonly #board: Memo<Map<string, ChannelFreshness>>;
  /** Lookups of channels missing from the board, shared while in flight. */
  readonly #missing = new Memo<ChannelFreshness | null>(0);

  /** @param ttlMs how old the board may get; a freshness block may be this much behind */
  constructor(
    private readonly wh: Warehouse,
    ttlMs: number,
  ) {
    this.#board = new Memo(ttlMs, 1);
  }

  /** The channel's freshness, or null when the warehouse has never seen it. */
  async get(channelId: string): Promise<ChannelFreshness | null> {
    const board = await this.#board.get('all', () => allFreshness(this.wh));
    const known = board.get(channelId);
    if (known) return known;
    const found = await this.#missing.get(channelId, () => channelFreshness(this.wh, channelId));
    // Known from now on, until the next read of the board replaces it.
    if (found !== null) board.set(channelId, found);
    return found;
  }
}
