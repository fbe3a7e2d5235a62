/**
 * Backtest of the channel forecasts through the real pipeline: simulated
 * channels published to a private nats-server, turned into serving tables
 * by the processors and sinks (a local warehouse server in the data folder),
 * then forecasts made by the API's read model as of past days — 30 days back
 * and earlier, a week apart — set against what happened. Prints, per metric
 * and per week of horizon, how often the actual day fell inside the 80 % and
 * 95 % bands, and the point forecast's mean and median absolute percentage
 * error.
 *
 *   npm run bench:forecast -- [--channels 12] [--days 120] [--seeds 1,2] [--horizon 30] [--origins 6]
 *
 * Counters are polled hourly (test/support/forecast-data.ts): the daily
 * series are alike and the run is many times shorter.
 */
import { parseArgs } from 'node:util';
import { DAY_MS } from '../common/index.ts';
import {
  backtestPoints,
  scoreBacktest,
  type BacktestPoint,
  type BacktestScore,
} from '../read/models/forecast-backtest.ts';
import { FORECAST_METRICS } from '../read/models/forecast.ts';
import { produceDailySeries } from '../test/support/forecast-data.ts';

const START = Date.UTC(2026, 0, 5);

const { values } = parseArgs({
  options: {
    channels: { type: 'string', default: '12' },
    days: { type: 'string', default: '120' },
    seeds: { type: 'string', default: '1,2' },
    horizon: { type: 'string', default: '30' },
    origins: { type: 'string', default: '6' },
  },
});
const channelsPerSeed = Number(values.channels);
const days = Number(values.days);
const seeds = values.seeds.split(',').map(Number);
const horizon = Number(values.horizon);
const originCount = Number(values.origins);
const end = START + days * DAY_MS;
// The latest origin leaves a whole horizon of actuals; earlier ones step back a week each.
const origins = Array.from({ length: originCount }, (_, i) => end - (horizon + 7 * i) * DAY_MS).filter(
  (t) => t - START >= 28 * DAY_MS,
);
if (origins.length === 0) throw new Error(`--days ${days} leaves no origin with four weeks of history before it`);

/** Backtest points of one seed's channels, both metrics. */
async function runSeed(seed: number): Promise<Map<string, BacktestPoint[]>> {
  const started = performance.now();
  const data = await produceDailySeries({ seed, channels: channelsPerSeed, start: START, days });
  try {
    const seconds = (performance.now() - started) / 1000;
    process.stdout.write(`seed ${seed}: ${data.events} events through the pipeline in ${seconds.toFixed(0)} s\n`);
    const out = new Map<string, BacktestPoint[]>();
    for (const metric of FORECAST_METRICS) {
      const q = { channels: data.channels, metric, origins, horizonDays: horizon };
      out.set(metric, await backtestPoints(data.pipe.warehouse, q));
    }
    return out;
  } finally {
    await data.close();
  }
}

const pct = (r: number | null) => (r === null ? '–' : `${(r * 100).toFixed(1)} %`);
const row = (label: string, s: BacktestScore) =>
  `${label.padEnd(14)} ${String(s.points).padStart(6)}  ${pct(s.coverage80).padStart(7)}  ${pct(s.coverage95).padStart(7)}  ${pct(s.mape).padStart(8)}  ${pct(s.medianApe).padStart(8)}`;

const byMetric = new Map<string, BacktestPoint[]>();
for (const seed of seeds) {
  for (const [metric, points] of await runSeed(seed))
    byMetric.set(metric, [...(byMetric.get(metric) ?? []), ...points]);
}
process.stdout.write(
  `\nForecasts of ${seeds.length * channelsPerSeed} simulated channels (seeds ${seeds.join(', ')}, ${days} days), ` +
    `${origins.length} origins a week apart from ${horizon} days before the end, ${horizon} days ahead\n\n`,
);
process.stdout.write(
  `${'metric / days'.padEnd(14)} ${'points'.padStart(6)}  ${'in 80%'.padStart(7)}  ${'in 95%'.padStart(7)}  ${'MAPE'.padStart(8)}  ${'median'.padStart(8)}\n`,
);
for (const [metric, points] of byMetric) {
  process.stdout.write(`${row(metric, scoreBacktest(points))}\n`);
  for (let from = 1; from <= horizon; from += 7) {
    const to = Math.min(horizon, from + 6);
    process.stdout.write(`${row(`  ${from}–${to}`, scoreBacktest(points.filter((p) => p.h >= from && p.h <= to)))}\n`);
  }
}
process.stdout.write(`${row('all', scoreBacktest([...byMetric.values()].flat()))}\n`);
