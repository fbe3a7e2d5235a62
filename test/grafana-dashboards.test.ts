/**
 * The Grafana dashboards (infra/grafana/): the committed JSON is what the
 * generator writes now, and every ClickHouse query in it — panel targets,
 * variables, annotations — runs on a warehouse filled with simulated
 * channels, as the read-only `reader` user Grafana connects as, with the
 * variables and macros expanded the way Grafana and the ClickHouse plugin
 * expand them, and returns the columns its panel reads and at least one row.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channelIdOf, generateData } from '../bench/api-data.ts';
import { openTempWarehouse, sharedTestWarehouse, type TempWarehouse } from '../clickhouse/testing.ts';
import { DAY_MS, HOUR_MS } from '../common/index.ts';
import { type RecordedSql, CLICKHOUSE } from '../infra/grafana/clickhouse.ts';
import { DASHBOARDS, DASHBOARDS_DIR, renderDashboard } from '../infra/grafana/dashboards.ts';
import { expandMacros, interpolateVariables, type QueryContext, sqlAsGrafanaSendsIt } from '../infra/grafana/macros.ts';

const CHANNELS = 4;
const DAYS = 14;
/** A fixed end: the generated data (and so the chosen channel) is the same in every run. */
const END = Date.UTC(2026, 0, 15);

/** Every ClickHouse SQL text a dashboard's JSON holds, by where it sits. */
function clickHouseSqlIn(dashboard: any): Array<{ where: string; sql: string }> {
  const isCh = (ds: any) => ds?.type === CLICKHOUSE.type;
  const out: Array<{ where: string; sql: string }> = [];
  for (const panel of dashboard.panels ?? [])
    for (const t of panel.targets ?? [])
      if (isCh(t.datasource) || isCh(panel.datasource))
        out.push({ where: `panel "${panel.title}" ${t.refId}`, sql: t.rawSql });
  for (const v of dashboard.templating?.list ?? [])
    if (isCh(v.datasource)) out.push({ where: `variable ${v.name}`, sql: v.query.rawSql });
  for (const a of dashboard.annotations?.list ?? [])
    if (isCh(a.datasource)) out.push({ where: `annotation "${a.name}"`, sql: a.target.rawSql });
  return out;
}

describe('dashboards as code', () => {
  it('commits exactly what the generator writes (run `npm run dashboards` after changing infra/grafana)', () => {
    for (const { file, build } of DASHBOARDS)
      expect(readFileSync(new URL(file, DASHBOARDS_DIR), 'utf8'), file).toBe(renderDashboard(build()));
    const committed = readdirSync(DASHBOARDS_DIR).filter((f) => f.endsWith('.json'));
    expect(committed.sort()).toEqual(DASHBOARDS.map((d) => d.file).sort());
  });

  it('records every ClickHouse query a dashboard holds, with the columns it must return', () => {
    for (const { file, build } of DASHBOARDS) {
      const generated = build();
      const inJson = clickHouseSqlIn(JSON.parse(renderDashboard(generated)));
      expect(inJson.map((q) => `${q.where}\n${q.sql}`).sort(), file).toEqual(
        generated.sql.queries.map((q) => `${q.where}\n${q.sql}`).sort(),
      );
    }
  });

  it('gives panel ids that are unique within each dashboard', () => {
    for (const { file, build } of DASHBOARDS) {
      const ids = (build().dashboard.panels ?? []).map((p) => (p as { id?: number }).id);
      expect(
        ids.every((id) => typeof id === 'number'),
        file,
      ).toBe(true);
      expect(new Set(ids).size, file).toBe(ids.length);
    }
  });
});

