/**
 * The bot's part of the control plane: its users, who may see which
 * channel, alert subscriptions, and the notifier's record of what it decided
 * for each anomaly and chat (which makes alerts idempotent).
 */
import type { Pool } from 'pg';
import { SEVERITIES, type Severity } from '../streams/contract/index.ts';
import { audit } from './audit.ts';
import { epochMs, withTransaction } from './db.ts';
import { ControlError } from './errors.ts';
import { checkChannelId, checkInteger } from './validate.ts';

const TELEGRAM_ID = /^-?[0-9]{1,20}$/;

function checkTelegramId(field: string, value: string): string {
  if (!TELEGRAM_ID.test(value))
    throw new ControlError(field, `expected a Telegram id of decimal digits, got ${JSON.stringify(value)}`);
  return value;
}

// ---- users and grants ------------------------------------------------------------------------

export interface BotUser {
  userId: string;
  username: string | null;
  isAdmin: boolean;
}

/** Remember a user (first contact) and keep their username current; `admin` promotes (never demotes). */
export async function upsertBotUser(
  pool: Pool,
  u: { userId: string; username: string | null; admin?: boolean },
): Promise<BotUser> {
  const { rows } = await pool.query<{ user_id: string; username: string | null; is_admin: boolean }>(
    `INSERT INTO bot_users (user_id, username, is_admin) VALUES ($1, $2, $3)
     ON CONFLICT (user_id) DO UPDATE SET username = EXCLUDED.username, is_admin = bot_users.is_admin OR EXCLUDED.is_admin
     RETURNING user_id, username, is_admin`,
    [checkTelegramId('userId', u.userId), u.username, u.admin === true],
  );
  return { userId: rows[0].user_id, username: rows[0].username, isAdmin: rows[0].is_admin };
}

export type GrantVia = 'admin' | 'proof';

/** Let a user see a channel through the bot. Idempotent. */
export async function grantChannel(
  pool: Pool,
  g: { userId: string; channelId: string; via: GrantVia; grantedBy: string | null },
): Promise<void> {
  const userId = checkTelegramId('userId', g.userId);
  const channelId = checkChannelId('channelId', g.channelId);
  await withTransaction(pool, async (client) => {
    await client.query(
      `INSERT INTO channel_grants (user_id, channel_id, via, granted_by) VALUES ($1, $2, $3, $4)
       ON CONFLICT (user_id, channel_id) DO NOTHING`,
      [userId, channelId, g.via, g.grantedBy],
    );
    await audit(client, {
      actor: g.grantedBy === null ? `bot_user:${userId}` : `bot_user:${g.grantedBy}`,
      action: 'grant.create',
      target: `${userId}/${channelId}`,
      details: { via: g.via },
    });
  });
}

/** Take a grant back; false when there was none. */
export async function revokeGrant(pool: Pool, g: { userId: string; channelId: string; by: string }): Promise<boolean> {
  return withTransaction(pool, async (client) => {
    const { rowCount } = await client.query('DELETE FROM channel_grants WHERE user_id = $1 AND channel_id = $2', [
      g.userId,
      g.channelId,
    ]);
    if (rowCount)
      await audit(client, { actor: `bot_user:${g.by}`, action: 'grant.revoke', target: `${g.userId}/${g.channelId}` });
    return (rowCount ?? 0) > 0;
  });
}

/** Channels a user may see, sorted. */
export async function grantedChannels(pool: Pool, userId: string): Promise<string[]> {
  const { rows } = await pool.query<{ channel_id: string }>(
    'SELECT channel_id FROM channel_grants WHERE user_id = $1 ORDER BY channel_id',
    [userId],
  );
  return rows.map((r) => r.channel_id);
}

// ---- alert subscriptions ---------------------------------------------------------------------

export interface AlertSubscription {
  id: number;
  chatId: string;
  channelId: string;
  /** null = every metric. */
  metrics: string[] | null;
  minSeverity: Severity;
  /** Quiet hours [from, to) in `timeZone`; null = never quiet. */
  quiet: { from: number; to: number } | null;
  timeZone: string;
  maxPerHour: number;
  enabled: boolean;
  disabledReason: string | null;
}

export interface NewAlertSubscription {
  chatId: string;
  channelId: string;
  metrics?: string[] | null;
  minSeverity?: Severity;
  quiet?: { from: number; to: number } | null;
  timeZone?: string;
  maxPerHour?: number;
  createdBy: string | null;
}

