/**
 * Membership where it pays. Telegram pushes a channel's new posts, edits and
 * deletions only to its members; for any other channel the collector must
 * ask (updates.getChannelDifference) on a timer, and sees a post only when it
 * asks. Joining a public channel (channels.joinChannel) turns that polling
 * into pushes, at a price: the join is visible to the channel's admins, and
 * an account may be a member of a limited number of channels (Telegram
 * answers CHANNELS_TOO_MUCH past about 500). So joining is off by default;
 * when on, the lease's account joins public channels while it has room,
 * at most one join per `everyMs`, and stops joining for a day when Telegram
 * refuses.
 */
import { Api } from 'telegram';
import { forgetMembership, getAccount, membershipCount, recordMembership, refuseJoins } from '../../control/index.ts';
import { DAY_MS } from '../../common/index.ts';
import { MtprotoCallError } from './rpc-errors.ts';
import { inputChannel, type ChannelWork, type JobContext } from './work.ts';

/** Whether and how the collectors join channels (TGPULSE_JOIN_*). */
export interface JoinPolicy {
  enabled: boolean;
  /** Memberships per account at most, below Telegram's cap so other uses of the account keep room. */
  maxPerAccount: number;
  /** An account joins at most one channel per this long. */
  everyMs: number;
}

export const DEFAULT_JOIN_POLICY: JoinPolicy = { enabled: false, maxPerAccount: 450, everyMs: 3 * 60_000 };

/** Records what a member snapshot said of the account's membership, when it changed. */
export async function noteMembership(ctx: JobContext, work: ChannelWork, joined: boolean): Promise<void> {
  if (work.joined === joined) return;
  work.joined = joined;
  const { channelId } = work.channel;
  if (joined) await recordMembership(ctx.control, channelId, work.accountId, { joinedByUs: false, now: ctx.clock() });
  else await forgetMembership(ctx.control, channelId, work.accountId);
}

export type JoinOutcome = 'joined' | 'not_public' | 'account_full' | 'refused';

/**
 * Joins the channel with the lease's account when the policy allows; the
 * caller spaces the attempts and counts the outcomes. A refusal is recorded and logged, never thrown:
 * the channel is collected without membership. Other failures (a flood wait,
 * a network error) are thrown as for any job.
 */
export async function joinChannel(ctx: JobContext, work: ChannelWork, policy: JoinPolicy): Promise<JoinOutcome> {
  const { channel } = work;
  const log = ctx.log.child({ channel: channel.channelId });
  // A private channel is joined by invite link only, which the registry does not hold.
  if (channel.username === null) return 'not_public';
  const now = ctx.clock();
  const account = await getAccount(ctx.control, work.accountId);
  if (account?.joinsRefusedUntil != null && account.joinsRefusedUntil > now) return 'account_full';
  if ((await membershipCount(ctx.control, work.accountId)) >= policy.maxPerAccount) return 'account_full';
  try {
    await ctx.account.call(new Api.channels.JoinChannel({ channel: inputChannel(channel) }), { signal: ctx.signal });
  } catch (err) {
    if (!(err instanceof MtprotoCallError) || err.failure.kind !== 'refused') throw err;
    if (err.failure.message === 'CHANNELS_TOO_MUCH') {
      await refuseJoins(ctx.control, work.accountId, now + DAY_MS);
      log.warn(
        { account: work.accountId },
        'Telegram refused a join: the account is in as many channels as it may be (CHANNELS_TOO_MUCH); no joins with it for a day',
      );
      return 'account_full';
    }
    log.warn(
      { reason: err.failure.message },
      'Telegram refused to join the channel; it is collected without membership',
    );
    return 'refused';
  }
  work.joined = true;
  await recordMembership(ctx.control, channel.channelId, work.accountId, { joinedByUs: true, now });
  log.info({ account: work.accountId }, 'joined the channel: its updates are pushed now');
  return 'joined';
}
