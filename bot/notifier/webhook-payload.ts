/**
 * What a webhook destination receives: the alert's words (the same as a
 * chat's, from message.ts) as Slack- or Discord-compatible JSON, and the
 * headers that let the receiver check it came from tgpulse and is fresh.
 *
 * The signature is HMAC-SHA256, keyed with the destination's secret, over
 * `{timestamp}.{raw body}`: the timestamp (Unix seconds, also sent in
 * `X-Tgpulse-Timestamp`) is signed too, so a receiver that refuses old
 * timestamps cannot be fed a captured request again. `X-Tgpulse-Delivery`
 * names the alert (anomaly and stage), the same on every attempt, for
 * receivers that deduplicate. Pure: no I/O, the time is given.
 */
import { createHmac } from 'node:crypto';
import type { AlertStage, WebhookFormat } from '../../control/index.ts';

/** Slack takes 3000 characters in a section, Discord 2000 in a message; alerts are far shorter. */
const MAX_TEXT = 1900;

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"' };

/**
 * The JSON body for `format` from an alert text in Telegram's HTML (message.ts):
 * bold and code become the destination's markdown. Slack wants `&`, `<` and `>`
 * escaped as in HTML, so those stay; Discord gets plain characters, and
 * `allowed_mentions` keeps any `@everyone` in the text from pinging anyone.
 */
export function webhookBody(format: WebhookFormat, html: string): string {
  if (format === 'slack') {
    const text = clip(
      html
        .replace(/<\/?b>/g, '*')
        .replace(/<\/?code>/g, '`')
        .replace(/&quot;/g, '"'),
    );
    return JSON.stringify({ text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] });
  }
  const content = clip(
    html
      .replace(/<\/?b>/g, '**')
      .replace(/<\/?code>/g, '`')
      .replace(/&(amp|lt|gt|quot);/g, (e) => ENTITIES[e]),
  );
  return JSON.stringify({ content, allowed_mentions: { parse: [] } });
}

function clip(text: string): string {
  return text.length <= MAX_TEXT ? text : `${text.slice(0, MAX_TEXT - 1)}…`;
}

/** `sha256=<hex>`: HMAC-SHA256 with `secret` over `{timestamp}.{body}`. */
export function webhookSignature(secret: string, timestampS: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestampS}.${body}`, 'utf8').digest('hex')}`;
}

/** The id of one alert to one destination: the same on every attempt and after a restart. */
export function deliveryId(anomalyId: string, stage: AlertStage): string {
  return `${anomalyId}:${stage}`;
}

/** The headers of one attempt, signed at `nowMs`. */
export function webhookHeaders(secret: string, body: string, delivery: string, nowMs: number): Record<string, string> {
  const timestamp = Math.floor(nowMs / 1000);
  return {
    'content-type': 'application/json',
    'user-agent': 'tgpulse-alerts',
    'x-tgpulse-delivery': delivery,
    'x-tgpulse-timestamp': String(timestamp),
    'x-tgpulse-signature': webhookSignature(secret, timestamp, body),
  };
}
