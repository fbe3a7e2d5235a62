/**
 * Data for `bench/api.ts`: simulated channels written straight into chDB with
 * `INSERT … SELECT … FROM numbers(…)`, so the materialized views of
 * migrations 003 and 004 fill the serving tables exactly as the sinks'
 * inserts would in production — only much faster than the pipeline (about
 * 14k events/s), which would take hours for 1,000 channels × 90 days.
 *
 * Shaped like the simulator (ingest/simulator/): per channel a subscriber
 * base log-uniform over 1e3..1e6 with a slow trend, 3–8 posts a day in the
 * owner's daytime, final views per post in proportion to subscribers and
 * reached along a saturating curve, interactions in proportion to views.
 * What is written:
 *
 *   raw_posts            one row per post: its content and its counters at
 *                        96 h of age (or at the end of the data)
 *   raw_post_counters    snapshots at 1 h, 6 h, 24 h and 72 h of age
 *   raw_channel_members  one snapshot per hour
 *   window_aggs          final `1h` windows (views gained from the same view
 *                        curves, posts published, subscribers gained/lost
 *                        matching consecutive snapshots) and `1d` windows
 *                        folded from them
 *   trends               the latest point of every channel metric, and
 *                        views-at-age points of the last two days' posts
 *   anomaly_events       six anomalies per channel, all but one resolved
 *
 * Every value is a hash of its coordinates (channel, day, slot, salt), so a
 * run is reproducible given the same scale and end hour.
 */
import { fromChTime, toSafeInt } from '../clickhouse/values.ts';
import { DAY_MS, HOUR_MS } from '../common/index.ts';
import type { Warehouse } from '../clickhouse/warehouse.ts';

/** Channel `i` is `1002000000 + i`: ten-digit ids like real ones, apart from the simulator's. */
const CHANNEL_ID_BASE = 1_002_000_000;
/** At most this many posts a channel-day (slots of `numbers()` per day). */
const SLOTS = 10;
/** Posts start this many days before the windows, so the first hours already see older posts' views. */
const LEAD_DAYS = 4;
/** Hours of a post's age whose views are folded into windows: past 96 h less than 0.1 % is left (τ ≤ 14 h). */
const AGE_HOURS = 97;
/** Channels per INSERT: bounds the memory of the widest statement (posts × 97 hours of age). */
const CHUNK = 100;
/** Ages of the counter snapshots, as the poller's bands would space them. */
const SNAPSHOT_AGES = [HOUR_MS, 6 * HOUR_MS, DAY_MS, 3 * DAY_MS];

/** Size and end of a generated data set. */
export interface DataSpan {
  channels: number;
  days: number;
  /** Exclusive end of the windows (epoch ms, a whole hour). */
  end: number;
}

/** Channel id (decimal string) of the channel at `index`. */
export function channelIdOf(index: number): string {
  return String(CHANNEL_ID_BASE + index);
}

/** A deterministic number in [0, 1) from SQL expressions: the same coordinates give the same value in every run. */
function u(...parts: Array<string | number>): string {
  return `(cityHash64(${parts.join(', ')}) % 1000000 / 1000000)`;
}

/** Epoch-ms SQL expression as a `DateTime64(3, 'UTC')`. */
function ms(expr: string): string {
  return `fromUnixTimestamp64Milli(toInt64(${expr}), 'UTC')`;
}

/** A deterministic event id: readable prefix plus a 128-bit hash of the identifying parts. */
function idSql(prefix: string, ...parts: string[]): string {
  return `concat('${prefix}_', hex(sipHash128(${parts.join(', ')})))`;
}

/** The SQL texts of one chunk of channels `[first, first + count)`. */
class Chunk {
  readonly start: number;
  readonly hourCount: number;
  readonly firstDay: number;
  readonly postDays: number;

  constructor(
    readonly span: DataSpan,
    readonly first: number,
    readonly count: number,
  ) {
    this.start = span.end - span.days * DAY_MS;
    this.hourCount = span.days * 24;
    this.firstDay = Math.floor(this.start / DAY_MS) * DAY_MS - LEAD_DAYS * DAY_MS;
    this.postDays = Math.ceil((span.end - this.firstDay) / DAY_MS);
  }

