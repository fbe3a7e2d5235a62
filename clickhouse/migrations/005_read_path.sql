-- Compact serving tables for the read path: every API and bot answer is one
-- warehouse query, plus the channel's freshness (which the API reads for all
-- channels at once). Same rule as 003: every figure is idempotent under
-- duplicate source rows (max, argMax or Replacing).
--
-- Backfills read and write the plain names (on a cluster, the tables over
-- all shards) so that rows land on the shard of their channel. Each view is created before its
-- backfill: a row inserted in between arrives twice, which max and argMax
-- absorb.

-- One row per post: its publication date, media and length (from the post
-- itself) next to its latest counters (from every snapshot) and deletion.
-- Post rankings read this table alone: no join with post_meta, no FINAL.
-- Replaces post_latest, which held the counters only. A post seen only
-- through counter snapshots has a NULL date until the post itself arrives.
-- Small granules: a lookup reads one channel's few hundred posts, and each
-- row carries a reactions map.
CREATE TABLE IF NOT EXISTS {{local post_summary}} {{on_cluster}}
(
    channel_id String,
    post_id UInt32,
    date SimpleAggregateFunction(max, Nullable(DateTime64(3, 'UTC'))),
    media_type AggregateFunction(argMax, String, DateTime64(3, 'UTC')),
    text_length AggregateFunction(argMax, UInt64, DateTime64(3, 'UTC')),
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
SETTINGS index_granularity = 1024, non_replicated_deduplication_window = 1000;

{{distributed post_summary cityHash64(channel_id)}};

CREATE MATERIALIZED VIEW IF NOT EXISTS post_summary_counters_mv {{on_cluster}} TO {{local post_summary}} AS
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
CREATE MATERIALIZED VIEW IF NOT EXISTS post_summary_posts_mv {{on_cluster}} TO {{local post_summary}} AS
SELECT p.channel_id AS channel_id,
       p.post_id AS post_id,
       max(p.date) AS date,
       argMaxState(CAST(p.media_type AS String), p.observed_at) AS media_type,
       argMaxState(p.text_length, p.observed_at) AS text_length,
       argMaxState(p.views, p.observed_at) AS views,
       argMaxState(p.forwards, p.observed_at) AS forwards,
       argMaxState(p.replies, p.observed_at) AS replies,
       argMaxState(p.reactions_total, p.observed_at) AS reactions_total,
       argMaxState(p.reactions, p.observed_at) AS reactions,
       max(p.observed_at) AS as_of
FROM {{local raw_posts}} AS p
GROUP BY p.channel_id, p.post_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS post_summary_deleted_mv {{on_cluster}} TO {{local post_summary}} AS
SELECT d.channel_id AS channel_id,
       arrayJoin(d.post_ids) AS post_id,
       max(d.event_time) AS deleted_at
FROM {{local raw_post_deleted}} AS d
GROUP BY channel_id, post_id;

-- Backfill from the raw tables, through the same expressions as the views.
INSERT INTO post_summary (channel_id, post_id, views, forwards, replies, reactions_total, reactions, as_of)
SELECT channel_id, post_id, argMaxState(views, event_time), argMaxState(forwards, event_time),
       argMaxState(replies, event_time), argMaxState(reactions_total, event_time),
       argMaxState(reactions, event_time), max(event_time)
FROM raw_post_counters GROUP BY channel_id, post_id;

INSERT INTO post_summary (channel_id, post_id, date, media_type, text_length, views, forwards, replies, reactions_total, reactions, as_of)
SELECT channel_id, post_id, max(date), argMaxState(CAST(media_type AS String), observed_at),
       argMaxState(text_length, observed_at), argMaxState(views, observed_at), argMaxState(forwards, observed_at),
       argMaxState(replies, observed_at), argMaxState(reactions_total, observed_at),
       argMaxState(reactions, observed_at), max(observed_at)
FROM raw_posts GROUP BY channel_id, post_id;

INSERT INTO post_summary (channel_id, post_id, deleted_at)
SELECT channel_id, arrayJoin(post_ids) AS post_id, max(event_time)
FROM raw_post_deleted GROUP BY channel_id, post_id;

DROP VIEW IF EXISTS post_latest_counters_mv {{on_cluster}};
DROP VIEW IF EXISTS post_latest_posts_mv {{on_cluster}};
DROP VIEW IF EXISTS post_latest_deleted_mv {{on_cluster}};
DROP TABLE IF EXISTS post_latest {{on_cluster}};
DROP TABLE IF EXISTS {{local post_latest}} {{on_cluster}};

-- Up to when each channel's hourly windows are final: the end of its last
-- final `1h` window. Part of every answer's freshness block; kept here so
-- that it is one row per channel instead of a scan of channel_hourly.
CREATE TABLE IF NOT EXISTS {{local channel_final_until}} {{on_cluster}}
(
    channel_id String,
    final_until SimpleAggregateFunction(max, DateTime64(3, 'UTC'))
)
ENGINE = {{engine AggregatingMergeTree}}
ORDER BY channel_id
SETTINGS non_replicated_deduplication_window = 1000;

{{distributed channel_final_until cityHash64(channel_id)}};

CREATE MATERIALIZED VIEW IF NOT EXISTS channel_final_until_mv {{on_cluster}} TO {{local channel_final_until}} AS
SELECT channel_id, max(window_end) AS final_until
FROM {{local window_aggs}}
WHERE window = '1h' AND final
GROUP BY channel_id;

INSERT INTO channel_final_until (channel_id, final_until)
SELECT channel_id, max(window_end) FROM window_aggs WHERE window = '1h' AND final GROUP BY channel_id;
