-- Raw tables: one row per raw event, columns named like the contract fields
-- (streams/contract.ts), nested objects flattened.
--
-- Exactly-once effect: delivery is at-least-once, event ids are deterministic,
-- and each table is a ReplacingMergeTree whose ORDER BY ends in `id`, so every
-- copy of an event collapses into one row. Read with FINAL (or argMax) when
-- duplicates must not count. Copies of one event share event_time, hence the
-- same partition: collapsing works within a partition only. raw_posts is
-- partitioned by year because its event_time is the publication date, and a
-- backfill batch of old posts must not touch more than
-- max_partitions_per_insert_block (100) partitions.
--
-- non_replicated_deduplication_window lets insert_deduplication_token drop a
-- retried batch on a single node (Replicated engines deduplicate by default).

CREATE TABLE IF NOT EXISTS {{local raw_posts}} {{on_cluster}}
(
    v UInt8,
    id String,
    channel_id String,
    event_time DateTime64(3, 'UTC'),
    observed_at DateTime64(3, 'UTC'),
    source LowCardinality(String),
    post_id UInt32,
    date DateTime64(3, 'UTC'),
    edit_date Nullable(DateTime64(3, 'UTC')),
    text_length UInt64,
    media_type LowCardinality(String),
    grouped_id Nullable(String),
    forward_from_channel_id Nullable(String),
    forward_from_post_id Nullable(UInt32),
    mentions Array(String),
    links Array(String),
    hashtags Array(String),
    views UInt64,
    forwards UInt64,
    replies UInt64,
    reactions_total UInt64,
    reactions Map(String, UInt64),
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = {{engine ReplacingMergeTree(ingested_at)}}
PARTITION BY toYear(event_time)
ORDER BY (channel_id, post_id, id)
SETTINGS non_replicated_deduplication_window = 1000;

{{distributed raw_posts cityHash64(channel_id)}};

CREATE TABLE IF NOT EXISTS {{local raw_post_counters}} {{on_cluster}}
(
    v UInt8,
    id String,
    channel_id String,
    event_time DateTime64(3, 'UTC'),
    observed_at DateTime64(3, 'UTC'),
    source LowCardinality(String),
    post_id UInt32,
    post_date Nullable(DateTime64(3, 'UTC')),
    views UInt64,
    forwards UInt64,
    replies UInt64,
    reactions_total UInt64,
    reactions Map(String, UInt64),
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = {{engine ReplacingMergeTree(ingested_at)}}
PARTITION BY toYYYYMM(event_time)
ORDER BY (channel_id, post_id, event_time, id)
SETTINGS non_replicated_deduplication_window = 1000;

{{distributed raw_post_counters cityHash64(channel_id)}};

CREATE TABLE IF NOT EXISTS {{local raw_channel_members}} {{on_cluster}}
(
    v UInt8,
    id String,
    channel_id String,
    event_time DateTime64(3, 'UTC'),
    observed_at DateTime64(3, 'UTC'),
    source LowCardinality(String),
    members UInt64,
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = {{engine ReplacingMergeTree(ingested_at)}}
PARTITION BY toYYYYMM(event_time)
ORDER BY (channel_id, event_time, id)
SETTINGS non_replicated_deduplication_window = 1000;

{{distributed raw_channel_members cityHash64(channel_id)}};

CREATE TABLE IF NOT EXISTS {{local raw_channel_stats}} {{on_cluster}}
(
    v UInt8,
    id String,
    channel_id String,
    event_time DateTime64(3, 'UTC'),
    observed_at DateTime64(3, 'UTC'),
    source LowCardinality(String),
    metric LowCardinality(String),
    series LowCardinality(String),
    t DateTime64(3, 'UTC'),
    value Float64,
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = {{engine ReplacingMergeTree(ingested_at)}}
PARTITION BY toYYYYMM(event_time)
ORDER BY (channel_id, metric, series, t, id)
SETTINGS non_replicated_deduplication_window = 1000;

{{distributed raw_channel_stats cityHash64(channel_id)}};

CREATE TABLE IF NOT EXISTS {{local raw_post_deleted}} {{on_cluster}}
(
    v UInt8,
    id String,
    channel_id String,
    event_time DateTime64(3, 'UTC'),
    observed_at DateTime64(3, 'UTC'),
    source LowCardinality(String),
    post_ids Array(UInt32),
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = {{engine ReplacingMergeTree(ingested_at)}}
PARTITION BY toYYYYMM(event_time)
ORDER BY (channel_id, event_time, id)
SETTINGS non_replicated_deduplication_window = 1000;

{{distributed raw_post_deleted cityHash64(channel_id)}};

-- properties: the event's property object as JSON text, so every value
-- (string, number, boolean, null) and the key order survive exactly.
CREATE TABLE IF NOT EXISTS {{local raw_bot_events}} {{on_cluster}}
(
    v UInt8,
    id String,
    channel_id String,
    event_time DateTime64(3, 'UTC'),
    observed_at DateTime64(3, 'UTC'),
    source LowCardinality(String),
    bot_id String,
    event_type LowCardinality(String),
    user_id Nullable(String),
    properties String,
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = {{engine ReplacingMergeTree(ingested_at)}}
PARTITION BY toYYYYMM(event_time)
ORDER BY (channel_id, bot_id, event_time, id)
SETTINGS non_replicated_deduplication_window = 1000;

{{distributed raw_bot_events cityHash64(channel_id)}};