interface SubscriptionRow {
  id: string;
  chat_id: string;
  channel_id: string;
  metrics: string[] | null;
  min_severity: Severity;
  quiet_from: number | null;
  quiet_to: number | null;
  time_zone: string;
  max_per_hour: number;
  enabled: boolean;
  disabled_reason: string | null;
}

const SUBSCRIPTION_COLUMNS =
  'id, chat_id, channel_id, metrics, min_severity, quiet_from, quiet_to, time_zone, max_per_hour, enabled, disabled_reason';

function subscriptionOf(r: SubscriptionRow): AlertSubscription {
  return {
    id: Number(r.id),
    chatId: r.chat_id,
    channelId: r.channel_id,
    metrics: r.metrics,
    minSeverity: r.min_severity,
    quiet: r.quiet_from === null || r.quiet_to === null ? null : { from: r.quiet_from, to: r.quiet_to },
    timeZone: r.time_zone,
    maxPerHour: r.max_per_hour,
    enabled: r.enabled,
    disabledReason: r.disabled_reason,
  };
}

/** Create or replace the subscription of a chat to a channel (re-enabling it). */
export async function upsertSubscription(pool: Pool, s: NewAlertSubscription): Promise<AlertSubscription> {
  const chatId = checkTelegramId('chatId', s.chatId);
  const channelId = checkChannelId('channelId', s.channelId);
  const minSeverity = s.minSeverity ?? 'warning';
  if (!SEVERITIES.includes(minSeverity))
    throw new ControlError('minSeverity', `expected one of ${SEVERITIES.join(', ')}`);
  if (s.metrics != null && (s.metrics.length === 0 || s.metrics.some((m) => !/^[a-z_]{1,40}$/.test(m)))) {
    throw new ControlError('metrics', 'expected metric names like views or subscribers_lost');
  }
  const quiet = s.quiet ?? null;
  if (quiet) {
    checkInteger('quiet.from', quiet.from, 0, 23);
    checkInteger('quiet.to', quiet.to, 0, 23);
  }
  const maxPerHour = checkInteger('maxPerHour', s.maxPerHour ?? 10, 1, 1000);
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<SubscriptionRow>(
      `INSERT INTO alert_subscriptions (chat_id, channel_id, metrics, min_severity, quiet_from, quiet_to, time_zone, max_per_hour, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (chat_id, channel_id) DO UPDATE SET metrics = EXCLUDED.metrics, min_severity = EXCLUDED.min_severity,
         quiet_from = EXCLUDED.quiet_from, quiet_to = EXCLUDED.quiet_to, time_zone = EXCLUDED.time_zone,
         max_per_hour = EXCLUDED.max_per_hour, enabled = true, disabled_reason = NULL
       RETURNING ${SUBSCRIPTION_COLUMNS}`,
      [
        chatId,
        channelId,
        s.metrics ?? null,
        minSeverity,
        quiet?.from ?? null,
        quiet?.to ?? null,
        s.timeZone ?? 'UTC',
        maxPerHour,
        s.createdBy,
      ],
    );
    await audit(client, {
      actor: s.createdBy === null ? 'system' : `bot_user:${s.createdBy}`,
      action: 'alert_subscription.upsert',
      target: `${chatId}/${channelId}`,
    });
    return subscriptionOf(rows[0]);
  });
}

/** A chat's subscriptions (enabled or not), by channel. */
export async function chatSubscriptions(pool: Pool, chatId: string): Promise<AlertSubscription[]> {
  const { rows } = await pool.query<SubscriptionRow>(
    `SELECT ${SUBSCRIPTION_COLUMNS} FROM alert_subscriptions WHERE chat_id = $1 ORDER BY channel_id`,
    [chatId],
  );
  return rows.map(subscriptionOf);
}

/** The enabled subscriptions to a channel. */
export async function channelSubscriptions(pool: Pool, channelId: string): Promise<AlertSubscription[]> {
  const { rows } = await pool.query<SubscriptionRow>(
    `SELECT ${SUBSCRIPTION_COLUMNS} FROM alert_subscriptions WHERE channel_id = $1 AND enabled ORDER BY chat_id`,
    [channelId],
  );
  return rows.map(subscriptionOf);
}

/** Remove a chat's subscription to a channel; false when there was none. */
export async function removeSubscription(pool: Pool, chatId: string, channelId: string): Promise<boolean> {
  const { rowCount } = await pool.query('DELETE FROM alert_subscriptions WHERE chat_id = $1 AND channel_id = $2', [
    chatId,
    channelId,
  ]);
  return (rowCount ?? 0) > 0;
}

