/**
 * Where an alert can go: a Telegram chat (through its subscription) or a
 * webhook. The notifier treats both alike — the same decision, the same
 * deliveries ledger keyed by {@link Destination.key}, the same "disable it
 * when it is gone" — and only the sending differs, which lives here.
 */
import type pg from 'pg';
import {
  type AlertStage,
  type AlertSubscription,
  disableChat,
  disableWebhook,
  redactWebhookUrl,
  type WebhookTarget,
} from '../../control/index.ts';
import type { Logger } from '../../observability/index.ts';
import type { AnomalyEvent } from '../../streams/contract/index.ts';
import type { AlertRules } from './decide.ts';
import { alertCaption, overviewButtonData, resolutionText } from './message.ts';
import { type AlertSender, ChatUnreachable } from './sender.ts';
import { deliveryId, webhookBody } from './webhook-payload.ts';
import { WebhookGone, type WebhookSender } from './webhook-sender.ts';

export interface Destination {
  /** Its key in the deliveries ledger: the chat id, or `webhook:<id>`. */
  key: string;
  rules: AlertRules;
  /**
   * Sends the alert (opened) or its resolution; returns the Telegram message
   * id a resolution replies to (null for a webhook).
   *
   * @throws {@link ChatUnreachable} or {@link WebhookGone} when the destination is gone (see {@link isGone}).
   */
  send(stage: AlertStage, replyTo: number | null): Promise<number | null>;
  /** Stops alerting a destination that is gone. */
  disable(err: ChatUnreachable | WebhookGone): Promise<void>;
}

/** Whether a send failed because its destination is gone for good. */
export function isGone(err: unknown): err is ChatUnreachable | WebhookGone {
  return err instanceof ChatUnreachable || err instanceof WebhookGone;
}

interface Context {
  event: AnomalyEvent;
  control: pg.Pool;
  log: Logger;
  /** Counts an outcome in `tgpulse_alerts_total`. */
  count: (outcome: string) => void;
}

/** A chat subscribed to the channel: a photo with a chart, the resolution as a reply. */
export function chatDestination(
  s: AlertSubscription,
  sender: AlertSender,
  chart: () => Promise<Buffer | null>,
  c: Context,
): Destination {
  const { event: e } = c;
  return {
    key: s.chatId,
    rules: s,
    async send(stage, replyTo) {
      if (stage === 'resolved')
        return (await sender.sendText(s.chatId, resolutionText(e.channel_id, e.data), replyTo)).messageId;
      const keyboard = {
        inline_keyboard: [[{ text: 'Channel overview', callback_data: overviewButtonData(e.channel_id) }]],
      };
      return (await sender.sendAlert(s.chatId, await chart(), alertCaption(e.channel_id, e.data), keyboard)).messageId;
    },
    async disable(err) {
      const n = await disableChat(c.control, s.chatId, err.reason);
      c.count('chat_disabled');
      c.log.warn(
        { chatId: s.chatId, reason: err.reason, subscriptions: n },
        'chat unreachable: its alert subscriptions are disabled',
      );
    },
  };
}

/** A webhook: the same words as JSON in its format, signed; a resolution is a message of its own. */
export function webhookDestination(w: WebhookTarget, sender: WebhookSender, c: Context): Destination {
  const { event: e } = c;
  return {
    key: w.key,
    rules: { ...w, quiet: null, timeZone: 'UTC' },
    async send(stage) {
      const text = stage === 'opened' ? alertCaption(e.channel_id, e.data) : resolutionText(e.channel_id, e.data);
      await sender.post(w, webhookBody(w.format, text), deliveryId(e.data.anomaly_id, stage));
      return null;
    },
    async disable(err) {
      await disableWebhook(c.control, w.id, err.reason);
      c.count('webhook_disabled');
      c.log.warn(
        { webhook: w.id, to: redactWebhookUrl(w.url), reason: err.reason },
        'webhook gone or refusing: it is disabled (add it again to re-enable)',
      );
    },
  };
}