  /** One row per channel with its behaviour, drawn from its index. */
  channelRows(): string {
    return `
      SELECT ch, toString(${CHANNEL_ID_BASE} + ch) AS channel_id,
             1000 * pow(1000, ${u('ch', 1)}) AS subs0,
             3 + 5 * ${u('ch', 2)} AS ppd,
             0.1 + 0.4 * ${u('ch', 3)} AS reach,
             ${3 * HOUR_MS} * pow(14 / 3, ${u('ch', 4)}) AS tau_ms,
             0.002 * pow(10, ${u('ch', 5)}) AS fpv,
             0.005 * pow(8, ${u('ch', 6)}) AS rpv,
             if(${u('ch', 7)} < 0.5, 0, 0.0005 * pow(10, ${u('ch', 8)})) AS repv,
             -0.002 + 0.008 * ${u('ch', 9)} AS growth,
             0.001 + 0.004 * ${u('ch', 10)} AS churn,
             [3, 3, 3, 2, 1, 0, -3, -5, 5, 8][1 + cityHash64(ch, 11) % 10] AS tz_h,
             toUInt32(2 + cityHash64(ch, 12) % 40000) AS first_post_id,
             toInt64(cityHash64(ch, 13) % ${HOUR_MS}) AS members_phase_ms
      FROM (SELECT toUInt64(${this.first} + number) AS ch FROM numbers(${this.count}))`;
  }

  /**
   * Subscribers at hour `h` of the windows: a smooth trend with a little
   * noise per hour; gained − lost of a window is the change between two of these.
   */
  #members(h: string): string {
    return `round(subs0 * exp(growth * (${h}) / 24) * (1 + 0.0004 * (${u('ch', h, 14)} - 0.5)))`;
  }

  /** One row per channel-hour of the windows, with the subscribers at its snapshot and at the one before. */
  hourRows(): string {
    return `
      SELECT *, ${this.start} + h * ${HOUR_MS} AS ws_ms, ${this.#members('h')} AS m_now, ${this.#members('h - 1')} AS m_prev
      FROM (
        SELECT toUInt64(${this.first} + intDiv(number, ${this.hourCount})) AS ch, toInt64(number % ${this.hourCount}) AS h
        FROM numbers(${this.count * this.hourCount})
      ) AS grid INNER JOIN (${this.channelRows()}) AS chan USING (ch)`;
  }

  /**
   * One row per post: `n` posts on a channel-day, spread over 07–23 local
   * time in publication order, so post ids grow with dates.
   */
  postRows(): string {
    return `
      SELECT *,
             least(${SLOTS}, toInt64(floor(ppd + 4 * (${u('ch', 'd', 15)} - 0.5)))) AS n,
             toInt64(${this.firstDay} + d * ${DAY_MS} + (7 + (k + ${u('ch', 'd', 'k', 16)}) * 16 / n - tz_h) * ${HOUR_MS}) AS date_ms,
             toUInt32(first_post_id + d * ${SLOTS} + k) AS post_id,
             subs0 * exp(growth * (date_ms - ${this.start}) / ${DAY_MS}) * reach
               * exp(1.2 * (${u('ch', 'd', 'k', 17)} - 0.5)) * if(${u('ch', 'd', 'k', 18)} < 0.01, 5, 1) AS final_views
      FROM (
        SELECT toUInt64(${this.first} + intDiv(number, ${this.postDays * SLOTS})) AS ch,
               toInt64(intDiv(number, ${SLOTS}) % ${this.postDays}) AS d,
               toInt64(number % ${SLOTS}) AS k
        FROM numbers(${this.count * this.postDays * SLOTS})
      ) AS slot INNER JOIN (${this.channelRows()}) AS chan USING (ch)
      WHERE k < n AND date_ms < ${this.span.end}`;
  }

  /** The channel ids of this chunk, for statements that read back what was written. */
  ids(): string {
    return `SELECT toString(${CHANNEL_ID_BASE + this.first} + number) FROM numbers(${this.count})`;
  }
}

