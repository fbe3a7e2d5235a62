/**
 * What the notifier does with one anomaly event for one subscription, as a
 * pure function of what it knows: the subscription, what was already decided
 * for this anomaly and destination (a chat or a webhook), and how many alerts
 * it got in the last hour. The notifier records every decision, so a redelivered event finds its
 * earlier decision and nothing is sent twice.
 */
import type { AlertDelivery, AlertStage, AlertSubscription, DeliveryOutcome } from '../../control/index.ts';
import type { Anomaly, Severity } from '../../streams/contract/index.ts';

const RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

export type Decision =
  /** Send the alert (opened) or the resolution (resolved, as a reply to the alert). */
  | { action: 'send'; stage: AlertStage; replyTo: number | null }
  /** Deliberately not sent (filters, quiet hours, the hourly cap); recorded so it is not reconsidered. */
  | { action: 'skip'; stage: AlertStage; outcome: Exclude<DeliveryOutcome, 'sent'> }
  /** Nothing to do and nothing to record. */
  | { action: 'ignore'; why: 'updated' | 'duplicate' | 'not_alerted' | 'subscribed_later' }
  /**
   * A resolution that may have overtaken its opening: come back later. The
   * opening can still be on its way when a notifier died holding it (it is
   * redelivered only after the ack wait) while its successor already reads
   * the resolution behind it.
   */
  | { action: 'wait' };

/**
 * What a decision reads of a destination's subscription: a chat's, or a
 * webhook's (which is never quiet).
 */
export type AlertRules = Pick<AlertSubscription, 'metrics' | 'minSeverity' | 'quiet' | 'timeZone' | 'maxPerHour'>;

export interface DecisionInput {
  anomaly: Anomaly;
  subscription: AlertRules;
  /** The earlier decision for this anomaly, chat and the event's stage. */
  prior: AlertDelivery | null;
  /** For a resolution: the decision made when it opened. */
  opened: AlertDelivery | null;
  sentLastHour: number;
  now: number;
  /**
   * Whether the notifier has handled the anomaly's opening for every
   * destination it had then: a destination with no decision on it subscribed
   * later, and neither a replayed opening nor the resolution is news to it.
   */
  openingHandled: boolean;
  /**
   * Whether a resolution whose opening is not handled may still wait for it
   * (false once it has waited its longest: an opening from before the
   * handled openings were recorded never will be).
   */
  mayWait: boolean;
}

export function decide(x: DecisionInput): Decision {
  const { anomaly: a, subscription: s } = x;
  if (a.state === 'updated') return { action: 'ignore', why: 'updated' };
  const stage: AlertStage = a.state;
  if (x.prior !== null) return { action: 'ignore', why: 'duplicate' };
  if (stage === 'resolved') {
    // A resolution is news only to a chat that was told of the anomaly.
    // No decision on the opening (filtered openings are recorded too) and the opening not handled at all: it is
    // still on its way, held by a notifier that died (it comes back after an ack wait, per kill).
    if (x.opened === null && !x.openingHandled && x.mayWait) return { action: 'wait' };
    if (x.opened?.outcome !== 'sent') return { action: 'ignore', why: 'not_alerted' };
    return { action: 'send', stage, replyTo: x.opened.messageId };
  }
  if (x.openingHandled) return { action: 'ignore', why: 'subscribed_later' };
  if (RANK[a.severity] < RANK[s.minSeverity] || (s.metrics !== null && !s.metrics.includes(a.metric)))
    return { action: 'skip', stage, outcome: 'skipped_filter' };
  if (s.quiet !== null && inQuietHours(s.quiet, s.timeZone, x.now))
    return { action: 'skip', stage, outcome: 'skipped_quiet' };
  if (x.sentLastHour >= s.maxPerHour) return { action: 'skip', stage, outcome: 'skipped_cap' };
  return { action: 'send', stage, replyTo: null };
}

/** Is `now` within [from, to) hours in `timeZone`? A window may wrap midnight (22 → 7). */
export function inQuietHours(quiet: { from: number; to: number }, timeZone: string, now: number): boolean {
  const hour = Number(
    new Intl.DateTimeFormat('en-GB', { hour: '2-digit', hourCycle: 'h23', timeZone }).format(new Date(now)),
  );
  if (quiet.from === quiet.to) return false;
  return quiet.from < quiet.to ? hour >= quiet.from && hour < quiet.to : hour >= quiet.from || hour < quiet.to;
}