/**
 * Remove the subscriptions to a channel that a user set up, and that of their
 * private chat (its id is their user id): once their access to the channel is
 * revoked, no alert about it may reach them through a subscription of theirs.
 * Returns how many were removed.
 */
export async function removeUserSubscriptions(
  pool: Pool,
  u: { userId: string; channelId: string; by: string },
): Promise<number> {
  return withTransaction(pool, async (client) => {
    const { rowCount } = await client.query(
      'DELETE FROM alert_subscriptions WHERE channel_id = $2 AND (chat_id = $1 OR created_by = $1)',
      [u.userId, u.channelId],
    );
    if (rowCount)
      await audit(client, {
        actor: `bot_user:${u.by}`,
        action: 'alert_subscription.remove',
        target: `${u.userId}/${u.channelId}`,
        details: { removed: rowCount },
      });
    return rowCount ?? 0;
  });
}

/** Stop alerting a chat the bot can no longer write to (blocked, deleted, kicked). */
export async function disableChat(pool: Pool, chatId: string, reason: string): Promise<number> {
  return withTransaction(pool, async (client) => {
    const { rowCount } = await client.query(
      'UPDATE alert_subscriptions SET enabled = false, disabled_reason = $2 WHERE chat_id = $1 AND enabled',
      [chatId, reason],
    );
    await audit(client, {
      actor: 'notifier',
      action: 'alert_subscription.disable',
      target: chatId,
      details: { reason },
    });
    return rowCount ?? 0;
  });
}

// ---- deliveries ------------------------------------------------------------------------------

export type AlertStage = 'opened' | 'resolved';
export type DeliveryOutcome =
  | 'sent'
  | 'skipped_quiet'
  | 'skipped_cap'
  | 'skipped_disabled'
  | 'skipped_filter'
  /** A webhook refused the alert for good (a 4xx such as 400 or 413, or a redirect). */
  | 'skipped_rejected';

export interface AlertDelivery {
  anomalyId: string;
  chatId: string;
  stage: AlertStage;
  outcome: DeliveryOutcome;
  messageId: number | null;
  channelId: string;
  at: number;
}

/** What was decided for one anomaly, chat and stage, if anything. */
export async function deliveryOf(
  pool: Pool,
  anomalyId: string,
  chatId: string,
  stage: AlertStage,
): Promise<AlertDelivery | null> {
  const { rows } = await pool.query<{
    outcome: DeliveryOutcome;
    message_id: string | null;
    channel_id: string;
    at: Date;
  }>(
    'SELECT outcome, message_id, channel_id, at FROM alert_deliveries WHERE anomaly_id = $1 AND chat_id = $2 AND stage = $3',
    [anomalyId, chatId, stage],
  );
  if (rows.length === 0) return null;
  const r = rows[0];
  return {
    anomalyId,
    chatId,
    stage,
    outcome: r.outcome,
    messageId: r.message_id === null ? null : Number(r.message_id),
    channelId: r.channel_id,
    at: epochMs(r.at),
  };
}

/** Record a decision; a second record of the same anomaly, chat and stage is ignored (returns false). */
export async function recordDelivery(pool: Pool, d: Omit<AlertDelivery, 'at'> & { at?: number }): Promise<boolean> {
  const { rowCount } = await pool.query(
    `INSERT INTO alert_deliveries (anomaly_id, chat_id, stage, outcome, message_id, channel_id, at)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
    [d.anomalyId, d.chatId, d.stage, d.outcome, d.messageId, d.channelId, new Date(d.at ?? Date.now())],
  );
  return (rowCount ?? 0) > 0;
}

/** Marks an anomaly's opening as handled for every destination it had then (a repeat changes nothing). */
export async function recordOpeningHandled(pool: Pool, anomalyId: string, channelId: string): Promise<void> {
  await pool.query('INSERT INTO alert_openings (anomaly_id, channel_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
    anomalyId,
    channelId,
  ]);
}

/** Whether the notifier has handled the anomaly's opening (see {@link recordOpeningHandled}). */
export async function wasOpeningHandled(pool: Pool, anomalyId: string): Promise<boolean> {
  const { rowCount } = await pool.query('SELECT 1 FROM alert_openings WHERE anomaly_id = $1', [anomalyId]);
  return (rowCount ?? 0) > 0;
}

/** Alerts sent to a chat in the hour before `now` (its per-hour cap). */
export async function sentInLastHour(pool: Pool, chatId: string, now: number): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM alert_deliveries WHERE chat_id = $1 AND outcome = 'sent' AND at > $2`,
    [chatId, new Date(now - 3_600_000)],
  );
  return Number(rows[0].n);
}
