/**
 * Official statistics graphs (stats.getBroadcastStats, stats.loadAsyncGraph,
 * stats.getMessageStats) → `channel_stats` points.
 *
 * A loaded graph is Telegram's chart JSON:
 * `{"columns":[["x",t1,t2,…],["y0",v1,v2,…],…],"types":{"x":"x","y0":"line"},"names":{"y0":"Joined"}}`
 * with x in milliseconds. Each non-x column becomes a series; each (series, x)
 * with a finite value becomes one point. A graph that cannot be read throws
 * {@link GraphFormatError}, which the collector logs, counts and sends to the
 * dead-letter stream — the rest of the statistics go on.
 *
 * ```ts
 * for (const { metric, graph } of graphsOf(stats)) {
 *   if (graph instanceof Api.StatsGraph) events.push(...pointsOfGraph(metric, graph, obs));
 * }
 * ```
 */
import { Api } from 'telegram';
import {
  EARLIEST_EVENT_MS,
  LATEST_EVENT_MS,
  SCHEMA_VERSION,
  type ChannelStatsEvent,
  eventId,
} from '../../streams/contract/index.ts';
import { clampText, type Observation } from './parse.ts';

/** Longest series name taken from a graph (before the caller's prefix). */
export const MAX_SERIES_NAME = 64;
/** Longest prefix accepted, so prefix + name stays within the contract's 256. */
export const MAX_SERIES_PREFIX = 128;

/** A graph that cannot be read: why, for the log line, metric label and DLQ entry. */
export class GraphFormatError extends Error {
  /** The metric whose graph failed, e.g. `growth`. */
  readonly metric: string;
  /** What is wrong with it, short and without the graph itself. */
  readonly reason: string;

  constructor(metric: string, reason: string, options?: { cause?: unknown }) {
    super(
      `statistics graph "${metric}" cannot be read: ${reason}; its points are skipped — send the graph to the dead-letter stream`,
      options,
    );
    this.name = 'GraphFormatError';
    this.metric = metric;
    this.reason = reason;
  }
}

/**
 * Field name of stats.BroadcastStats → metric name: the camelCase name minus
 * its `Graph` suffix, in snake_case (`viewsBySourceGraph` → `views_by_source`),
 * so metric names follow the schema Telegram adds graphs to without a table here.
 */