/**
 * A post's cumulative counters at `age` (ms SQL expression, ≥ 0) on its
 * saturating view curve. A negative age would wrap toUInt64 to ~2^64.
 */
function countersAt(age: string): string {
  return `toUInt64(floor(final_views * (1 - exp(-(${age}) / tau_ms)))) AS views,
          toUInt64(floor(views * fpv)) AS forwards,
          toUInt64(floor(views * repv)) AS replies,
          toUInt64(floor(views * rpv)) AS reactions_total,
          map('👍', toUInt64(floor(reactions_total * 0.5)), '❤', toUInt64(floor(reactions_total * 0.3)),
              '🔥', toUInt64(reactions_total - floor(reactions_total * 0.5) - floor(reactions_total * 0.3))) AS reactions`;
}

/**
 * The usual value of a channel metric in its window (hourly counts, posts per
 * day), from the channel's behaviour: what a detector's EWMA mean would hold.
 */
const TYPICAL = `multiIf(metric = 'posts', ppd,
                         metric IN ('subscribers_gained', 'subscribers_lost'), subs0 * churn / 24,
                         subs0 * reach * ppd / 24 * multiIf(metric = 'forwards', fpv, metric = 'reactions', rpv, 1))`;

/** `INSERT INTO table (columns) SELECT columns FROM (source)`: the column list is written once, so it cannot drift. */
function insertSql(table: string, columns: readonly string[], source: string): string {
  const list = columns.join(', ');
  return `INSERT INTO ${table} (${list}) SELECT ${list} FROM (${source})`;
}

const ENVELOPE = ['v', 'id', 'channel_id', 'event_time', 'observed_at', 'source'];
/** Envelope columns of a row observed at `at` (ms SQL expression). */
function envelope(id: string, at: string): string {
  return `1 AS v, ${id} AS id, ${ms(at)} AS event_time, event_time AS observed_at, 'simulator' AS source`;
}

const WINDOW_COLUMNS = [
  ...ENVELOPE,
  'window',
  'window_start',
  'window_end',
  'revision',
  'final',
  'views',
  'forwards',
  'replies',
  'reactions',
  'views_baseline',
  'posts',
  'members_last',
  'members_min',
  'members_max',
  'subscribers_gained',
  'subscribers_lost',
  'events',
];
const TREND_COLUMNS = [
  ...ENVELOPE,
  'metric',
  'window',
  'window_start',
  'post_id',
  'value',
  'mean',
  'sd',
  'z',
  'n',
  'warm',
];

