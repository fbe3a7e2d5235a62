/**
 * The collectors' side of the bot's `/track`: the bot records a pending
 * request with the channel's id and username (all the Bot API tells it), and
 * the ingest role resolves it here through one of its accounts, the way
 * `tgpulse channels add` does: by @username (by id when the channel has none,
 * which needs an account that has joined it), letting a forgotten channel in
 * again before it is tracked, then adding it to the registry the collectors
 * lease from. Telegram's refusals (private, gone, not a channel) settle the
 * request as failed with the reason, which `/track` shows the user; anything
 * transient (a flood wait, the network) leaves it pending for the next round.
 */
import type { Pool } from 'pg';
import { sleep } from '../../common/index.ts';
import { pendingTrackRequests, settleTrackRequests, upsertChannel } from '../../control/index.ts';
import { ChannelResolveError, resolveChannel } from '../../ingest/mtproto/index.ts';
import type { Logger } from '../../observability/index.ts';

/** An open MTProto account, as the collectors hold it. */
type Account = Parameters<typeof resolveChannel>[0];

/** How often pending requests are looked for. */
const TRACK_REQUESTS_EVERY_MS = 15_000;

export interface TrackRequestsOptions {
  control: Pool;
  /** The role's open accounts; a round uses the first one not parked by a flood wait. */
  accounts: readonly Account[];
  /** Lets a forgotten channel in again before it is tracked (`readmitIfForgotten`, as `channels add` does). */
  readmit: (channelId: string) => Promise<unknown>;
  log: Logger;
}

/** What one round did with the requests it found. */
export interface TrackRound {
  tracked: string[];
  failed: string[];
  /** Left pending: no usable account, or a transient error. */
  pending: string[];
}

/**
 * Resolves the pending requests once, oldest first.
 *
 * @example
 * const round = await resolveTrackRequests({ control: pool, accounts: opened.sessions, readmit, log });
 */
export async function resolveTrackRequests(opts: TrackRequestsOptions): Promise<TrackRound> {
  const round: TrackRound = { tracked: [], failed: [], pending: [] };
  for (const request of await pendingTrackRequests(opts.control)) {
    const { channelId } = request;
    const account = opts.accounts.find((a) => !a.parked());
    if (account === undefined) {
      round.pending.push(channelId);
      continue;
    }
    const ref = request.username === null ? channelId : `@${request.username}`;
    try {
      const facts = await resolveChannel(account, ref);
      if (facts.channelId !== channelId) {
        // The username moved to another channel since the request: the proof was for the one asked about.
        await settleTrackRequests(opts.control, channelId, {
          status: 'failed',
          reason: `@${request.username} now belongs to another channel; send /track again`,
        });
        round.failed.push(channelId);
        continue;
      }
      // Before it is tracked: the events collected from then on must not be dropped.
      await opts.readmit(channelId);
      await upsertChannel(opts.control, facts, { actor: `bot_user:${request.userId}` });
      await settleTrackRequests(opts.control, channelId, { status: 'tracked' });
      opts.log.info({ channelId, username: facts.username }, 'track request: channel added to the registry');
      round.tracked.push(channelId);
    } catch (err) {
      if (!(err instanceof ChannelResolveError)) {
        opts.log.warn({ err, channelId }, 'track request: could not resolve the channel now; trying again later');
        round.pending.push(channelId);
        continue;
      }
      await settleTrackRequests(opts.control, channelId, { status: 'failed', reason: err.message });
      opts.log.info({ channelId, problem: err.problem }, 'track request: Telegram does not let the accounts read it');
      round.failed.push(channelId);
    }
  }
  return round;
}

/**
 * Resolves pending requests every 15 s until `signal` aborts, beside the
 * collector. A round that fails (the control plane not answering) is logged
 * and the next one tries again.
 */
export async function runTrackRequests(opts: TrackRequestsOptions, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    await resolveTrackRequests(opts).catch((err: unknown) =>
      opts.log.error({ err }, 'track requests: a round failed; retrying'),
    );
    await sleep(TRACK_REQUESTS_EVERY_MS, signal);
  }
}
