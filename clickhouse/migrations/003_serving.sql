-- Serving tables: what the API, the bot and Grafana read. Materialized views
-- fill them from the raw and derived tables at insert time.
--
-- Why no sum anywhere: delivery is at-least-once, and a materialized view fires
-- for every inserted copy of an event, even one that its source table later
-- collapses. A sum state would count that copy twice. Every serving figure is
-- therefore idempotent under duplicate source rows:
--   * ReplacingMergeTree keyed by the entity — a copy replaces itself;
--   * argMax(value, time) states — a copy has the same time and value;
--   * max — a copy does not move it.
-- Readers use FINAL on Replacing tables and -Merge/max with GROUP BY on
-- Aggregating tables (see clickhouse/serving.ts).

-- Hourly and daily figures per channel: the window_agg rows of the `1h` and
-- `1d` windows, highest revision per window. A window_agg row already is the
-- complete figure of its window, so replacing (never adding) is right.
CREATE TABLE IF NOT EXISTS {{local channel_hourly}} {{on_cluster}}
(
    channel_id String,
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
    updated_at DateTime64(3, 'UTC')
)
ENGINE = {{engine ReplacingMergeTree(revision)}}
PARTITION BY toYYYYMM(window_start)
ORDER BY (channel_id, window_start)
SETTINGS non_replicated_deduplication_window = 1000;

{{distributed channel_hourly cityHash64(channel_id)}};

CREATE MATERIALIZED VIEW IF NOT EXISTS channel_hourly_mv {{on_cluster}} TO {{local channel_hourly}} AS
SELECT channel_id, window_start, window_end, revision, final, views, forwards, replies, reactions,
       views_baseline, posts, members_last, members_min, members_max, subscribers_gained,
       subscribers_lost, events, event_time AS updated_at
FROM {{local window_aggs}}
WHERE window = '1h';

CREATE TABLE IF NOT EXISTS {{local channel_daily}} {{on_cluster}}
(
    channel_id String,
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
    updated_at DateTime64(3, 'UTC')
)
ENGINE = {{engine ReplacingMergeTree(revision)}}
PARTITION BY toYear(window_start)
ORDER BY (channel_id, window_start)
SETTINGS non_replicated_deduplication_window = 1000;

{{distributed channel_daily cityHash64(channel_id)}};

CREATE MATERIALIZED VIEW IF NOT EXISTS channel_daily_mv {{on_cluster}} TO {{local channel_daily}} AS
SELECT channel_id, window_start, window_end, revision, final, views, forwards, replies, reactions,
       views_baseline, posts, members_last, members_min, members_max, subscribers_gained,
       subscribers_lost, events, event_time AS updated_at
FROM {{local window_aggs}}
WHERE window = '1d';

-- Latest counters per post: argMax by observation time over every snapshot,
-- whether it came as post_counters or with the post itself; deleted_at from
-- post_deleted. Read: argMaxMerge(views) … GROUP BY channel_id, post_id.
CREATE TABLE IF NOT EXISTS {{local post_latest}} {{on_cluster}}
(
    channel_id String,
    post_id UInt32,
    views AggregateFunction(argMax, UInt64, DateTime64(3, 'UTC')),
    forwards AggregateFunction(argMax, UInt64, DateTime64(3, 'UTC')),
    replies AggregateFunction(argMax, UInt64, DateTime64(3, 'UTC')),
    reactions_total AggregateFunction(argMax, UInt64, DateTime64(3, 'UTC')),
    reactions AggregateFunction(argMax, Map(String, UInt64), DateTime64(3, 'UTC')),
    as_of SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
    deleted_at SimpleAggregateFunction(max, Nullable(DateTime64(3, 'UTC')))
)
ENGINE = {{engine AggregatingMergeTree}}
ORDER BY (channel_id, post_id)
SETTINGS non_replicated_deduplication_window = 1000;

{{distributed post_latest cityHash64(channel_id)}};

-- Qualified column names (c.views) keep the source columns apart from the
-- output aliases of the same name.
CREATE MATERIALIZED VIEW IF NOT EXISTS post_latest_counters_mv {{on_cluster}} TO {{local post_latest}} AS
SELECT c.channel_id AS channel_id,
       c.post_id AS post_id,
       argMaxState(c.views, c.event_time) AS views,
       argMaxState(c.forwards, c.event_time) AS forwards,
       argMaxState(c.replies, c.event_time) AS replies,
       argMaxState(c.reactions_total, c.event_time) AS reactions_total,
       argMaxState(c.reactions, c.event_time) AS reactions,
       max(c.event_time) AS as_of
FROM {{local raw_post_counters}} AS c
GROUP BY c.channel_id, c.post_id;

