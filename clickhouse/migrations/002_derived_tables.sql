-- Derived tables: what the processors emit (TG_DERIVED), and the dead-letter
-- trail (TG_DLQ). Same rule as the raw tables: deterministic ids plus
-- ReplacingMergeTree keys make a redelivered event collapse into one row.

CREATE TABLE IF NOT EXISTS {{local post_deltas}} {{on_cluster}}
(
    v UInt8,
    id String,
    channel_id String,
    event_time DateTime64(3, 'UTC'),
    observed_at DateTime64(3, 'UTC'),
    source LowCardinality(String),
    post_id UInt32,
    source_id String,
    post_date Nullable(DateTime64(3, 'UTC')),
    age_ms Nullable(UInt64),
    flag LowCardinality(String),
    d_views Int64,
    d_forwards Int64,
    d_replies Int64,
    d_reactions Int64,
    d_reactions_by Map(String, Int64),
    views UInt64,
    forwards UInt64,
    replies UInt64,
    reactions_total UInt64,
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = {{engine ReplacingMergeTree(ingested_at)}}
PARTITION BY toYYYYMM(event_time)
ORDER BY (channel_id, post_id, event_time, id)
SETTINGS non_replicated_deduplication_window = 1000;

{{distributed post_deltas cityHash64(channel_id)}};

-- One row per (channel, window, window_start): a late update emits the next
-- revision of the same window, and the highest revision wins. Partitioned by
-- window_start (not event_time) so that all revisions meet in one partition.
CREATE TABLE IF NOT EXISTS {{local window_aggs}} {{on_cluster}}
(
    v UInt8,
    id String,
    channel_id String,
    event_time DateTime64(3, 'UTC'),
    observed_at DateTime64(3, 'UTC'),
    source LowCardinality(String),
    window LowCardinality(String),
    window_start DateTime64(3, 'UTC'),
    window_end DateTime64(3, 'UTC'),
    revision UInt32,
    final Bool,
    views Int64,
    forwards Int64,
    replies Int64,
    reactions Int64,
    views_baseline Int64,
    posts UInt64,
    members_last Nullable(UInt64),
    members_min Nullable(UInt64),
    members_max Nullable(UInt64),
    subscribers_gained UInt64,
    subscribers_lost UInt64,
    events UInt64,
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = {{engine ReplacingMergeTree(revision)}}
PARTITION BY toYYYYMM(window_start)
ORDER BY (channel_id, window, window_start)
SETTINGS non_replicated_deduplication_window = 1000;

{{distributed window_aggs cityHash64(channel_id)}};

CREATE TABLE IF NOT EXISTS {{local trends}} {{on_cluster}}
(
    v UInt8,
    id String,
    channel_id String,
    event_time DateTime64(3, 'UTC'),
    observed_at DateTime64(3, 'UTC'),
    source LowCardinality(String),
    metric LowCardinality(String),
    window LowCardinality(String),
    window_start DateTime64(3, 'UTC'),
    post_id Nullable(UInt32),
    value Float64,
    mean Float64,
    sd Float64,
    z Float64,
    n UInt64,
    warm Bool,
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = {{engine ReplacingMergeTree(ingested_at)}}
PARTITION BY toYYYYMM(event_time)
ORDER BY (channel_id, metric, window, window_start, id)
SETTINGS non_replicated_deduplication_window = 1000;

{{distributed trends cityHash64(channel_id)}};

-- Every opened/updated/resolved event of every anomaly (the history); the
-- serving table `anomalies` keeps the latest state of each.
CREATE TABLE IF NOT EXISTS {{local anomaly_events}} {{on_cluster}}
(
    v UInt8,
    id String,
    channel_id String,
    event_time DateTime64(3, 'UTC'),
    observed_at DateTime64(3, 'UTC'),
    source LowCardinality(String),
    anomaly_id String,
    state LowCardinality(String),
    revision UInt32,
    metric LowCardinality(String),
    window LowCardinality(String),
    window_start DateTime64(3, 'UTC'),
    post_id Nullable(UInt32),
    direction LowCardinality(String),
    severity LowCardinality(String),
    value Float64,
    expected Float64,
    band_low Float64,
    band_high Float64,
    z Float64,
    opened_at DateTime64(3, 'UTC'),
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = {{engine ReplacingMergeTree(ingested_at)}}
PARTITION BY toYYYYMM(event_time)
ORDER BY (channel_id, anomaly_id, id)
SETTINGS non_replicated_deduplication_window = 1000;

{{distributed anomaly_events cityHash64(channel_id)}};

-- The trace of everything a stage refused (fed from TG_DLQ). Dead-letter ids
-- are deterministic (stage, stream, seq, failure index, reason), so a
-- redelivered or re-emitted record collapses. Not partitioned by time: a copy
-- re-emitted later must still meet the first one to collapse.
CREATE TABLE IF NOT EXISTS {{local dead_letters}} {{on_cluster}}
(
    id String,
    stage LowCardinality(String),
    reason LowCardinality(String),
    detail String,
    stream LowCardinality(String),
    subject String,
    seq UInt64,
    event_id Nullable(String),
    channel_id Nullable(String),
    payload String,
    payload_bytes UInt64,
    received_at DateTime64(3, 'UTC'),
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = {{engine ReplacingMergeTree(ingested_at)}}
ORDER BY (stage, stream, seq, id)
SETTINGS non_replicated_deduplication_window = 1000;

{{distributed dead_letters cityHash64(id)}};
