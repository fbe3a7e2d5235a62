/**
 * `tgpulse detect`: runs the pipeline's {@link SeriesDetector} over one CSV
 * series so its quality can be scored offline (e.g. on the Numenta Anomaly
 * Benchmark). Strictly online: the score of a row uses only the rows before it
 * and the row itself.
 *
 * ```sh
 * tgpulse detect --input series.csv --output scores.csv --z-open 5
 * ```
 *
 * The input needs a header with `timestamp` and `value` columns (any order,
 * other columns ignored); the output has `timestamp,value,anomaly_score`, one
 * row per input row, in input order. Timestamps (ISO 8601, or epoch seconds
 * or milliseconds) give the sampling interval, from which daily and weekly
 * seasons are modelled; unreadable ones leave rows evenly spaced. A row whose
 * value is empty or not a number scores 0 and leaves the detector untouched.
 * Defaults: `genericSeriesConfig` in processors/operators/score-series.ts.
 */
import { readFile, writeFile } from 'node:fs/promises';
import {
  genericSeriesConfig,
  scoreSeries,
  type SeriesDetectorConfig,
  type SeriesTransform,
} from '../processors/operators/index.ts';

export interface DetectOptions {
  input: string;
  output: string;
  detector: SeriesDetectorConfig;
}

const USAGE =
  'usage: tgpulse detect --input series.csv --output scores.csv [--alpha A] [--z-open Z] [--z-close Z] [--warmup N] ' +
  '[--cooldown N] [--seasonality N] [--transform none|log1p] [--robust on|off] [--calibration on|off]';

/** Parses the command line; returns the options or a message saying what is wrong. */
export function parseDetectArgs(
  argv: readonly string[],
): { ok: true; options: DetectOptions } | { ok: false; error: string } {
  let input: string | null = null;
  let output: string | null = null;
  const det: SeriesDetectorConfig = { ...genericSeriesConfig };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : null;
    const take = (): string | null => inline ?? (i + 1 < argv.length ? argv[++i] : null);
    const value = flag.startsWith('--') ? take() : null;
    if (!flag.startsWith('--')) return { ok: false, error: `unexpected argument ${JSON.stringify(arg)}\n${USAGE}` };
    if (value === null) return { ok: false, error: `${flag} needs a value\n${USAGE}` };
    const num = (min: number, max: number, integer = false): number | string => {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
        return `${flag} expects ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got ${JSON.stringify(value)}`;
      }
      return n;
    };
    let r: number | string | null = null;
    switch (flag) {
      case '--input':
        input = value;
        break;
      case '--output':
        output = value;
        break;
      case '--alpha':
        r = num(Number.MIN_VALUE, 1);
        if (typeof r === 'number') det.alpha = r;
        break;
      case '--z-open':
        r = num(Number.MIN_VALUE, 1e6);
        if (typeof r === 'number') det.zOpen = r;
        break;
      case '--z-close':
        r = num(0, 1e6);
        if (typeof r === 'number') det.zClose = r;
        break;
      case '--warmup':
        r = num(1, 1e9, true);
        if (typeof r === 'number') det.warmup = r;
        break;
      case '--cooldown':
        r = num(0, 1e9, true);
        if (typeof r === 'number') det.cooldown = r;
        break;
      case '--seasonality':
        // A period in rows, modelled besides the daily and weekly ones the timestamps give.
        r = num(0, 10_000, true);
        if (typeof r === 'number') det.periods = r > 1 ? [r] : [];
        break;
      case '--transform':
        if (value !== 'none' && value !== 'log1p')
          return { ok: false, error: `--transform expects none or log1p, got ${JSON.stringify(value)}` };
        det.transform = value as SeriesTransform;
        break;
      case '--robust':
        if (value !== 'on' && value !== 'off')
          return { ok: false, error: `--robust expects on or off, got ${JSON.stringify(value)}` };
        det.robust = value === 'on';
        break;
      case '--calibration':
        if (value !== 'on' && value !== 'off')
          return { ok: false, error: `--calibration expects on or off, got ${JSON.stringify(value)}` };
        det.calibration = value === 'on' ? genericSeriesConfig.calibration : null;
        break;
      default:
        return { ok: false, error: `unknown option ${flag}\n${USAGE}` };
    }
    if (typeof r === 'string') return { ok: false, error: r };
  }
  if (!input || !output) return { ok: false, error: `--input and --output are required\n${USAGE}` };
  if (det.zClose > det.zOpen)
    return { ok: false, error: `--z-close (${det.zClose}) must not exceed --z-open (${det.zOpen})` };
  return { ok: true, options: { input, output, detector: det } };
}

