-- Control plane, third schema: what the MTProto collectors read with (user
-- accounts and their encrypted sessions), what they read (the channel
-- registry with its resume cursors), and how collector processes share the
-- work (leases).

-- Telegram user accounts. The StringSession is sealed with AES-256-GCM under
-- TGPULSE_SESSION_KEY (control/session-crypto.ts), the account id bound in as
-- authenticated data, so this table alone cannot be used to log in.
CREATE TABLE mtproto_accounts (
  id             text PRIMARY KEY,
  phone          text NOT NULL UNIQUE CHECK (phone ~ '^\+[0-9]{7,15}$'),
  session_sealed text NOT NULL,
  user_id        text NULL CHECK (user_id ~ '^[0-9]{1,20}$'),
  status         text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  -- socks5://[user:pass@]host:port or mtproxy://secret@host:port; NULL = direct.
  proxy          text NULL,
  -- 1 = healthy; collectors lower it on errors and prefer healthier accounts.
  health         real NOT NULL DEFAULT 1 CHECK (health >= 0 AND health <= 1),
  -- Set from FLOOD_WAIT: the account takes no work until then.
  parked_until   timestamptz NULL,
  last_error     text NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);

-- The channels tgpulse collects, by bare channel id (as the warehouse keeps
-- it). Removal is soft, so a channel added again resumes where it stopped.
CREATE TABLE tracked_channels (
  channel_id         text PRIMARY KEY CHECK (channel_id ~ '^[1-9][0-9]{0,19}$'),
  username           text NULL CHECK (username ~ '^[A-Za-z][A-Za-z0-9_]{3,31}$'),
  title              text NULL,
  access_hash        text NOT NULL CHECK (access_hash ~ '^-?[0-9]{1,20}$'),
  added_at           timestamptz NOT NULL DEFAULT now(),
  removed_at         timestamptz NULL,
  status             text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'gone', 'private', 'no_rights')),
  status_reason      text NULL,
  can_view_stats     boolean NOT NULL DEFAULT false,
  stats_dc           int NULL CHECK (stats_dc > 0),
  members            int NULL CHECK (members >= 0),
  -- Resume cursors: the channel's update state, how far back history was read.
  pts                int NULL CHECK (pts >= 0),
  backfill_offset_id int NULL CHECK (backfill_offset_id >= 0),
  backfill_until     timestamptz NULL,
  backfill_done      boolean NOT NULL DEFAULT false,
  last_post_id       int NULL CHECK (last_post_id >= 0),
  updated_at         timestamptz NOT NULL DEFAULT now()
);
-- Lookups by @username ignore case, as Telegram does.
CREATE INDEX tracked_channels_username_idx ON tracked_channels (lower(username));

-- Which collector process (holder) works on which channel through which
-- account, until expires_at. At most one lease per channel.
CREATE TABLE collector_leases (
  channel_id  text PRIMARY KEY REFERENCES tracked_channels (channel_id) ON DELETE CASCADE,
  account_id  text NOT NULL REFERENCES mtproto_accounts (id) ON DELETE CASCADE,
  holder      text NOT NULL,
  expires_at  timestamptz NOT NULL,
  acquired_at timestamptz NOT NULL
);
CREATE INDEX collector_leases_holder_idx ON collector_leases (holder);
CREATE INDEX collector_leases_account_idx ON collector_leases (account_id);