/** The statements that write one chunk, in order, each with the table it names for progress. */
function chunkStatements(c: Chunk): Array<[string, string]> {
  const { start, hourCount: hours } = c;
  const end = c.span.end;
  const contributions = `
    SELECT ch, toInt64(intDiv(hour_ms - ${start}, ${HOUR_MS})) AS h, sum(gain) AS vg, countIf(a = 0) AS published
    FROM (
      SELECT ch, a, intDiv(date_ms, ${HOUR_MS}) * ${HOUR_MS} + toInt64(a) * ${HOUR_MS} AS hour_ms,
             final_views * (exp(-greatest(hour_ms - date_ms, 0) / tau_ms) - exp(-(hour_ms + ${HOUR_MS} - date_ms) / tau_ms)) AS gain
      FROM (${c.postRows()}) ARRAY JOIN range(${AGE_HOURS}) AS a
    )
    WHERE hour_ms >= ${start} AND hour_ms < ${end}
    GROUP BY ch, h`;
  return [
    [
      'raw_channel_members',
      insertSql(
        'raw_channel_members',
        [...ENVELOPE, 'members'],
        `SELECT channel_id, ${envelope(idSql('cm', 'channel_id', 'h'), 'ws_ms + members_phase_ms')}, toUInt64(m_now) AS members FROM (${c.hourRows()})`,
      ),
    ],
    [
      'raw_posts',
      insertSql(
        'raw_posts',
        [
          ...ENVELOPE,
          'post_id',
          'date',
          'edit_date',
          'text_length',
          'media_type',
          'grouped_id',
          'forward_from_channel_id',
          'forward_from_post_id',
          'mentions',
          'links',
          'hashtags',
          'views',
          'forwards',
          'replies',
          'reactions_total',
          'reactions',
        ],
        // A post event's event_time is its publication date; its counters were seen at observed_at.
        `SELECT channel_id, post_id, 1 AS v, ${idSql('post', 'channel_id', 'post_id')} AS id, ${ms('date_ms')} AS event_time,
                ${ms(`greatest(date_ms, least(date_ms + ${4 * DAY_MS}, ${end - 60_000}))`)} AS observed_at, 'simulator' AS source,
                event_time AS date, NULL AS edit_date,
                if(${u('ch', 'post_id', 19)} < 0.2, 0, toUInt64(40 + 900 * ${u('ch', 'post_id', 20)})) AS text_length,
                ['none', 'photo', 'photo', 'video', 'webpage', 'document', 'poll'][1 + cityHash64(ch, post_id, 21) % 7] AS media_type,
                NULL AS grouped_id,
                ${u('ch', 'post_id', 22)} < 0.05 AS forwarded,
                if(forwarded, toNullable(toString(${CHANNEL_ID_BASE} + cityHash64(ch, post_id, 23) % ${c.span.channels})), NULL) AS forward_from_channel_id,
                if(forwarded, toNullable(toUInt32(1 + cityHash64(ch, post_id, 24) % 40000)), NULL) AS forward_from_post_id,
                if(${u('ch', 'post_id', 25)} < 0.1, [concat('@chan_', toString(cityHash64(ch, post_id, 26) % 200))], []) AS mentions,
                if(${u('ch', 'post_id', 27)} < 0.25,
                   [concat('https://', ['example.com', 't.me', 'news.example.org', 'youtube.com'][1 + cityHash64(ch, post_id, 28) % 4],
                           '/a/', toString(cityHash64(ch, post_id, 29) % 100000))], []) AS links,
                if(${u('ch', 'post_id', 30)} < 0.2, [['#news', '#crypto', '#ai', '#sport', '#tech'][1 + cityHash64(ch, post_id, 31) % 5]], []) AS hashtags,
                ${countersAt('toUnixTimestamp64Milli(observed_at) - date_ms')}
         FROM (${c.postRows()})`,
      ),
    ],
    [
      'raw_post_counters',
      insertSql(
        'raw_post_counters',
        [...ENVELOPE, 'post_id', 'post_date', 'views', 'forwards', 'replies', 'reactions_total', 'reactions'],
        `SELECT channel_id, post_id, ${envelope(idSql('pc', 'channel_id', 'post_id', 'age'), 'at_ms')}, ${ms('date_ms')} AS post_date,
                ${countersAt('at_ms - date_ms')}
         FROM (
           SELECT *, age, date_ms + age + toInt64(cityHash64(ch, post_id, age) % 300000) AS at_ms
           FROM (${c.postRows()}) ARRAY JOIN [${SNAPSHOT_AGES.join(', ')}] AS age
         )
         WHERE at_ms < ${end}`,
      ),
    ],
    [
      'window_aggs (1h)',
      insertSql(
        'window_aggs',
        WINDOW_COLUMNS,
        // Emitted when the window closes; gained − lost is exactly the change between snapshots.
        `SELECT channel_id, ${envelope(idSql('wa', 'channel_id', "'1h'", 'ws_ms'), `ws_ms + ${HOUR_MS}`)},
                '1h' AS window, ${ms('ws_ms')} AS window_start, event_time AS window_end, toUInt32(1) AS revision, true AS final,
                toInt64(round(vg)) AS views, toInt64(round(vg * fpv)) AS forwards, toInt64(round(vg * repv)) AS replies,
                toInt64(round(vg * rpv)) AS reactions, toInt64(0) AS views_baseline, toUInt64(published) AS posts,
                toUInt64(m_now) AS members_last, members_last AS members_min, members_last AS members_max,
                toUInt64(round(m_now * churn / 24 * (0.5 + ${u('ch', 'h', 32)}))) AS base,
                base + toUInt64(greatest(m_now - m_prev, 0)) AS subscribers_gained,
                base + toUInt64(greatest(m_prev - m_now, 0)) AS subscribers_lost,
                toUInt64(published * 4 + 13) AS events
         FROM (${c.hourRows()}) AS hr LEFT JOIN (${contributions}) AS contrib USING (ch, h)`,
      ),
    ],
    [
      'window_aggs (1d)',
      insertSql(
        'window_aggs',
        WINDOW_COLUMNS,
        // Whole UTC days only: a day still running has no final `1d` window yet.
        `SELECT channel_id, ${envelope(idSql('wa', 'channel_id', "'1d'", 'ws_ms'), `ws_ms + ${DAY_MS}`)},
                '1d' AS window, ${ms('ws_ms')} AS window_start, event_time AS window_end, toUInt32(1) AS revision, true AS final,
                d_views AS views, d_forwards AS forwards, d_replies AS replies, d_reactions AS reactions, toInt64(0) AS views_baseline,
                d_posts AS posts, d_last AS members_last, d_min AS members_min, d_max AS members_max,
                d_gained AS subscribers_gained, d_lost AS subscribers_lost, d_events AS events
         FROM (
           SELECT channel_id, intDiv(toUnixTimestamp64Milli(window_start), ${DAY_MS}) * ${DAY_MS} AS ws_ms,
                  sum(views) AS d_views, sum(forwards) AS d_forwards, sum(replies) AS d_replies, sum(reactions) AS d_reactions,
                  sum(posts) AS d_posts, argMax(members_last, window_start) AS d_last, min(members_min) AS d_min,
                  max(members_max) AS d_max, sum(subscribers_gained) AS d_gained, sum(subscribers_lost) AS d_lost,
                  sum(events) AS d_events, count() AS n_hours
           FROM window_aggs WHERE window = '1h' AND channel_id IN (${c.ids()})
           GROUP BY channel_id, ws_ms HAVING n_hours = 24
         )`,
      ),
    ],
    [
      'trends (channels)',
      insertSql(
        'trends',
        TREND_COLUMNS,
        `SELECT channel_id, ${envelope(idSql('tr', 'channel_id', 'metric', 'ws_ms'), 'ws_ms + size')},
                tupleElement(m, 1) AS metric, tupleElement(m, 2) AS window, tupleElement(m, 3) AS size,
                intDiv(${end} - size, size) * size AS ws_ms, ${ms('ws_ms')} AS window_start, NULL AS post_id,
                ${TYPICAL} * (0.8 + 0.4 * ${u('ch', 'metric', 33)}) AS mean, 0.3 * mean AS sd, 6 * (${u('ch', 'metric', 34)} - 0.5) AS z,
                greatest(0, mean + z * sd) AS value, toUInt64(${hours} / intDiv(size, ${HOUR_MS})) AS n, true AS warm
         FROM (${c.channelRows()})
         ARRAY JOIN [('views', '1h', ${HOUR_MS}), ('forwards', '1h', ${HOUR_MS}), ('reactions', '1h', ${HOUR_MS}),
                     ('subscribers_gained', '1h', ${HOUR_MS}), ('subscribers_lost', '1h', ${HOUR_MS}), ('posts', '1d', ${DAY_MS})] AS m`,
      ),
    ],
    [
      'trends (posts)',
      insertSql(
        'trends',
        TREND_COLUMNS,
        // Post-level points are keyed by the post's date, one per age label (views_at_age).
        `SELECT channel_id, post_id, ${envelope(idSql('tr', 'channel_id', 'post_id', 'window'), 'date_ms + age')},
                'views_at_age' AS metric, tupleElement(pa, 2) AS window, tupleElement(pa, 1) AS age,
                ${ms('date_ms')} AS window_start,
                floor(final_views * (1 - exp(-age / tau_ms))) AS value, 6 * (${u('ch', 'post_id', 'age', 35)} - 0.5) AS z,
                value / (1 + 0.25 * z) AS mean, 0.25 * mean AS sd, toUInt64(200) AS n, true AS warm
         FROM (${c.postRows()}) ARRAY JOIN [(${HOUR_MS}, '1h'), (${6 * HOUR_MS}, '6h'), (${DAY_MS}, '1d')] AS pa
         WHERE date_ms >= ${end - 2 * DAY_MS} AND date_ms + age <= ${end}`,
      ),
    ],
    [
      'anomaly_events',
      insertSql(
        'anomaly_events',
        [
          ...ENVELOPE,
          'anomaly_id',
          'state',
          'revision',
          'metric',
          'window',
          'window_start',
          'post_id',
          'direction',
          'severity',
          'value',
          'expected',
          'band_low',
          'band_high',
          'z',
          'opened_at',
        ],
        // Anomaly 0 of each channel stays open (the listing counts open ones); the others resolve 3 h after opening.
        `SELECT channel_id, ${envelope(idSql('an', 'anomaly_id', 'rev'), 'ev_ms')},
                ${idSql('anom', 'channel_id', 'j')} AS anomaly_id, if(rev = 1, 'opened', 'resolved') AS state, toUInt32(rev) AS revision,
                ['views', 'forwards', 'reactions', 'subscribers_gained', 'subscribers_lost', 'posts'][1 + cityHash64(ch, j, 36) % 6] AS metric,
                if(metric = 'posts', '1d', '1h') AS window, if(metric = 'posts', ${DAY_MS}, ${HOUR_MS}) AS size,
                intDiv(${start} + toInt64(cityHash64(ch, j, 37) % ${hours - 30}) * ${HOUR_MS}, size) * size AS ws_ms,
                ${ms('ws_ms')} AS window_start, NULL AS post_id,
                ws_ms + size + 60000 AS opened_ms, ${ms('opened_ms')} AS opened_at, opened_ms + (rev - 1) * ${3 * HOUR_MS} AS ev_ms,
                if(${u('ch', 'j', 38)} < 0.7, 'spike', 'drop') AS direction,
                ['info', 'warning', 'critical'][1 + cityHash64(ch, j, 39) % 3] AS severity,
                ${TYPICAL} * (0.8 + 0.4 * ${u('ch', 'j', 40)}) AS expected, 0.2 * expected AS band_half,
                expected - band_half AS band_low, expected + band_half AS band_high,
                if(direction = 'spike', 1, -1) * (3.5 + 4 * ${u('ch', 'j', 41)}) AS z,
                greatest(0, expected + z * band_half / 2) AS value
         FROM (${c.channelRows()}) ARRAY JOIN range(6) AS j ARRAY JOIN [1, 2] AS rev
         WHERE ev_ms < ${end} AND NOT (j = 0 AND rev = 2)`,
      ),
    ],
  ];
}

