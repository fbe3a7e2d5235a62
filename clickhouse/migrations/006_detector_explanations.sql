-- The detector's explanation (see processors/operators/detector.ts): a score in
-- [0, 1] on every trend point, so a threshold can be chosen per use, and the
-- test that raised each anomaly. Rows written before this migration read as
-- score 0 and reason '' (readers fall back to the reason of their direction).
-- Each ALTER names the local table and then the plain one: on a cluster the
-- second is the cluster-wide table over it; on one node it is the same table,
-- and IF NOT EXISTS makes the repeat a no-op.

ALTER TABLE {{local trends}} {{on_cluster}} ADD COLUMN IF NOT EXISTS score Float64 DEFAULT 0 AFTER warm;
ALTER TABLE trends {{on_cluster}} ADD COLUMN IF NOT EXISTS score Float64 DEFAULT 0 AFTER warm;

ALTER TABLE {{local anomaly_events}} {{on_cluster}} ADD COLUMN IF NOT EXISTS reason LowCardinality(String) DEFAULT '' AFTER severity;
ALTER TABLE anomaly_events {{on_cluster}} ADD COLUMN IF NOT EXISTS reason LowCardinality(String) DEFAULT '' AFTER severity;

ALTER TABLE {{local anomalies}} {{on_cluster}} ADD COLUMN IF NOT EXISTS reason LowCardinality(String) DEFAULT '' AFTER severity;
ALTER TABLE anomalies {{on_cluster}} ADD COLUMN IF NOT EXISTS reason LowCardinality(String) DEFAULT '' AFTER severity;

-- The serving view carries the reason from now on. Changed in place, so no
-- insert between two statements can miss the serving table.
ALTER TABLE anomalies_mv {{on_cluster}} MODIFY QUERY
SELECT channel_id, anomaly_id, state, revision, metric, window, window_start, post_id, direction,
       severity, reason, value, expected, band_low, band_high, z, opened_at,
       event_time AS updated_at,
       if(state = 'resolved', event_time, NULL) AS resolved_at
FROM {{local anomaly_events}};