-- A post event's event_time is its publication date; its counters were seen at observed_at.
CREATE MATERIALIZED VIEW IF NOT EXISTS post_latest_posts_mv {{on_cluster}} TO {{local post_latest}} AS
SELECT p.channel_id AS channel_id,
       p.post_id AS post_id,
       argMaxState(p.views, p.observed_at) AS views,
       argMaxState(p.forwards, p.observed_at) AS forwards,
       argMaxState(p.replies, p.observed_at) AS replies,
       argMaxState(p.reactions_total, p.observed_at) AS reactions_total,
       argMaxState(p.reactions, p.observed_at) AS reactions,
       max(p.observed_at) AS as_of
FROM {{local raw_posts}} AS p
GROUP BY p.channel_id, p.post_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS post_latest_deleted_mv {{on_cluster}} TO {{local post_latest}} AS
SELECT d.channel_id AS channel_id,
       arrayJoin(d.post_ids) AS post_id,
       max(d.event_time) AS deleted_at
FROM {{local raw_post_deleted}} AS d
GROUP BY channel_id, post_id;

-- Post metadata (publication date, media, forwards-from, entities), the most
-- recently observed version of each post. Kept apart from post_latest because
-- it is replaced as a whole, never aggregated.
CREATE TABLE IF NOT EXISTS {{local post_meta}} {{on_cluster}}
(
    channel_id String,
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
    source_id String,
    observed_at DateTime64(3, 'UTC')
)
ENGINE = {{engine ReplacingMergeTree(observed_at)}}
ORDER BY (channel_id, post_id)
SETTINGS non_replicated_deduplication_window = 1000;

{{distributed post_meta cityHash64(channel_id)}};

CREATE MATERIALIZED VIEW IF NOT EXISTS post_meta_mv {{on_cluster}} TO {{local post_meta}} AS
SELECT channel_id, post_id, date, edit_date, text_length, media_type, grouped_id,
       forward_from_channel_id, forward_from_post_id, mentions, links, hashtags,
       id AS source_id, observed_at
FROM {{local raw_posts}};

-- Latest subscriber count per channel (argMax by snapshot time).
CREATE TABLE IF NOT EXISTS {{local channel_members_latest}} {{on_cluster}}
(
    channel_id String,
    members AggregateFunction(argMax, UInt64, DateTime64(3, 'UTC')),
    as_of SimpleAggregateFunction(max, DateTime64(3, 'UTC'))
)
ENGINE = {{engine AggregatingMergeTree}}
ORDER BY channel_id
SETTINGS non_replicated_deduplication_window = 1000;

{{distributed channel_members_latest cityHash64(channel_id)}};

CREATE MATERIALIZED VIEW IF NOT EXISTS channel_members_latest_mv {{on_cluster}} TO {{local channel_members_latest}} AS
SELECT m.channel_id AS channel_id,
       argMaxState(m.members, m.event_time) AS members,
       max(m.event_time) AS as_of
FROM {{local raw_channel_members}} AS m
GROUP BY m.channel_id;

-- Latest state of each anomaly: opened → updated → resolved, highest revision wins.
CREATE TABLE IF NOT EXISTS {{local anomalies}} {{on_cluster}}
(
    channel_id String,
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
    updated_at DateTime64(3, 'UTC'),
    resolved_at Nullable(DateTime64(3, 'UTC'))
)
ENGINE = {{engine ReplacingMergeTree(revision)}}
ORDER BY (channel_id, anomaly_id)
SETTINGS non_replicated_deduplication_window = 1000;

{{distributed anomalies cityHash64(channel_id)}};

CREATE MATERIALIZED VIEW IF NOT EXISTS anomalies_mv {{on_cluster}} TO {{local anomalies}} AS
SELECT channel_id, anomaly_id, state, revision, metric, window, window_start, post_id, direction,
       severity, value, expected, band_low, band_high, z, opened_at,
       event_time AS updated_at,
       if(state = 'resolved', event_time, NULL) AS resolved_at
FROM {{local anomaly_events}};

-- Latest trend point per (channel, metric, window[, post]). ReplacingMergeTree
-- with window_start as version is argMax by window_start without a state per
-- column; post_id 0 stands for a channel-level metric (post ids start at 1),
-- keeping the sorting key free of Nullable.
CREATE TABLE IF NOT EXISTS {{local trends_latest}} {{on_cluster}}
(
    channel_id String,
    metric LowCardinality(String),
    window LowCardinality(String),
    post_id UInt32,
    window_start DateTime64(3, 'UTC'),
    value Float64,
    mean Float64,
    sd Float64,
    z Float64,
    n UInt64,
    warm Bool,
    updated_at DateTime64(3, 'UTC')
)
ENGINE = {{engine ReplacingMergeTree(window_start)}}
ORDER BY (channel_id, metric, window, post_id)
SETTINGS non_replicated_deduplication_window = 1000;

{{distributed trends_latest cityHash64(channel_id)}};

CREATE MATERIALIZED VIEW IF NOT EXISTS trends_latest_mv {{on_cluster}} TO {{local trends_latest}} AS
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
       t.event_time AS updated_at
FROM {{local trends}} AS t;