/** What generating took. */
export interface GenerationReport {
  ms: number;
  /** Milliseconds per statement kind, summed over chunks. */
  byStatement: Map<string, number>;
}

/**
 * Write `span` into a migrated, empty warehouse, `CHUNK` channels per
 * statement; `progress` hears after every chunk.
 */
export async function generateData(
  wh: Warehouse,
  span: DataSpan,
  progress: (done: number) => void = () => undefined,
): Promise<GenerationReport> {
  // Anomalies are placed in the span's hours but its last 30: two days leave room for them.
  if (!Number.isInteger(span.days) || span.days < 2)
    throw new RangeError(`days must be an integer ≥ 2, got ${span.days}`);
  if (span.end % HOUR_MS !== 0) throw new RangeError('the end of the data must be a whole hour');
  const t0 = performance.now();
  const byStatement = new Map<string, number>();
  for (let first = 0; first < span.channels; first += CHUNK) {
    const chunk = new Chunk(span, first, Math.min(CHUNK, span.channels - first));
    for (const [name, sql] of chunkStatements(chunk)) {
      const t = performance.now();
      await wh.exec(sql);
      byStatement.set(name, (byStatement.get(name) ?? 0) + performance.now() - t);
    }
    progress(first + chunk.count);
  }
  return { ms: performance.now() - t0, byStatement };
}

