-- Control plane, second schema: the Telegram bot's users, who may see which
-- channel, alert subscriptions per chat and channel, and a record of every
-- alert decision (the notifier's deduplication).

-- Telegram users who talked to the bot. Admins manage grants.
CREATE TABLE bot_users (
  user_id       text PRIMARY KEY CHECK (user_id ~ '^[0-9]{1,20}$'),
  username      text NULL,
  is_admin      boolean NOT NULL DEFAULT false,
  first_seen_at timestamptz NOT NULL DEFAULT now()
);

-- Who may read which channel through the bot. `via`: an admin granted it, or
-- the user proved (getChatAdministrators) that they administer the channel.
CREATE TABLE channel_grants (
  user_id    text NOT NULL CHECK (user_id ~ '^[0-9]{1,20}$'),
  channel_id text NOT NULL CHECK (channel_id ~ '^-?[0-9]{1,20}$'),
  via        text NOT NULL CHECK (via IN ('admin', 'proof')),
  granted_by text NULL,
  granted_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, channel_id)
);

-- Alert subscriptions: one per chat and channel.
CREATE TABLE alert_subscriptions (
  id              bigserial PRIMARY KEY,
  chat_id         text NOT NULL CHECK (chat_id ~ '^-?[0-9]{1,20}$'),
  channel_id      text NOT NULL CHECK (channel_id ~ '^-?[0-9]{1,20}$'),
  -- NULL = every metric.
  metrics         text[] NULL CHECK (metrics IS NULL OR cardinality(metrics) > 0),
  min_severity    text NOT NULL DEFAULT 'warning' CHECK (min_severity IN ('info', 'warning', 'critical')),
  -- Quiet hours [quiet_from, quiet_to) in time_zone; both NULL = never quiet.
  quiet_from      smallint NULL CHECK (quiet_from BETWEEN 0 AND 23),
  quiet_to        smallint NULL CHECK (quiet_to BETWEEN 0 AND 23),
  time_zone       text NOT NULL DEFAULT 'UTC',
  max_per_hour    int NOT NULL DEFAULT 10 CHECK (max_per_hour BETWEEN 1 AND 1000),
  enabled         boolean NOT NULL DEFAULT true,
  disabled_reason text NULL,
  created_by      text NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (chat_id, channel_id),
  CHECK ((quiet_from IS NULL) = (quiet_to IS NULL))
);
CREATE INDEX alert_subscriptions_channel_idx ON alert_subscriptions (channel_id) WHERE enabled;

-- What the notifier decided for each anomaly, chat and stage: at most one row
-- each, so a redelivered anomaly event is never sent twice.
CREATE TABLE alert_deliveries (
  anomaly_id text NOT NULL,
  chat_id    text NOT NULL,
  stage      text NOT NULL CHECK (stage IN ('opened', 'resolved')),
  outcome    text NOT NULL CHECK (outcome IN ('sent', 'skipped_quiet', 'skipped_cap', 'skipped_disabled')),
  message_id bigint NULL,
  channel_id text NOT NULL,
  at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (anomaly_id, chat_id, stage)
);
CREATE INDEX alert_deliveries_chat_at_idx ON alert_deliveries (chat_id, at);
