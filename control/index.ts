/**
 * The Postgres control plane: API keys, share links, the bot's users and subscriptions, MTProto
 * accounts, tracked channels, collector leases, audit.
 */
export {
  type ApiKey,
  type ApiScope,
  createApiKey,
  listApiKeys,
  revokeApiKey,
  touchApiKey,
  verifyApiKey,
} from './api-keys.ts';
export { audit } from './audit.ts';
export {
  type AlertDelivery,
  type AlertStage,
  type AlertSubscription,
  channelSubscriptions,
  chatSubscriptions,
  deliveryOf,
  type DeliveryOutcome,
  disableChat,
  grantChannel,
  grantedChannels,
  recordDelivery,
  removeSubscription,
  removeUserSubscriptions,
  revokeGrant,
  sentInLastHour,
  upsertBotUser,
  upsertSubscription,
} from './bot-store.ts';
export {
  forgetMembership,
  membershipCount,
  recordAccountLoad,
  recordMembership,
  refuseJoins,
} from './channel-memberships.ts';
export { acquireLeases, moveLeases, releaseLeases } from './collector-leases.ts';
export type { ControlConfig } from './config.ts';
export { ControlError } from './errors.ts';
export {
  accountSession,
  addAccount,
  checkProxy,
  getAccount,
  listAccounts,
  type MtprotoAccount,
  recordAccountHealth,
  redactProxy,
  removeAccount,
  setAccountProxy,
  setAccountStatus,
} from './mtproto-accounts.ts';
export { type ControlPlane, openControlPlane } from './postgres.ts';
export { decryptSession, encryptSession, parseSessionKey } from './session-crypto.ts';
export { isControlPlaneDown } from './unavailable.ts';
export {
  createShareLink,
  findShareLink,
  resolveShareToken,
  revokeShareLink,
  SHARE_SECTIONS,
  SHARE_TTL_SECONDS,
  shareSecret,
} from './share-links.ts';
export {
  type ChannelFacts,
  findChannel,
  listChannels,
  removeChannel,
  saveBackfillCursor,
  saveLastPostId,
  savePts,
  setBackfillFrom,
  setChannelStatus,
  type TrackedChannel,
  updateChannelFacts,
  upsertChannel,
} from './tracked-channels.ts';