/** Serving tables the API reads, and post_summary counted by post (it holds one aggregate state per part). */
const SERVING_TABLES = [
  'channel_hourly',
  'channel_daily',
  'post_summary',
  'channel_final_until',
  'post_meta',
  'post_timeline',
  'channel_members_latest',
  'channel_sources',
  'anomalies',
  'trends_latest',
] as const;

/** Size of one serving table. */
export interface TableSize {
  table: string;
  rows: number;
  /** Distinct entities where rows are states to merge (post_summary: posts). */
  distinct: number | null;
  parts: number;
  bytes: number;
}

/** Rows, active parts and bytes on disk of every serving table. */
export async function servingSizes(wh: Warehouse): Promise<TableSize[]> {
  const parts = await wh.query<{ table: string; parts: string; bytes: string }>(
    `SELECT table, count() AS parts, sum(bytes_on_disk) AS bytes FROM system.parts
     WHERE active AND database = currentDatabase() AND has({tables:Array(String)}, table) GROUP BY table`,
    { tables: [...SERVING_TABLES] },
  );
  const partsBy = new Map(parts.map((p) => [p.table, p]));
  const out: TableSize[] = [];
  for (const table of SERVING_TABLES) {
    const distinctSql = table === 'post_summary' ? 'uniqExact(channel_id, post_id)' : 'NULL';
    const [row] = await wh.query<{ rows: string; distinct: string | null }>(
      `SELECT count() AS rows, ${distinctSql} AS distinct FROM ${table}`,
    );
    const p = partsBy.get(table);
    out.push({
      table,
      rows: toSafeInt(row.rows),
      distinct: row.distinct === null ? null : toSafeInt(row.distinct),
      parts: p ? toSafeInt(p.parts) : 0,
      bytes: p ? toSafeInt(p.bytes) : 0,
    });
  }
  return out;
}

