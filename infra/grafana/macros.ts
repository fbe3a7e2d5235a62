/**
 * What Grafana does to a ClickHouse panel's SQL before the server sees it,
 * so a test can run a dashboard's queries the way Grafana would:
 *
 * 1. The browser replaces dashboard variables (`$channel`, `${channel}`,
 *    `[[channel]]`). The plugin's formatter (`format` in the plugin's
 *    src/data/CHDatasource.ts) passes a single value through unquoted
 *    (arrays become `'a','b'`), so SQL quotes it: `'${channel}'`.
 *    Unknown names are left alone, which is how `$__timeFilter` survives.
 * 2. The plugin's backend expands its macros, in grafana-plugin-sdk-go's
 *    `sqlutil.Interpolate` (data/sqlutil/macros.go) with the functions of
 *    grafana/clickhouse-datasource's `pkg/macros/macros.go`, e.g. `$__timeFilter(col)` →
 *    `col >= toDateTime(<from s>) AND col <= toDateTime(<to s>)`,
 *    `$__fromTime` → `toDateTime(<from s>)`, `$__interval_s` → whole seconds.
 *
 * `sqlutil` finds a macro's arguments by scanning from the macro to the first
 * balanced parenthesis group, wherever it starts: `least($__toTime, now())`
 * hands `, now(` to `$__toTime`, whose expansion then replaces all of it. A
 * macro without arguments is therefore safe only where a `)` (or the end of
 * the SQL) comes before the next `(`. {@link expandMacros} mirrors that scan
 * and refuses a query where an argument-less macro would swallow text.
 */

/** A dashboard's time range and interval as Grafana sends them with a query. */
export interface QueryContext {
  /** Range start and end, epoch milliseconds. */
  from: number;
  to: number;
  /** The panel's interval (`$__interval`), milliseconds. */
  intervalMs: number;
  /** Dashboard variables by name, each one selected value. */
  variables: Readonly<Record<string, string>>;
}

/** Grafana's template variable syntaxes: `$name`, `[[name]]` or `[[name:fmt]]`, `${name}` or `${name:fmt}`. */
const VARIABLE = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^}]+))?(?::([^}]+))?\}/g;

/** Step 1: dashboard variables replaced as the plugin formats a single value (raw). */
export function interpolateVariables(sql: string, variables: Readonly<Record<string, string>>): string {
  const replace = (
    match: string,
    plain?: string,
    bracket?: string,
    bracketFormat?: string,
    braced?: string,
    fieldPath?: string,
    bracedFormat?: string,
  ): string => {
    const name = plain ?? bracket ?? braced ?? '';
    if (!Object.hasOwn(variables, name)) return match;
    const format = bracketFormat ?? bracedFormat;
    if (fieldPath !== undefined || (format !== undefined && format !== 'raw'))
      throw new Error(`variable ${match}: only the raw format is mirrored here`);
    return variables[name];
  };
  return sql.replace(VARIABLE, replace);
}

type Macro = (ctx: QueryContext, args: string[]) => string;

/** `toDateTime(<seconds>)`: Go's `t.Unix()` drops the milliseconds. */
const dateTime = (ms: number): string => `toDateTime(${Math.floor(ms / 1000)})`;
const dateTime64 = (ms: number): string => `fromUnixTimestamp64Milli(${ms})`;
const date = (ms: number): string => `toDate('${new Date(ms).toISOString().slice(0, 10)}')`;
/** The interval in whole seconds, at least 1 (Go: `int(math.Max(seconds, 1))`). */
const intervalSeconds = (ctx: QueryContext): number => Math.trunc(Math.max(ctx.intervalMs / 1000, 1));

function oneArg(name: string, args: string[]): string {
  if (args.length !== 1) throw new Error(`$__${name}: expected 1 argument, received ${args.length}`);
  return args[0];
}

function range(column: string, ctx: QueryContext, at: (ms: number) => string): string {
  return `${column} >= ${at(ctx.from)} AND ${column} <= ${at(ctx.to)}`;
}

