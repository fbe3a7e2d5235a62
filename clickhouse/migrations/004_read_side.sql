-- Serving tables added for the read side (api/, bot/), with the same rule as
-- 003: every figure is idempotent under duplicate source rows (max, argMax or
-- Replacing), so at-least-once delivery never doubles anything.

-- Provenance and freshness per channel: which sources delivered which raw
-- kinds, and when they last observed something. `kind` is the contract kind;
-- official statistics are told apart by kind = 'channel_stats'.
-- Also the list of channels the read side knows.
CREATE TABLE IF NOT EXISTS {{local channel_sources}} {{on_cluster}}
(
    channel_id String,
    source LowCardinality(String),
    kind LowCardinality(String),
    first_observed_at SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    last_observed_at SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
    last_event_time SimpleAggregateFunction(max, DateTime64(3, 'UTC'))
)
ENGINE = {{engine AggregatingMergeTree}}
ORDER BY (channel_id, source, kind)
SETTINGS non_replicated_deduplication_window = 1000;

{{distributed channel_sources cityHash64(channel_id)}};

CREATE MATERIALIZED VIEW IF NOT EXISTS channel_sources_posts_mv {{on_cluster}} TO {{local channel_sources}} AS
SELECT channel_id, source, 'post' AS kind, min(observed_at) AS first_observed_at,
       max(observed_at) AS last_observed_at, max(event_time) AS last_event_time
FROM {{local raw_posts}} GROUP BY channel_id, source;

CREATE MATERIALIZED VIEW IF NOT EXISTS channel_sources_counters_mv {{on_cluster}} TO {{local channel_sources}} AS
SELECT channel_id, source, 'post_counters' AS kind, min(observed_at) AS first_observed_at,
       max(observed_at) AS last_observed_at, max(event_time) AS last_event_time
FROM {{local raw_post_counters}} GROUP BY channel_id, source;

CREATE MATERIALIZED VIEW IF NOT EXISTS channel_sources_members_mv {{on_cluster}} TO {{local channel_sources}} AS
SELECT channel_id, source, 'channel_members' AS kind, min(observed_at) AS first_observed_at,
       max(observed_at) AS last_observed_at, max(event_time) AS last_event_time
FROM {{local raw_channel_members}} GROUP BY channel_id, source;

CREATE MATERIALIZED VIEW IF NOT EXISTS channel_sources_stats_mv {{on_cluster}} TO {{local channel_sources}} AS
SELECT channel_id, source, 'channel_stats' AS kind, min(observed_at) AS first_observed_at,
       max(observed_at) AS last_observed_at, max(event_time) AS last_event_time
FROM {{local raw_channel_stats}} GROUP BY channel_id, source;

CREATE MATERIALIZED VIEW IF NOT EXISTS channel_sources_deleted_mv {{on_cluster}} TO {{local channel_sources}} AS
SELECT channel_id, source, 'post_deleted' AS kind, min(observed_at) AS first_observed_at,
       max(observed_at) AS last_observed_at, max(event_time) AS last_event_time
FROM {{local raw_post_deleted}} GROUP BY channel_id, source;

-- A post's counters over its life: the last snapshot of each hour (by
-- observation time), whether it came with the post or as post_counters.
CREATE TABLE IF NOT EXISTS {{local post_timeline}} {{on_cluster}}
(
    channel_id String,
    post_id UInt32,
    hour DateTime64(3, 'UTC'),
    as_of DateTime64(3, 'UTC'),
    views UInt64,
    forwards UInt64,
    replies UInt64,
    reactions_total UInt64
)
ENGINE = {{engine ReplacingMergeTree(as_of)}}
PARTITION BY toYYYYMM(hour)
ORDER BY (channel_id, post_id, hour)
SETTINGS non_replicated_deduplication_window = 1000;

{{distributed post_timeline cityHash64(channel_id)}};

CREATE MATERIALIZED VIEW IF NOT EXISTS post_timeline_counters_mv {{on_cluster}} TO {{local post_timeline}} AS
SELECT channel_id, post_id, toStartOfHour(event_time) AS hour, event_time AS as_of,
       views, forwards, replies, reactions_total
FROM {{local raw_post_counters}};

CREATE MATERIALIZED VIEW IF NOT EXISTS post_timeline_posts_mv {{on_cluster}} TO {{local post_timeline}} AS
SELECT channel_id, post_id, toStartOfHour(observed_at) AS hour, observed_at AS as_of,
       views, forwards, replies, reactions_total
FROM {{local raw_posts}};

-- Official statistics (stats.getBroadcastStats graphs): the most recently
-- observed value of each point of each series.
CREATE TABLE IF NOT EXISTS {{local channel_stats_latest}} {{on_cluster}}
(
    channel_id String,
    metric LowCardinality(String),
    series LowCardinality(String),
    t DateTime64(3, 'UTC'),
    value Float64,
    observed_at DateTime64(3, 'UTC')
)
ENGINE = {{engine ReplacingMergeTree(observed_at)}}
PARTITION BY toYear(t)
ORDER BY (channel_id, metric, series, t)
SETTINGS non_replicated_deduplication_window = 1000;

{{distributed channel_stats_latest cityHash64(channel_id)}};

CREATE MATERIALIZED VIEW IF NOT EXISTS channel_stats_latest_mv {{on_cluster}} TO {{local channel_stats_latest}} AS
SELECT channel_id, metric, series, t, value, observed_at
FROM {{local raw_channel_stats}};