/**
 * Wait until chDB has no merge running (two quiet checks in a row), so the
 * background merges of freshly inserted parts do not share the CPU with the
 * measurements. Returns the milliseconds waited.
 */
export async function settleMerges(wh: Warehouse, timeoutMs = 120_000): Promise<number> {
  const t0 = performance.now();
  let quiet = 0;
  while (quiet < 2 && performance.now() - t0 < timeoutMs) {
    const [row] = await wh.query<{ n: string }>('SELECT count() AS n FROM system.merges');
    quiet = toSafeInt(row.n) === 0 ? quiet + 1 : 0;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return performance.now() - t0;
}

/** What the load generator may ask for: every channel with a few of its posts. */
export interface Targets {
  channels: string[];
  /** Post ids per channel (in the order of `channels`), spread over its history. */
  posts: number[][];
  /** Exclusive end of the windows (epoch ms). */
  end: number;
  /** Days of windows in the data. */
  days: number;
}

/** Channels and sample posts of the data in `wh`, whoever generated it. */
export async function readTargets(wh: Warehouse, postsPerChannel = 3): Promise<Targets> {
  const rows = await wh.query<{ channel_id: string; posts: number[] }>(
    `SELECT channel_id, groupArray({n:UInt32})(post_id) AS posts
     FROM (SELECT channel_id, post_id FROM post_meta ORDER BY channel_id, cityHash64(post_id))
     GROUP BY channel_id ORDER BY channel_id`,
    { n: postsPerChannel },
  );
  const [span] = await wh.query<{ first: string; end: string }>(
    'SELECT min(window_start) AS first, max(window_end) AS end FROM channel_hourly',
  );
  if (rows.length === 0) throw new Error('the warehouse holds no posts: generate data first');
  const end = fromChTime(span.end);
  return {
    channels: rows.map((r) => r.channel_id),
    posts: rows.map((r) => r.posts.map(Number)),
    end,
    days: Math.round((end - fromChTime(span.first)) / DAY_MS),
  };
}
