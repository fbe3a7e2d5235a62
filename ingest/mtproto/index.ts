/**
 * The MTProto collectors (gramjs): accounts, resolving channels, live updates, history,
 * statistics, and the schedule that paces them.
 */
export { Collector, emitVia } from './collector.ts';
export {
  apiCredentials,
  DEFAULT_MTPROTO_CONFIG,
  type MtprotoConfig,
  freshnessUpTo,
  parseFreshness,
  sessionKeyOf,
} from './config.ts';
export type { BackfillProgress } from './history.ts';
export { CollectorMetrics } from './metrics.ts';
export { ChannelResolveError, parseChannelRef, resolveChannel } from './resolve.ts';
export { type ConnectTelegram, openAccounts, openTelegramClient } from './telegram-client.ts';
export type { JobContext } from './work.ts';