/** Splits one CSV line into fields (RFC 4180 quotes; no line breaks inside fields). */
export function splitCsvLine(line: string): string[] {
  const fields: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      fields.push(cur);
      cur = '';
    } else cur += c;
  }
  fields.push(cur);
  return fields;
}

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * A timestamp cell in epoch ms: ISO 8601 (a zone-less one is read as UTC,
 * as benchmark files mean it), or epoch seconds or milliseconds; null if unreadable.
 */
export function parseTimestamp(cell: string | undefined): number | null {
  const s = (cell ?? '').trim();
  if (s === '') return null;
  if (/^-?\d+(\.\d+)?$/.test(s)) {
    const n = Number(s);
    // Below 1e11 it can only be seconds (1e11 ms is 1973; 1e11 s is the year 5138).
    return Math.abs(n) < 1e11 ? n * 1000 : n;
  }
  const zoned = /(Z|[+-]\d{2}:?\d{2})$/i.test(s);
  const withTime = /\d[ T]\d/.test(s);
  const t = Date.parse(zoned || !withTime ? s : `${s.replace(' ', 'T')}Z`);
  return Number.isFinite(t) ? t : null;
}

/** A parsed number, or null for an empty or non-numeric cell. */
function parseValue(cell: string | undefined): number | null {
  const s = (cell ?? '').trim();
  if (s === '') return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : null;
}

/** Reads the series, scores it, writes the scores; returns the process exit code. */
export async function runDetect(
  argv: string[],
  stderr: { write(s: string): unknown } = process.stderr,
): Promise<number> {
  const parsed = parseDetectArgs(argv);
  if (!parsed.ok) {
    stderr.write(`tgpulse detect: ${parsed.error}\n`);
    return 2;
  }
  const { input, output, detector } = parsed.options;
  let text: string;
  try {
    text = await readFile(input, 'utf8');
  } catch (err) {
    stderr.write(`tgpulse detect: cannot read --input ${input}: ${(err as Error).message}\n`);
    return 1;
  }
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1].trim() === '') lines.pop();
  if (lines.length === 0) {
    stderr.write(`tgpulse detect: ${input} is empty: expected a header with timestamp and value columns\n`);
    return 1;
  }
  const header = splitCsvLine(lines[0].replace(/^\uFEFF/, '')).map((h) => h.trim().toLowerCase());
  const ti = header.indexOf('timestamp');
  const vi = header.indexOf('value');
  const missing = [ti < 0 ? 'timestamp' : null, vi < 0 ? 'value' : null].filter((x) => x !== null);
  if (missing.length > 0) {
    stderr.write(
      `tgpulse detect: ${input} has no ${missing.join(' and ')} column (header: ${lines[0].slice(0, 200)}); the header must name timestamp and value\n`,
    );
    return 1;
  }
  const rows = lines.slice(1).map(splitCsvLine);
  const scores = scoreSeries(
    rows.map((r) => parseValue(r[vi])),
    rows.map((r) => parseTimestamp(r[ti])),
    detector,
  );
  const outLines = ['timestamp,value,anomaly_score'];
  for (const [i, r] of rows.entries()) {
    outLines.push(`${csvField(r[ti] ?? '')},${csvField(r[vi] ?? '')},${Number(scores[i].toFixed(6))}`);
  }
  try {
    await writeFile(output, `${outLines.join('\n')}\n`);
  } catch (err) {
    stderr.write(`tgpulse detect: cannot write --output ${output}: ${(err as Error).message}\n`);
    return 1;
  }
  return 0;
}
