-- The citation graph of the tracked corpus: one row per citing post and
-- channel it cites, kept by a materialized view over raw_posts, so that the
-- citation index and rankings (read/models/citations.ts, rankings.ts) read
-- small edges instead of every post.
--
-- A post cites a channel when it is a forward of one of its posts
-- (forward_from_channel_id), or names it: an @username mention, a
-- t.me/<username> link, or a t.me/c/<id>/<post> link. A channel citing
-- itself is no citation. The warehouse knows channels by id only (usernames
-- live in the control plane), so a citation by username is kept as
-- '@username' in lower case, and the read side resolves it to the channel
-- that holds that username when it answers.
--
-- At least once without double counting: the key is the edge itself (cited,
-- citing channel, citing post), so every copy of a post and every later
-- observation of it collapses into one row (the newest observation wins),
-- and readers count edges with FINAL, never sum rows. An edit that removes a
-- citation from a post leaves its edge (the edges of a post are only ever
-- added).
--
-- Erasure (`channels forget`, clickhouse/erase-plan.ts): both columns end in
-- `channel_id` and are not Nullable, so forgetting a channel deletes the
-- edges in both directions. Serving table: no TTL (clickhouse/retention.ts).
-- On a cluster it is sharded by the citing channel, as raw_posts is: every
-- copy of a post's edges lands on one shard.
CREATE TABLE IF NOT EXISTS {{local citations}} {{on_cluster}}
(
    cited_channel_id String,
    citing_channel_id String,
    citing_post_id UInt32,
    date DateTime64(3, 'UTC'),
    forwarded UInt8,
    mentioned UInt8,
    observed_at DateTime64(3, 'UTC')
)
ENGINE = {{engine ReplacingMergeTree(observed_at)}}
ORDER BY (cited_channel_id, citing_channel_id, citing_post_id)
SETTINGS non_replicated_deduplication_window = 1000;

{{distributed citations cityHash64(citing_channel_id)}};

-- forwarded: the forward's source, when there is one; named: the distinct
-- channels the post names (lower-case usernames as '@name', ids as is). The
-- username shape is Telegram's (5 to 32 letters, digits and _, starting with
-- a letter; 4 accepted for older names); anything else is no citation.
CREATE MATERIALIZED VIEW IF NOT EXISTS citations_mv {{on_cluster}} TO {{local citations}} AS
SELECT cited AS cited_channel_id,
       p.channel_id AS citing_channel_id,
       p.post_id AS citing_post_id,
       p.date AS date,
       toUInt8(has(fwd, cited)) AS forwarded,
       toUInt8(has(named, cited)) AS mentioned,
       p.observed_at AS observed_at
FROM {{local raw_posts}} AS p
ARRAY JOIN arrayDistinct(arrayConcat(
    if(p.forward_from_channel_id IS NULL, CAST([], 'Array(String)'), [assumeNotNull(p.forward_from_channel_id)]) AS fwd,
    arrayDistinct(arrayFilter(x -> x != '', arrayConcat(
        arrayMap(m -> if(match(m, '^@[A-Za-z][A-Za-z0-9_]{3,31}$'), lower(m), ''), p.mentions),
        arrayMap(l -> multiIf(
            extract(l, '^(?i)(?:https?://)?(?:www\\.)?(?:t\\.me|telegram\\.me)/c/([0-9]{1,20})(?:[/?#]|$)') != '',
            extract(l, '^(?i)(?:https?://)?(?:www\\.)?(?:t\\.me|telegram\\.me)/c/([0-9]{1,20})(?:[/?#]|$)'),
            extract(l, '^(?i)(?:https?://)?(?:www\\.)?(?:t\\.me|telegram\\.me)/(?:s/)?([a-z][a-z0-9_]{3,31})(?:[/?#]|$)') != '',
            concat('@', lower(extract(l, '^(?i)(?:https?://)?(?:www\\.)?(?:t\\.me|telegram\\.me)/(?:s/)?([a-z][a-z0-9_]{3,31})(?:[/?#]|$)'))),
            ''), p.links)
    ))) AS named
)) AS cited
WHERE cited != p.channel_id;

-- Backfill from the posts already in the warehouse, through the same
-- expressions. The view exists already: a post inserted in between arrives
-- twice, which the table's key absorbs.
INSERT INTO citations (cited_channel_id, citing_channel_id, citing_post_id, date, forwarded, mentioned, observed_at)
SELECT cited, p.channel_id, p.post_id, p.date, toUInt8(has(fwd, cited)), toUInt8(has(named, cited)), p.observed_at
FROM raw_posts AS p
ARRAY JOIN arrayDistinct(arrayConcat(
    if(p.forward_from_channel_id IS NULL, CAST([], 'Array(String)'), [assumeNotNull(p.forward_from_channel_id)]) AS fwd,
    arrayDistinct(arrayFilter(x -> x != '', arrayConcat(
        arrayMap(m -> if(match(m, '^@[A-Za-z][A-Za-z0-9_]{3,31}$'), lower(m), ''), p.mentions),
        arrayMap(l -> multiIf(
            extract(l, '^(?i)(?:https?://)?(?:www\\.)?(?:t\\.me|telegram\\.me)/c/([0-9]{1,20})(?:[/?#]|$)') != '',
            extract(l, '^(?i)(?:https?://)?(?:www\\.)?(?:t\\.me|telegram\\.me)/c/([0-9]{1,20})(?:[/?#]|$)'),
            extract(l, '^(?i)(?:https?://)?(?:www\\.)?(?:t\\.me|telegram\\.me)/(?:s/)?([a-z][a-z0-9_]{3,31})(?:[/?#]|$)') != '',
            concat('@', lower(extract(l, '^(?i)(?:https?://)?(?:www\\.)?(?:t\\.me|telegram\\.me)/(?:s/)?([a-z][a-z0-9_]{3,31})(?:[/?#]|$)'))),
            ''), p.links)
    ))) AS named
)) AS cited
WHERE cited != p.channel_id;
