-- Control plane, first schema: API keys, share links, generated secrets and the audit log.

-- Bearer keys of the REST API. Only a SHA-256 of the secret is kept, so a
-- leaked table does not leak usable tokens.
CREATE TABLE api_keys (
  id              text PRIMARY KEY,
  name            text NOT NULL,
  secret_hash     text NOT NULL,
  scopes          text[] NOT NULL CHECK (cardinality(scopes) > 0),
  -- NULL = every channel; otherwise the Telegram channel ids (decimal strings) the key may read.
  channels        text[] NULL,
  -- NULL = the API's default rate.
  rate_per_minute int NULL CHECK (rate_per_minute > 0),
  created_at      timestamptz NOT NULL DEFAULT now(),
  revoked_at      timestamptz NULL,
  last_used_at    timestamptz NULL
);

-- Public, read-only views of one channel's report for a period. The token is
-- signed (HMAC), so a row only exists to allow revocation and listing.
CREATE TABLE share_links (
  id          text PRIMARY KEY,
  channel_id  text NOT NULL,
  period_from timestamptz NOT NULL,
  period_to   timestamptz NOT NULL CHECK (period_to > period_from),
  sections    text[] NOT NULL CHECK (cardinality(sections) > 0),
  created_by  text NULL REFERENCES api_keys (id),
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  revoked_at  timestamptz NULL
);
CREATE INDEX share_links_channel_idx ON share_links (channel_id);

-- Secrets the control plane generates for itself (e.g. the share-link HMAC
-- key), so every process of a deployment agrees on them.
CREATE TABLE control_secrets (
  name       text PRIMARY KEY,
  value      text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Who changed what in the control plane, newest last.
CREATE TABLE audit_log (
  id      bigserial PRIMARY KEY,
  at      timestamptz NOT NULL DEFAULT now(),
  actor   text NOT NULL,
  action  text NOT NULL,
  target  text NULL,
  details jsonb NOT NULL DEFAULT '{}'
);
