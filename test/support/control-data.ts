/**
 * A control plane in which channels appear everywhere they can: the
 * registry with cursors, an account that joined them, collector leases and
 * the account's stale-channel report, bot grants (one in the Bot API form
 * `-100…`), alert subscriptions and deliveries, track requests, digests and
 * their ledger, share links, API keys listing
 * them, and the audit rows all of that writes. For the tests of `tgpulse
 * channels forget`.
 */
import type { Pool } from 'pg';
import { createApiKey } from '../../control/api-keys.ts';
import {
  grantChannel,
  recordDelivery,
  recordOpeningHandled,
  upsertBotUser,
  upsertSubscription,
} from '../../control/bot-store.ts';
import { recordAccountLoad, recordMembership } from '../../control/channel-memberships.ts';
import { acquireLeases } from '../../control/collector-leases.ts';
import { addAccount } from '../../control/mtproto-accounts.ts';
import { encryptSession } from '../../control/session-crypto.ts';
import { claimDigest, upsertDigest } from '../../control/digests.ts';
import { createShareLink, shareSecret } from '../../control/share-links.ts';
import { requestTracking } from '../../control/track-requests.ts';
import { setBackfillFrom, upsertChannel } from '../../control/tracked-channels.ts';

/** A bot user who was granted every channel. */
export const GRANTED_USER = '7000001';

/** An API key as the API's clients hold it. */
export interface TestKey {
  id: string;
  token: string;
}

export interface ControlData {
  accountId: string;
  /** The API key of every channel, and one per channel. */
  keys: { all: TestKey; byChannel: Record<string, TestKey> };
  /** A share-link token per channel. */
  shares: Record<string, string>;
}

const keyOf = (created: { key: { id: string }; token: string }): TestKey => ({
  id: created.key.id,
  token: created.token,
});

/**
 * Fills the control plane for `channels` (bare ids). `session` and `key` seal
 * the account's session, so a collector (or `tgpulse channels add`) can open it.
 */
export async function fillControlPlane(
  pool: Pool,
  channels: readonly string[],
  opts: { phone: string; session: string; key: Buffer },
): Promise<ControlData> {
  const account = await addAccount(pool, {
    phone: opts.phone,
    sealSession: (id) => encryptSession(opts.session, opts.key, id),
    userId: null,
  });
  const secret = await shareSecret(pool);
  await upsertBotUser(pool, { userId: GRANTED_USER, username: 'owner_of_all', admin: false });
  const byChannel: Record<string, TestKey> = {};
  const shares: Record<string, string> = {};
  for (const [i, channelId] of channels.entries()) {
    await upsertChannel(
      pool,
      {
        channelId,
        username: `pulse_channel_${i}`,
        title: `Channel ${i}`,
        accessHash: '-8734216634523456789',
        canViewStats: true,
        statsDc: 2,
        members: 1000,
      },
      { actor: 'cli' },
    );
    await setBackfillFrom(pool, channelId, Date.UTC(2026, 0, 1), { actor: 'cli' });
    await recordMembership(pool, channelId, account.id, { joinedByUs: true });
    await grantChannel(pool, {
      userId: GRANTED_USER,
      channelId: i === 0 ? `-100${channelId}` : channelId,
      via: 'admin',
      grantedBy: null,
    });
    if (i === 0) await grantChannel(pool, { userId: GRANTED_USER, channelId, via: 'proof', grantedBy: null });
    await upsertSubscription(pool, { chatId: GRANTED_USER, channelId, createdBy: GRANTED_USER });
    await recordDelivery(pool, {
      anomalyId: `an_${i}`,
      chatId: GRANTED_USER,
      stage: 'opened',
      outcome: 'sent',
      messageId: 10 + i,
      channelId,
    });
    await recordOpeningHandled(pool, `an_${i}`, channelId);
    await requestTracking(pool, { userId: GRANTED_USER, channelId, username: null, title: null, limit: 100 });
    const digest = await upsertDigest(pool, {
      chatId: GRANTED_USER,
      channelId,
      cadence: 'daily',
      timeZone: 'UTC',
      createdBy: GRANTED_USER,
    });
    await claimDigest(pool, { subscriptionId: digest.id, periodStart: 0, channelId, chatId: GRANTED_USER });
    const from = Date.UTC(2026, 2, 1);
    shares[channelId] = (
      await createShareLink(pool, secret, {
        channelId,
        from,
        to: from + 7 * 86_400_000,
        sections: ['overview'],
        ttlSeconds: 86_400,
        createdBy: null,
      })
    ).token;
    byChannel[channelId] = keyOf(
      await createApiKey(pool, { name: `owner ${i}`, scopes: ['read'], channels: [channelId] }),
    );
  }
  await acquireLeases(pool, { holder: 'collector-1', accountIds: [account.id], want: 100, ttlMs: 60_000 });
  await recordAccountLoad(pool, account.id, {
    budgetUsed: 0.5,
    channelsHeld: channels.length,
    channelsFresh: 0,
    staleChannels: [...channels],
    at: Date.now(),
  });
  const all = keyOf(await createApiKey(pool, { name: 'analyst', scopes: ['read'], channels: [...channels] }));
  return { accountId: account.id, keys: { all, byChannel }, shares };
}
