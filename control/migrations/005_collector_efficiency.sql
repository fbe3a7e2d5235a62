-- Control plane, fifth schema: what the collectors need to spend their
-- accounts' request budgets well.

-- Which account is a member of which channel. Telegram pushes a channel's
-- updates only to its members, so a joined channel needs no periodic
-- getChannelDifference; leases give a channel to an account that joined it.
-- `joined_by_us`: tgpulse joined it (channels.joinChannel), rather than the
-- account being a member already.
CREATE TABLE channel_memberships (
  channel_id   text NOT NULL REFERENCES tracked_channels (channel_id) ON DELETE CASCADE,
  account_id   text NOT NULL REFERENCES mtproto_accounts (id) ON DELETE CASCADE,
  joined_by_us boolean NOT NULL DEFAULT false,
  since        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (channel_id, account_id)
);
CREATE INDEX channel_memberships_account_idx ON channel_memberships (account_id);

ALTER TABLE mtproto_accounts
  -- Telegram answered CHANNELS_TOO_MUCH: no joins with this account until then.
  ADD COLUMN joins_refused_until timestamptz NULL,
  -- What the account's collector last reported of its work (`tgpulse status`):
  -- share of its request budget used over the last hour, channels it holds,
  -- and how many of them have every post's counters within the freshness targets.
  ADD COLUMN budget_used real NULL CHECK (budget_used >= 0),
  ADD COLUMN channels_held int NULL CHECK (channels_held >= 0),
  ADD COLUMN channels_fresh int NULL CHECK (channels_fresh >= 0),
  -- The channels furthest behind their targets (at most 20), worst first.
  ADD COLUMN stale_channels text[] NULL,
  ADD COLUMN load_at timestamptz NULL;
