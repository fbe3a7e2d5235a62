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
export { botUserSalt, hashBotUserId } from './bot-user-hash.ts';
export { dumpControl, loadControl } from './dump.ts';
export { loadControlMigrations } from './migrate.ts';
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
  wasOpeningHandled,
  recordDelivery,
  recordOpeningHandled,
  removeSubscription,
  removeUserSubscriptions,
  revokeGrant,
  sentInLastHour,
  upsertBotUser,
  upsertSubscription,
} from './bot-store.ts';
export { eraseChannelFromControl, lastForgotten } from './channel-erasure.ts';
export {
  type AlertWebhook,
  addWebhook,
  channelWebhooks,
  disableWebhook,
  listWebhooks,
  redactWebhookUrl,
  removeWebhook,
  WEBHOOK_FORMATS,
  type WebhookFormat,
  type WebhookTarget,
} from './webhooks.ts';
export {
  activeDigests,
  chatDigests,
  claimDigest,
  type DigestCadence,
  digestClaimed,
  type DigestPeriodKey,
  type DigestSubscription,
  releaseDigest,
  removeDigests,
  settleDigest,
  upsertDigest,
} from './digests.ts';
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
export {
  pendingTrackRequests,
  requestTracking,
  settleTrackRequests,
  type TrackRequest,
  userTrackRequests,
} from './track-requests.ts';
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
  channelNames,
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