export function metricOfGraphField(field: string): string {
  return field
    .replace(/Graph$/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

function isStatsGraph(v: unknown): v is Api.TypeStatsGraph {
  return v instanceof Api.StatsGraph || v instanceof Api.StatsGraphAsync || v instanceof Api.StatsGraphError;
}

/**
 * The graph fields of an Api.stats.BroadcastStats (every property whose value
 * is a StatsGraph, StatsGraphAsync or StatsGraphError) with their metric
 * names. Found by value, not from a list, so graphs of a newer layer are
 * collected too; async ones are for the caller to load, errors to report.
 */
export function graphsOf(stats: Api.stats.BroadcastStats): Array<{ metric: string; graph: Api.TypeStatsGraph }> {
  const out: Array<{ metric: string; graph: Api.TypeStatsGraph }> = [];
  for (const [field, value] of Object.entries(stats)) {
    if (isStatsGraph(value)) out.push({ metric: metricOfGraphField(field), graph: value });
  }
  return out;
}

/**
 * A series label as a stable snake_case name: "Total followers" →
 * `total_followers`. Letters of any script are kept (labels may be localised).
 */
export function seriesNameOf(label: string): string {
  const name = label
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '_')
    .replace(/^_+|_+$/g, '');
  return clampText(name, MAX_SERIES_NAME).replace(/_+$/, '');
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A column as Telegram sends it: its key first, then one value per x. */
interface Column {
  key: string;
  values: unknown[];
}

function readColumns(metric: string, parsed: unknown): Column[] {
  if (!isRecord(parsed) || !Array.isArray(parsed.columns)) throw new GraphFormatError(metric, 'no columns array');
  return parsed.columns.map((c: unknown, i: number) => {
    if (!Array.isArray(c) || typeof c[0] !== 'string' || c[0] === '') {
      throw new GraphFormatError(metric, `column #${i} is not [key, ...values]`);
    }
    return { key: c[0], values: c.slice(1) };
  });
}

/**
 * Points of one loaded graph: one series per non-x column, named from
 * `names` in snake_case (unnamed → the column key), one `channel_stats` event
 * per (series, x) with a finite value — nulls are gaps, not zeros. Two columns
 * that name alike keep apart by their key (`views_y1`), so no point overwrites
 * another. `seriesPrefix` scopes per-post graphs: `pointsOfGraph('post_views', g, obs, '42/')`
 * gives series `42/views`.
 *
 * @throws GraphFormatError for bad JSON, no columns array, no x column, a
 * column whose length differs from x, or an x that is not a time in ms.
 */
export function pointsOfGraph(
  metric: string,
  graph: Api.StatsGraph,
  obs: Observation,
  seriesPrefix = '',
): ChannelStatsEvent[] {
  if (seriesPrefix.length > MAX_SERIES_PREFIX) {
    throw new RangeError(
      `series prefix of ${seriesPrefix.length} characters for "${metric}" exceeds ${MAX_SERIES_PREFIX}; use a short scope such as the post id`,
    );
  }
  const data = graph.json instanceof Api.DataJSON ? graph.json.data : undefined;
  if (typeof data !== 'string') throw new GraphFormatError(metric, 'graph carries no JSON data');
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch (err) {
    throw new GraphFormatError(metric, `invalid JSON (${(err as Error).message.slice(0, 120)})`, { cause: err });
  }
  const columns = readColumns(metric, parsed);
  const types = isRecord(parsed) && isRecord(parsed.types) ? parsed.types : {};
  const names = isRecord(parsed) && isRecord(parsed.names) ? parsed.names : {};

  const xIndex = columns.findIndex((c) => types[c.key] === 'x');
  const x = columns[xIndex >= 0 ? xIndex : columns.findIndex((c) => c.key === 'x')];
  if (x === undefined) throw new GraphFormatError(metric, 'no x column');
  const times = x.values.map((t, i) => {
    if (typeof t !== 'number' || !Number.isFinite(t))
      throw new GraphFormatError(metric, `x value #${i} is not a finite number`);
    // The contract's range of event times: a point outside it could only be dead-lettered downstream.
    if (!Number.isInteger(t) || t < EARLIEST_EVENT_MS || t > LATEST_EVENT_MS)
      throw new GraphFormatError(metric, `x value #${i} (${t}) is not a time in ms from 2013 to 2299`);
    return t;
  });

  const out: ChannelStatsEvent[] = [];
  const used = new Set<string>();
  for (const column of columns) {
    if (column === x) continue;
    if (column.values.length !== times.length) {
      throw new GraphFormatError(
        metric,
        `column "${column.key.slice(0, 32)}" has ${column.values.length} values for ${times.length} x values`,
      );
    }
    const label = names[column.key];
    const keyName = clampText(column.key, MAX_SERIES_NAME);
    let name = (typeof label === 'string' ? seriesNameOf(label) : '') || keyName;
    if (used.has(name)) name = clampText(`${name}_${keyName}`, MAX_SERIES_NAME);
    used.add(name);
    const series = seriesPrefix + name;
    for (let i = 0; i < times.length; i++) {
      const value = column.values[i];
      if (typeof value !== 'number' || !Number.isFinite(value)) continue;
      const t = times[i];
      out.push({
        v: SCHEMA_VERSION,
        kind: 'channel_stats',
        id: eventId('cs', obs.channelId, metric, series, t),
        channel_id: obs.channelId,
        event_time: obs.observedAt,
        observed_at: obs.observedAt,
        source: 'mtproto',
        data: { metric, series, t, value },
      });
    }
  }
  return out;
}
