/**
 * Webhook alert destinations: a subscription to a channel's alerts that posts
 * them to a URL (Slack- or Discord-compatible JSON) instead of a Telegram
 * chat. Each has its own HMAC-SHA256 signing secret, made here at creation and
 * handed to the creator once. The notifier records its decisions in the same
 * deliveries ledger as a chat's, under {@link webhookKey}, so dedup, the
 * hourly cap and "disable when gone" work the same way.
 *
 * ```ts
 * const { webhook, secret } = await addWebhook(pool, { url: 'https://hooks.slack.com/services/…', channelId: '1001', createdBy: 'cli' });
 * ```
 */
import type { Pool } from 'pg';
import { SEVERITIES, type Severity } from '../streams/contract/index.ts';
import { audit } from './audit.ts';
import { newSecret } from './crypto.ts';
import { epochMs, withTransaction } from './db.ts';
import { ControlError } from './errors.ts';
import { checkChannelId, checkInteger } from './validate.ts';

/** The JSON a destination takes: Slack's `{"text", "blocks"}` or Discord's `{"content"}`. */
export const WEBHOOK_FORMATS = ['slack', 'discord'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

/** A webhook destination as listed; its secret is not part of it. */
export interface AlertWebhook {
  id: number;
  /** Its key in the deliveries ledger (where a chat has its chat id). */
  key: string;
  url: string;
  format: WebhookFormat;
  channelId: string;
  /** null = every metric. */
  metrics: string[] | null;
  minSeverity: Severity;
  maxPerHour: number;
  enabled: boolean;
  disabledReason: string | null;
  createdAt: number;
}

/** What the notifier needs to post to a destination: the destination and the key it signs with. */
export interface WebhookTarget extends AlertWebhook {
  secret: string;
}

export interface NewAlertWebhook {
  url: string;
  channelId: string;
  /** Default: Discord's for a discord.com URL, Slack's otherwise. */
  format?: WebhookFormat;
  metrics?: string[] | null;
  minSeverity?: Severity;
  maxPerHour?: number;
  /** Audit actor: `cli`, a bot user id. */
  createdBy: string;
}

/** The deliveries-ledger key of webhook `id` (chat ids are digits, so the two never meet). */
export function webhookKey(id: number): string {
  return `webhook:${id}`;
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/**
 * Checks a destination URL: https, or plain http to a loopback address only
 * (a local receiver, tests); no user or password in it (the signature
 * authenticates tgpulse to the receiver, and URLs end up in listings).
 * Returns it normalized, without a fragment.
 */
export function checkWebhookUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new ControlError('url', 'expected an absolute URL such as https://hooks.slack.com/services/…');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.test(url.hostname)))
    throw new ControlError('url', `expected an https URL (http only to localhost), got ${url.protocol}`);
  if (url.username !== '' || url.password !== '')
    throw new ControlError('url', 'expected no user or password in the URL: the signature authenticates tgpulse');
  url.hash = '';
  const text = url.toString();
  if (text.length > 2048) throw new ControlError('url', `expected at most 2048 characters, got ${text.length}`);
  return text;
}

/** The format a URL most likely takes: Discord's for Discord's hosts, Slack's (the common one) otherwise. */
export function webhookFormatFor(url: string): WebhookFormat {
  return /(^|\.)(discord|discordapp)\.com$/i.test(new URL(url).hostname) ? 'discord' : 'slack';
}

/**
 * The URL for logs and listings: Slack and Discord put the destination's
 * credential in the path, so only the origin and the first path segment show.
 */
export function redactWebhookUrl(url: string): string {
  try {
    const u = new URL(url);
    const first = u.pathname.split('/').filter((s) => s !== '')[0];
    return first === undefined ? u.origin : `${u.origin}/${first}/…`;
  } catch {
    return '<unparsable URL>';
  }
}

interface WebhookRow {
  id: string;
  url: string;
  format: WebhookFormat;
  secret: string;
  channel_id: string;
  metrics: string[] | null;
  min_severity: Severity;
  max_per_hour: number;
  enabled: boolean;
  disabled_reason: string | null;
  created_at: Date;
}

const COLUMNS =
  'id, url, format, secret, channel_id, metrics, min_severity, max_per_hour, enabled, disabled_reason, created_at';

function webhookOf(r: WebhookRow): AlertWebhook {
  const id = Number(r.id);
  return {
    id,
    key: webhookKey(id),
    url: r.url,
    format: r.format,
    channelId: r.channel_id,
    metrics: r.metrics,
    minSeverity: r.min_severity,
    maxPerHour: r.max_per_hour,
    enabled: r.enabled,
    disabledReason: r.disabled_reason,
    createdAt: epochMs(r.created_at),
  };
}

