-- Control plane, sixth schema: channels users ask the bot to track (/track),
-- and periodic digests (/digest) with the ledger that sends each once.

-- Channels a bot user asked to track after proving they administer them. The
-- Bot API gives the bot a channel's id and username, not the MTProto access
-- hash the registry (tracked_channels) needs, so a request waits here,
-- `pending`, until the ingest role resolves it through one of its accounts and
-- adds the channel to the registry (`tracked`), or says why it could not
-- (`failed`). Pending and tracked requests count against the user's limit.
CREATE TABLE track_requests (
  user_id      text NOT NULL CHECK (user_id ~ '^[0-9]{1,20}$'),
  channel_id   text NOT NULL CHECK (channel_id ~ '^[1-9][0-9]{0,19}$'),
  username     text NULL CHECK (username ~ '^[A-Za-z][A-Za-z0-9_]{3,31}$'),
  title        text NULL,
  status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'tracked', 'failed')),
  reason       text NULL,
  requested_at timestamptz NOT NULL DEFAULT now(),
  resolved_at  timestamptz NULL,
  PRIMARY KEY (user_id, channel_id)
);
CREATE INDEX track_requests_pending_idx ON track_requests (requested_at) WHERE status = 'pending';

-- Digests: a chat gets a channel's KPI summary daily or weekly, after the
-- period ends in the chat's time zone. One per chat and channel.
CREATE TABLE digest_subscriptions (
  id         bigserial PRIMARY KEY,
  chat_id    text NOT NULL CHECK (chat_id ~ '^-?[0-9]{1,20}$'),
  channel_id text NOT NULL CHECK (channel_id ~ '^[1-9][0-9]{0,19}$'),
  cadence    text NOT NULL CHECK (cadence IN ('daily', 'weekly')),
  time_zone  text NOT NULL DEFAULT 'UTC',
  -- The bot user who subscribed: the digest goes out only while they may see the channel.
  created_by text NOT NULL CHECK (created_by ~ '^[0-9]{1,20}$'),
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (chat_id, channel_id)
);

-- The digests' ledger: one row per subscription and period, claimed (inserted)
-- before the digest is sent, so no period is sent twice, whatever restarts.
-- A crash between the claim and Telegram's answer leaves the row `claimed`:
-- that period is skipped, never repeated (at most once; see bot/digests/).
CREATE TABLE digest_deliveries (
  subscription_id bigint NOT NULL REFERENCES digest_subscriptions (id) ON DELETE CASCADE,
  -- Start of the summarised period (local midnight in the subscription's zone).
  period_start    timestamptz NOT NULL,
  channel_id      text NOT NULL,
  chat_id         text NOT NULL,
  status          text NOT NULL DEFAULT 'claimed' CHECK (status IN ('claimed', 'sent', 'failed')),
  message_id      bigint NULL,
  reason          text NULL,
  claimed_at      timestamptz NOT NULL DEFAULT now(),
  done_at         timestamptz NULL,
  PRIMARY KEY (subscription_id, period_start)
);
