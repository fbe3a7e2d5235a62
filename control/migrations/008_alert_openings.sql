-- The anomalies whose opening the notifier has handled for every destination
-- it had then. A resolution that finds no decision for its destination waits
-- while the opening is not handled (a killed notifier may still hold it, for
-- an ack wait per kill), and is news to no one once it is: that destination
-- subscribed later (bot/notifier/decide.ts).
CREATE TABLE alert_openings (
  anomaly_id text PRIMARY KEY,
  channel_id text NOT NULL,
  handled_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_openings_channel_idx ON alert_openings (channel_id);
