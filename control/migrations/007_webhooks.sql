-- Alert destinations beyond Telegram: a subscription that posts each alert to
-- a URL as Slack- or Discord-compatible JSON, signed with HMAC-SHA256. It
-- follows a chat subscription's rules (severity, metrics, hourly cap), and its
-- decisions are recorded in alert_deliveries under the key 'webhook:<id>', so
-- each alert reaches each destination once (bot/notifier/).

CREATE TABLE alert_webhooks (
  id              bigserial PRIMARY KEY,
  -- https, or http to a loopback address (control/webhooks.ts checks it).
  url             text NOT NULL CHECK (url ~ '^https?://'),
  format          text NOT NULL CHECK (format IN ('slack', 'discord')),
  -- The HMAC-SHA256 key the notifier signs each body with. Kept as is (every
  -- send needs it) and shown to its creator once.
  secret          text NOT NULL,
  channel_id      text NOT NULL CHECK (channel_id ~ '^-?[0-9]{1,20}$'),
  -- NULL = every metric.
  metrics         text[] NULL CHECK (metrics IS NULL OR cardinality(metrics) > 0),
  min_severity    text NOT NULL DEFAULT 'warning' CHECK (min_severity IN ('info', 'warning', 'critical')),
  max_per_hour    int NOT NULL DEFAULT 10 CHECK (max_per_hour BETWEEN 1 AND 1000),
  enabled         boolean NOT NULL DEFAULT true,
  disabled_reason text NULL,
  created_by      text NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (url, channel_id)
);
CREATE INDEX alert_webhooks_channel_idx ON alert_webhooks (channel_id) WHERE enabled;

-- A webhook that refuses an alert for good (a 4xx other than "gone", such as
-- 400 or 413) has it recorded as 'skipped_rejected' instead of retried forever.
ALTER TABLE alert_deliveries DROP CONSTRAINT alert_deliveries_outcome_check;
ALTER TABLE alert_deliveries ADD CONSTRAINT alert_deliveries_outcome_check
  CHECK (outcome IN ('sent', 'skipped_quiet', 'skipped_cap', 'skipped_disabled', 'skipped_filter', 'skipped_rejected'));