/**
 * Adds a webhook destination for a channel's alerts, or replaces the rules of
 * the one with the same URL and channel (re-enabling it and keeping its id, so
 * its deliveries stay deduplicated). Either way it gets a new signing secret,
 * returned here and nowhere else.
 *
 * @throws ControlError naming the field (`url`, `channelId`, `format`, …) that is invalid.
 */
export async function addWebhook(pool: Pool, w: NewAlertWebhook): Promise<{ webhook: AlertWebhook; secret: string }> {
  const url = checkWebhookUrl(w.url);
  const channelId = checkChannelId('channelId', w.channelId);
  const format = w.format ?? webhookFormatFor(url);
  if (!WEBHOOK_FORMATS.includes(format))
    throw new ControlError('format', `expected one of ${WEBHOOK_FORMATS.join(', ')}, got ${JSON.stringify(format)}`);
  const minSeverity = w.minSeverity ?? 'warning';
  if (!SEVERITIES.includes(minSeverity))
    throw new ControlError(
      'minSeverity',
      `expected one of ${SEVERITIES.join(', ')}, got ${JSON.stringify(minSeverity)}`,
    );
  if (w.metrics != null && (w.metrics.length === 0 || w.metrics.some((m) => !/^[a-z_]{1,40}$/.test(m))))
    throw new ControlError('metrics', 'expected metric names like views or subscribers_lost');
  const maxPerHour = checkInteger('maxPerHour', w.maxPerHour ?? 10, 1, 1000);
  const secret = `whsec_${newSecret()}`;
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<WebhookRow>(
      `INSERT INTO alert_webhooks (url, format, secret, channel_id, metrics, min_severity, max_per_hour, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (url, channel_id) DO UPDATE SET format = EXCLUDED.format, secret = EXCLUDED.secret,
         metrics = EXCLUDED.metrics, min_severity = EXCLUDED.min_severity, max_per_hour = EXCLUDED.max_per_hour,
         enabled = true, disabled_reason = NULL
       RETURNING ${COLUMNS}`,
      [url, format, secret, channelId, w.metrics ?? null, minSeverity, maxPerHour, w.createdBy],
    );
    const webhook = webhookOf(rows[0]);
    // The URL is a credential of the destination: the audit log names the webhook, not where it points.
    await audit(client, {
      actor: w.createdBy,
      action: 'alert_webhook.upsert',
      target: `${webhook.key}/${channelId}`,
      details: { format, host: new URL(url).host },
    });
    return { webhook, secret };
  });
}

/** Every webhook destination (enabled or not), by id. */
export async function listWebhooks(pool: Pool): Promise<AlertWebhook[]> {
  const { rows } = await pool.query<WebhookRow>(`SELECT ${COLUMNS} FROM alert_webhooks ORDER BY id`);
  return rows.map(webhookOf);
}

/** The enabled webhook destinations of a channel's alerts, with their signing secrets. */
export async function channelWebhooks(pool: Pool, channelId: string): Promise<WebhookTarget[]> {
  const { rows } = await pool.query<WebhookRow>(
    `SELECT ${COLUMNS} FROM alert_webhooks WHERE channel_id = $1 AND enabled ORDER BY id`,
    [channelId],
  );
  return rows.map((r) => ({ ...webhookOf(r), secret: r.secret }));
}

/** Removes a webhook destination; false when there was none. Its past deliveries stay in the ledger. */
export async function removeWebhook(pool: Pool, id: number, by: { actor: string }): Promise<boolean> {
  return withTransaction(pool, async (client) => {
    const { rowCount } = await client.query('DELETE FROM alert_webhooks WHERE id = $1', [id]);
    if (rowCount) await audit(client, { actor: by.actor, action: 'alert_webhook.remove', target: webhookKey(id) });
    return (rowCount ?? 0) > 0;
  });
}

/** Stops posting to a destination that is gone (404, 410) or refuses tgpulse (401, 403). */
export async function disableWebhook(pool: Pool, id: number, reason: string): Promise<boolean> {
  return withTransaction(pool, async (client) => {
    const { rowCount } = await client.query(
      'UPDATE alert_webhooks SET enabled = false, disabled_reason = $2 WHERE id = $1 AND enabled',
      [id, reason],
    );
    await audit(client, {
      actor: 'notifier',
      action: 'alert_webhook.disable',
      target: webhookKey(id),
      details: { reason },
    });
    return (rowCount ?? 0) > 0;
  });
}
