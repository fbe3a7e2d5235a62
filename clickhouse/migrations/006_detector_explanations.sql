-- The detector's explanation (see processors/operators/detector.ts): a score in
-- [0, 1] on every trend point, so a threshold can be chosen per use, and the
-- test that raised each anomaly. Rows written before this migration read as
-- score 0 and reason '' (readers fall back to the reason of their direction).
-- Each ALTER names the local table and then the plain one: on a cluster the
-- second is the cluster-wide table over it; on one node it is the same table,
-- and IF NOT EXISTS makes the repeat a no-op.

ALTER TABLE {{local trends}} {{on_cluster}} ADD COLUMN IF NOT EXISTS score Float64 DEFAULT 0 AFTER warm;
ALTER TABLE trends {{on_cluster}} ADD COLUMN IF NOT EXISTS score Float64 DEFAULT 0 AFTER warm;

ALTER TABLE {{local trends_latest}} {{on_cluster}} ADD COLUMN IF NOT EXISTS score Float64 DEFAULT 0 AFTER warm;
ALTER TABLE trends_latest {{on_cluster}} ADD COLUMN IF NOT EXISTS score Float64 DEFAULT 0 AFTER warm;

ALTER TABLE {{local anomaly_events}} {{on_cluster}} ADD COLUMN IF NOT EXISTS reason LowCardinality(String) DEFAULT '' AFTER severity;
ALTER TABLE anomaly_events {{on_cluster}} ADD COLUMN IF NOT EXISTS reason LowCardinality(String) DEFAULT '' AFTER severity;

ALTER TABLE {{local anomalies}} {{on_cluster}} ADD COLUMN IF NOT EXISTS reason LowCardinality(String) DEFAULT '' AFTER severity;
ALTER TABLE anomalies {{on_cluster}} ADD COLUMN IF NOT EXISTS reason LowCardinality(String) DEFAULT '' AFTER severity;

-- The serving views carry the score and the reason from now on. Changed in
-- place, so no insert between two statements can miss a serving table.
ALTER TABLE trends_latest_mv {{on_cluster}} MODIFY QUERY
SELECT t.channel_id AS channel_id,
       t.metric AS metric,
       t.window AS window,
       ifNull(t.post_id, 0) AS post_id,
       t.window_start AS window_start,
       t.value AS value,
       t.mean AS mean,
       t.sd AS sd,
       t.z AS z,
       t.n AS n,
       t.warm AS warm,
       t.score AS score,
       t.event_time AS updated_at
FROM {{local trends}} AS t;

ALTER TABLE anomalies_mv {{on_cluster}} MODIFY QUERY
SELECT channel_id, anomaly_id, state, revision, metric, window, window_start, post_id, direction,
       severity, reason, value, expected, band_low, band_high, z, opened_at,
       event_time AS updated_at,
       if(state = 'resolved', event_time, NULL) AS resolved_at
FROM {{local anomaly_events}};