/** The plugin's macros (pkg/macros/macros.go); they replace the SDK defaults of the same name. */
const MACROS: Record<string, Macro> = {
  fromTime: (ctx) => dateTime(ctx.from),
  toTime: (ctx) => dateTime(ctx.to),
  fromTime_ms: (ctx) => dateTime64(ctx.from),
  toTime_ms: (ctx) => dateTime64(ctx.to),
  timeFilter: (ctx, args) => range(oneArg('timeFilter', args), ctx, dateTime),
  timeFilter_ms: (ctx, args) => range(oneArg('timeFilter_ms', args), ctx, dateTime64),
  dateFilter: (ctx, args) => range(oneArg('dateFilter', args), ctx, date),
  dateTimeFilter: (ctx, args) => dateTimeFilter(ctx, args),
  dt: (ctx, args) => dateTimeFilter(ctx, args),
  timeInterval: (ctx, args) =>
    `toStartOfInterval(toDateTime(${oneArg('timeInterval', args)}), INTERVAL ${intervalSeconds(ctx)} second)`,
  timeInterval_ms: (ctx, args) =>
    `toStartOfInterval(toDateTime64(${oneArg('timeInterval_ms', args)}, 3), INTERVAL ${Math.trunc(Math.max(ctx.intervalMs, 1))} millisecond)`,
  interval_s: (ctx) => String(intervalSeconds(ctx)),
};

function dateTimeFilter(ctx: QueryContext, args: string[]): string {
  if (args.length !== 2) throw new Error(`$__dateTimeFilter: expected 2 arguments, received ${args.length}`);
  return `(${range(args[0], ctx, date)}) AND (${range(args[1], ctx, dateTime)})`;
}

/** Macros that take no arguments: whatever the scan hands them is replaced along with the macro. */
const NO_ARGUMENTS = new Set(['fromTime', 'toTime', 'fromTime_ms', 'toTime_ms', 'interval_s']);

/**
 * The text a macro occurrence spans and its argument text, found as
 * `sqlutil` does: from the macro on, the first parenthesis group that opens before any
 * unmatched `)` is its argument list, however far away it starts.
 */
function spanAt(sql: string, start: number, nameEnd: number): { text: string; args: string } {
  const rest = sql.slice(start);
  let depth = 0;
  let argStart = 0;
  let end = 0;
  for (let i = 0; i < rest.length; i++) {
    if (depth === 0 && end > 0) break;
    const c = rest[i];
    if (c === '(') {
      depth++;
      if (argStart === 0) argStart = i + 1;
    } else if (c === ')') {
      if (depth === 0) {
        end = 0;
        break;
      }
      depth--;
      end = i + 1;
    }
  }
  if (end === 0) end = nameEnd - start;
  if (argStart > 0 && argStart > end - 1) throw new Error(`unbalanced parentheses after ${rest.slice(0, 40)}…`);
  return { text: rest.slice(0, end), args: argStart > 0 ? rest.slice(argStart, end - 1) : '' };
}

/** Step 2: the plugin's macros expanded (each occurrence's text replaced wherever it recurs, as `strings.ReplaceAll`). */
export function expandMacros(sql: string, ctx: QueryContext): string {
  let out = sql;
  for (const [name, macro] of Object.entries(MACROS)) {
    const occurrences = [...out.matchAll(new RegExp(`\\$__${name}\\b`, 'g'))].map((m) =>
      spanAt(out, m.index, m.index + m[0].length),
    );
    for (const { text, args } of occurrences) {
      if (NO_ARGUMENTS.has(name) && text !== `$__${name}` && text !== `$__${name}()`)
        throw new Error(`$__${name} would take "${text}" as its arguments: put a ")" before the next "(" after it`);
      out = out.replaceAll(
        text,
        macro(
          ctx,
          args.split(',').map((a) => a.trim()),
        ),
      );
    }
  }
  const left = out.match(/\$__\w+/);
  if (left) throw new Error(`${left[0]} is not a macro of the ClickHouse plugin`);
  return out;
}

/** Both steps: the SQL the ClickHouse server receives for a dashboard query. */
export function sqlAsGrafanaSendsIt(sql: string, ctx: QueryContext): string {
  return expandMacros(interpolateVariables(sql, ctx.variables), ctx);
}
