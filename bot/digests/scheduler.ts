/**
 * The digest loop of the bot role: every minute it looks at each digest
 * subscription whose subscriber may still see the channel, works out the
 * latest period due in its time zone (period.ts), and sends that period's
 * digest unless the ledger has it already.
 *
 * Exactly once per period, as far as Telegram allows: a period is claimed in
 * the ledger (a unique row per subscription and period) before it is sent, so
 * a restart, a second pass or a second bot process never sends it again. The
 * crash window between the claim and Telegram's answer is taken on the side
 * of at most once: a digest claimed and then lost to a crash is skipped (its
 * row stays `claimed`), never repeated, because a repeated summary is spam
 * while a missed one is covered by the next. The digest is built (figures and
 * chart) before the claim, so the window holds the send alone. A send that
 * Telegram refused for a while (429, 5xx) gives the claim back and is tried
 * again on the next pass; a chat the bot can no longer write to loses its
 * digests. Periods due before a subscription was made are never sent, and
 * after a long outage only the latest period goes out, not every one missed.
 */
import { GrammyError, type Api } from 'grammy';
import type { InlineKeyboardMarkup } from 'grammy/types';
import type { Pool } from 'pg';
import type { Warehouse } from '../../clickhouse/index.ts';
import { MINUTE_MS, sleep } from '../../common/index.ts';
import {
  activeDigests,
  claimDigest,
  digestClaimed,
  type DigestPeriodKey,
  type DigestSubscription,
  isControlPlaneDown,
  releaseDigest,
  removeDigests,
  settleDigest,
} from '../../control/index.ts';
import type { Logger } from '../../observability/index.ts';
import { overviewButtonData } from '../notifier/message.ts';
import { AlertSender, ChatUnreachable } from '../notifier/sender.ts';
import { buildDigest } from './message.ts';
import { latestDigest } from './period.ts';

export interface DigestSchedulerOptions {
  control: Pool;
  warehouse: Warehouse;
  api: Api;
  log: Logger;
  /** Stops the loop (the bot role's shutdown). */
  signal: AbortSignal;
  /** Messages per second at most, as the notifier's (TGPULSE_BOT_MAX_SENDS_PER_S). */
  maxSendsPerSecond: number;
  /** The clock periods are due by (tests pin it). Default Date.now. */
  now?: () => number;
  /** Pause between passes. Default one minute. */
  tickMs?: number;
  /** Told after every pass (tests wait for one). */
  onPass?: (pass: DigestPass) => void;
}

/** What one pass did. */
export interface DigestPass {
  sent: number;
  /** Claimed, then not sent for good (chat unreachable, Telegram refused, unknown whether sent). */
  failed: number;
  /** Not sent this time, to be tried again on the next pass (warehouse or Telegram unavailable). */
  retry: number;
}

/** What happened to one subscription in a pass; `none` when nothing was due. */
type Outcome = keyof DigestPass | 'none';

/** A button under a digest that opens the channel's 7-day overview. */
function overviewButton(channelId: string): InlineKeyboardMarkup {
  return { inline_keyboard: [[{ text: 'Overview, last 7 days', callback_data: overviewButtonData(channelId) }]] };
}

/**
 * Sends due digests until `signal` aborts. A pass that fails as a whole
 * (Postgres not answering) is logged and the next one tries again.
 *
 * @example
 * await runDigests({ control: pool, warehouse, api: bot.api, log, signal, maxSendsPerSecond: 25 });
 */
export async function runDigests(opts: DigestSchedulerOptions): Promise<void> {
  const sender = new AlertSender(opts.api, {
    maxPerSecond: opts.maxSendsPerSecond,
    signal: opts.signal,
    log: opts.log,
  });
  const log = opts.log.child({ component: 'digests' });
  while (!opts.signal.aborted) {
    const pass: DigestPass = { sent: 0, failed: 0, retry: 0 };
    try {
      for (const sub of await activeDigests(opts.control)) {
        if (opts.signal.aborted) break;
        const outcome = await deliver(opts, sender, log, sub);
        if (outcome !== 'none') pass[outcome]++;
      }
    } catch (err) {
      if (isControlPlaneDown(err)) log.warn({ err }, 'digests: the control plane did not answer; next pass retries');
      else log.error({ err }, 'digests: a pass failed; next pass retries');
    }
    opts.onPass?.(pass);
    await sleep(opts.tickMs ?? MINUTE_MS, opts.signal);
  }
}

/** Sends one subscription's latest due period, if the ledger does not have it yet. */
async function deliver(
  opts: DigestSchedulerOptions,
  sender: AlertSender,
  log: Logger,
  sub: DigestSubscription,
): Promise<Outcome> {
  const period = latestDigest(sub.cadence, sub.timeZone, (opts.now ?? Date.now)());
  if (period.sendAt < sub.createdAt) return 'none';
  const key = { subscriptionId: sub.id, periodStart: period.from };
  if (await digestClaimed(opts.control, key)) return 'none';
  let content: Awaited<ReturnType<typeof buildDigest>>;
  try {
    content = await buildDigest(opts.warehouse, sub, period);
  } catch (err) {
    // Nothing is claimed yet: the next pass builds it again.
    log.warn({ err, ...where(sub, key) }, 'digests: reading the figures failed; next pass retries');
    return 'retry';
  }
  if (!(await claimDigest(opts.control, { ...key, channelId: sub.channelId, chatId: sub.chatId }))) return 'none';
  let messageId: number;
  try {
    ({ messageId } = await sender.sendAlert(sub.chatId, content.png, content.caption, overviewButton(sub.channelId)));
  } catch (err) {
    return refused(opts, log, sub, key, err);
  }
  // Should this write fail, the row stays `claimed`: the period is not sent again either way.
  await settleDigest(opts.control, key, { status: 'sent', messageId });
  log.info({ ...where(sub, key), messageId }, 'digests: sent');
  return 'sent';
}

function where(sub: DigestSubscription, key: DigestPeriodKey): Record<string, unknown> {
  return { subscription: sub.id, chatId: sub.chatId, channelId: sub.channelId, periodStart: key.periodStart };
}

/** A claimed digest Telegram did not take: try again, drop the chat, or skip the period. */
async function refused(
  opts: DigestSchedulerOptions,
  log: Logger,
  sub: DigestSubscription,
  key: DigestPeriodKey,
  err: unknown,
): Promise<Outcome> {
  if (err instanceof ChatUnreachable) {
    await settleDigest(opts.control, key, { status: 'failed', reason: err.reason });
    const removed = await removeDigests(opts.control, { chatId: sub.chatId, channelId: null, by: 'digests' });
    log.warn({ ...where(sub, key), reason: err.reason, removed }, 'digests: chat unreachable; its digests are removed');
    return 'failed';
  }
  if (err instanceof GrammyError && (err.error_code === 429 || err.error_code >= 500)) {
    // Telegram answered that it did not take it: not sent, so the claim goes back.
    await releaseDigest(opts.control, key);
    log.warn({ ...where(sub, key), code: err.error_code }, 'digests: Telegram refused for now; next pass retries');
    return 'retry';
  }
  // Refused for good, or no answer (it may have gone out): at most once, so it stays claimed.
  const reason = err instanceof Error ? err.message : String(err);
  await settleDigest(opts.control, key, { status: 'failed', reason });
  log.error({ err, ...where(sub, key) }, 'digests: sending failed; this period is skipped');
  return 'failed';
}
