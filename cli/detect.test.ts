import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { genericSeriesConfig, scoreSeries } from '../processors/operators/index.ts';
import { parseDetectArgs, parseTimestamp, runDetect, splitCsvLine } from './detect.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tgpulse-detect-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A 5-minute series with noise, an injected spike at row 300 and a few bad rows. */
function seriesCsv(): string {
  const rows = ['label,value,timestamp'];
  const start = Date.UTC(2014, 3, 10, 7, 15);
  for (let i = 0; i < 500; i++) {
    const ts = new Date(start + i * 300_000).toISOString().replace('T', ' ').slice(0, 19);
    let value = (50 + 5 * Math.sin(i / 20) + 2 * Math.sin(i * 12.9898)).toFixed(3);
    if (i === 300) value = '120';
    if (i === 100) value = '';
    if (i === 101) value = 'n/a';
    rows.push(`x,${value},${ts}`);
  }
  return `${rows.join('\n')}\n`;
}

const sink = () => {
  let text = '';
  return {
    write: (s: string) => (text += s),
    get text() {
      return text;
    },
  };
};

describe('tgpulse detect', () => {
  it('scores every row in input order and flags the injected spike', async () => {
    const input = join(dir, 'series.csv');
    const output = join(dir, 'scores.csv');
    await writeFile(input, seriesCsv());
    expect(await runDetect(['--input', input, '--output', output])).toBe(0);
    const lines = (await readFile(output, 'utf8')).trim().split('\n');
    expect(lines[0]).toBe('timestamp,value,anomaly_score');
    expect(lines).toHaveLength(501);
    const rows = lines.slice(1).map((l) => l.split(','));
    expect(rows[0][0]).toBe('2014-04-10 07:15:00');
    const scores = rows.map((r) => Number(r[2]));
    expect(scores.every((s) => s >= 0 && s <= 1)).toBe(true);
    expect(scores[300]).toBeGreaterThanOrEqual(0.5);
    expect(scores.filter((s) => s >= 0.5)).toHaveLength(1);
    // Empty and non-numeric values score 0 and are written back as they were.
    expect(rows[100]).toEqual([rows[100][0], '', '0']);
    expect(rows[101][1]).toBe('n/a');
  });

  it('accepts the detector options on the command line', async () => {
    const input = join(dir, 'series2.csv');
    const output = join(dir, 'scores2.csv');
    await writeFile(input, seriesCsv());
    const code = await runDetect([
      '--input',
      input,
      '--output',
      output,
      '--alpha',
      '0.1',
      '--z-open=5',
      '--z-close',
      '1',
      '--warmup',
      '20',
      '--seasonality',
      '0',
      '--transform',
      'log1p',
      '--robust',
      'off',
      '--calibration',
      'off',
    ]);
    expect(code).toBe(0);
  });

  it('says which column is missing', async () => {
    const input = join(dir, 'bad.csv');
    await writeFile(input, 'time,val\n1,2\n');
    const err = sink();
    expect(await runDetect(['--input', input, '--output', join(dir, 'o.csv')], err)).toBe(1);
    expect(err.text).toContain('no timestamp and value column');
  });

  it('says when the input file cannot be read', async () => {
    const err = sink();
    expect(await runDetect(['--input', join(dir, 'missing.csv'), '--output', join(dir, 'o.csv')], err)).toBe(1);
    expect(err.text).toContain('cannot read --input');
  });

  it('rejects bad options with a usage hint', () => {
    expect(parseDetectArgs(['--input', 'a']).ok).toBe(false);
    const r = parseDetectArgs(['--input', 'a', '--output', 'b', '--alpha', '3']);
    expect(r.ok === false && r.error).toContain('--alpha expects a number in');
    const z = parseDetectArgs(['--input', 'a', '--output', 'b', '--z-close', '9']);
    expect(z.ok === false && z.error).toContain('must not exceed --z-open');
    expect(parseDetectArgs(['--input', 'a', '--output', 'b', '--robust', 'maybe']).ok).toBe(false);
    expect(parseDetectArgs(['--input', 'a', '--output', 'b', '--calibration', 'maybe']).ok).toBe(false);
  });
});

describe('scores', () => {
  it('reach 0.5 only where an anomaly opens; a lasting one scores below on its later rows', () => {
    const values = Array.from({ length: 600 }, (_, i) => 10 + Math.sin(i * 7.1) + (i >= 400 ? 30 : 0));
    const scores = Array.from(scoreSeries(values, null, genericSeriesConfig));
    expect(scores.flatMap((s, i) => (s >= 0.5 ? [i] : []))).toEqual([400]);
    expect(Math.max(...scores.slice(401))).toBeLessThanOrEqual(0.45);
  });

  it('use only the rows up to the scored one (strictly online), seasons and all', () => {
    const values = Array.from(
      { length: 1500 },
      (_, i) => 10 + 5 * Math.sin((2 * Math.PI * i) / 288) + Math.sin(i * 7.1),
    );
    const times = values.map((_, i) => Date.UTC(2014, 3, 10) + i * 300_000);
    const full = scoreSeries(values, times, genericSeriesConfig);
    const prefix = scoreSeries(values.slice(0, 1200), times.slice(0, 1200), genericSeriesConfig);
    expect(Array.from(full.slice(0, 1200))).toEqual(Array.from(prefix));
  });

  it('read timestamps as benchmark files write them', () => {
    const t = Date.UTC(2014, 3, 10, 7, 15);
    expect(parseTimestamp('2014-04-10 07:15:00')).toBe(t);
    expect(parseTimestamp('2014-04-10T07:15:00Z')).toBe(t);
    expect(parseTimestamp('2014-04-10T09:15:00+02:00')).toBe(t);
    expect(parseTimestamp(String(t / 1000))).toBe(t);
    expect(parseTimestamp(String(t))).toBe(t);
    expect(parseTimestamp('2014-04-10')).toBe(Date.UTC(2014, 3, 10));
    expect(parseTimestamp('yesterday')).toBeNull();
    expect(parseTimestamp('')).toBeNull();
  });

  it('split quoted CSV fields', () => {
    expect(splitCsvLine('"a,b",2,"say ""hi"""')).toEqual(['a,b', '2', 'say "hi"']);
  });
});