describe('macro expansion mirrors the ClickHouse plugin', () => {
  const ctx: QueryContext = {
    from: Date.UTC(2026, 0, 1, 0, 0, 0, 999),
    to: Date.UTC(2026, 0, 2),
    intervalMs: 90_500,
    variables: { channel: '1001', tz: 'UTC' },
  };
  const from = Date.UTC(2026, 0, 1) / 1000;
  const to = Date.UTC(2026, 0, 2) / 1000;

  it('expands time filters to whole seconds, and the interval to whole seconds', () => {
    expect(expandMacros('WHERE $__timeFilter(window_start)', ctx)).toBe(
      `WHERE window_start >= toDateTime(${from}) AND window_start <= toDateTime(${to})`,
    );
    expect(expandMacros('SELECT ($__fromTime), $__toTime', ctx)).toBe(
      `SELECT (toDateTime(${from})), toDateTime(${to})`,
    );
    expect(expandMacros('toStartOfInterval(t, INTERVAL $__interval_s second)', ctx)).toBe(
      'toStartOfInterval(t, INTERVAL 90 second)',
    );
    expect(expandMacros('$__timeFilter(max(date))', ctx)).toBe(
      `max(date) >= toDateTime(${from}) AND max(date) <= toDateTime(${to})`,
    );
  });

  it('refuses an argument-less macro that the plugin would let swallow the next parenthesis group', () => {
    expect(() => expandMacros('WHERE t <= least($__toTime, now())', ctx)).toThrow(/would take/);
    expect(() => expandMacros('WHERE t <= least(now(), $__toTime)', ctx)).not.toThrow();
    expect(() => expandMacros('WHERE $__timeFilter(a, b)', ctx)).toThrow(/expected 1 argument/);
    expect(() => expandMacros('WHERE $__timeGroup(a, 1h)', ctx)).toThrow(/not a macro/);
  });

  it('inserts single variable values raw, and leaves unknown names to the macros', () => {
    expect(interpolateVariables(`x = '\${channel}' AND y = '$channel' AND $__timeFilter(t)`, ctx.variables)).toBe(
      `x = '1001' AND y = '1001' AND $__timeFilter(t)`,
    );
  });
});

describe('every ClickHouse query on a filled warehouse', () => {
  let temp: TempWarehouse;
  let reader: ClickHouseClient;
  let ctx: QueryContext;

  beforeAll(async () => {
    temp = await openTempWarehouse();
    await generateData(temp.wh, { channels: CHANNELS, days: DAYS, end: END });
    // A channel other tracked channels forward from, and which forwards others, so every source list has rows.
    const [pick] = await temp.wh.query<{ channel_id: string }>(
      `SELECT channel_id FROM post_meta FINAL
       WHERE forward_from_channel_id IS NOT NULL AND forward_from_channel_id != channel_id
         AND channel_id IN (SELECT forward_from_channel_id FROM post_meta FINAL WHERE forward_from_channel_id != channel_id)
       GROUP BY channel_id ORDER BY count() DESC, channel_id LIMIT 1`,
    );
    const channel = pick?.channel_id ?? channelIdOf(0);
    // The generator makes no official statistics (Telegram's own, read over MTProto): a few days of "views by source".
    await temp.wh.exec(
      `INSERT INTO raw_channel_stats (v, id, channel_id, event_time, observed_at, source, metric, series, t, value)
       SELECT 1, concat('cs_', series, toString(d)), {channel:String}, t + INTERVAL 12 HOUR AS event_time, event_time, 'mtproto',
              'views_by_source', series, t, 100 * d + length(series)
       FROM (SELECT arrayJoin(['Channels', 'Search', 'URL']) AS series, number AS d,
                    fromUnixTimestamp64Milli(toInt64({end:Int64} - (number + 2) * ${DAY_MS}), 'UTC') AS t
             FROM numbers(3))`,
      { channel, end: END },
    );
    const shared = sharedTestWarehouse();
    if (!shared) throw new Error('the suite warehouse is not running (vitest global setup)');
    // Grafana's data source connects as the reader, over HTTP, to the warehouse's database.
    reader = createClient({
      url: shared.url,
      ...shared.reader,
      database: temp.config.database,
      log: { level: ClickHouseLogLevel.OFF },
    });
    ctx = {
      from: END - DAYS * DAY_MS,
      to: END,
      intervalMs: HOUR_MS,
      variables: { channel, tz: 'Europe/Berlin' },
    };
  });

  afterAll(async () => {
    await reader?.close();
    await temp?.dispose();
  });

  const queries: Array<[string, RecordedSql]> = DASHBOARDS.flatMap(({ file, build }) =>
    build().sql.queries.map((q): [string, RecordedSql] => [`${file}: ${q.where}`, q]),
  );

  it.each(queries)('%s', async (_, q) => {
    const sql = sqlAsGrafanaSendsIt(q.sql, ctx);
    const answer = await (await reader.query({ query: sql, format: 'JSON' })).json<Record<string, unknown>>();
    expect(answer.meta?.map((m) => m.name)).toEqual(q.columns);
    expect(answer.data.length).toBeGreaterThan(0);
    const allNull = q.columns.filter(
      (c) => !q.nullable?.includes(c) && answer.data.every((row) => row[c] === null || row[c] === undefined),
    );
    expect(allNull, 'columns NULL in every row').toEqual([]);
  });

  it('runs as the read-only reader, as Grafana does', async () => {
    await expect(reader.command({ query: 'CREATE TABLE grafana_probe (x UInt8) ENGINE = Memory' })).rejects.toThrow(
      /privileges/,
    );
  });
});
