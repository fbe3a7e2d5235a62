/**
 * Detection quality, two ways:
 *
 * 1. Offline, on labelled series generated independently of the simulator
 *    (quality/series-families.ts), scored with the windowed, early-rewarding
 *    rules of the public anomaly benchmark (quality/windowed-score.ts), for
 *    `tgpulse detect`'s defaults next to reference detectors (the previous
 *    default among them), per profile at each detector's best threshold and
 *    at 0.5; per family; and the detector's rate on one core.
 * 2. The default processor config on simulated channels, without NATS: per
 *    seed, a run with anomalies (precision, recall, false alarms per metric,
 *    missed labels per kind) and a calm run (`anomalies: 'none'`: every alarm
 *    is false; alarms per channel-day is the false-alarm rate).
 *
 *   npm run bench:detection -- [--corpus-seeds 1,2,3,4,5] [--seeds 1,2,3,4,5,7] [--channels 12] [--days 21]
 *     [--rate 0.1] [--order step|batch] [--verbose]
 *
 * `--order`: how events reach the partitions (see `runDetection`); `step`, the default, is how
 * the simulate role and the end-to-end tests publish.
 */
import { parseArgs } from 'node:util';
import { Simulator } from '../ingest/simulator/simulator.ts';
import { defaultProcessorConfig, type ProcessorConfig } from '../processors/operators/config.ts';
import {
  countByMetric,
  runDetection,
  scoreDetections,
  type DetectionScore,
  type FeedOrder,
} from '../quality/detection.ts';
import { DAY_MS } from '../common/time.ts';
import { genericSeriesConfig, scoreSeries } from '../processors/operators/score-series.ts';
import { runOfflineBenchmark, type OfflineResult, type SeriesScorer } from '../quality/offline-benchmark.ts';
import { ewma, previous, windowedGaussian } from './reference-detectors.ts';
import { generateCorpus } from '../quality/series-families.ts';

const START = Date.UTC(2026, 2, 2);

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '1,2,3,4,5,7' },
    'corpus-seeds': { type: 'string', default: '1,2,3,4,5' },
    channels: { type: 'string', default: '12' },
    days: { type: 'string', default: '21' },
    rate: { type: 'string', default: '0.1' },
    order: { type: 'string', default: 'step' },
    verbose: { type: 'boolean', default: false },
  },
});

const seeds = values.seeds.split(',').map((s) => Number(s.trim()));
const channels = Number(values.channels);
const days = Number(values.days);
const rate = Number(values.rate);
const cfg: ProcessorConfig = defaultProcessorConfig;
if (values.order !== 'step' && values.order !== 'batch')
  throw new Error(`--order must be step or batch, got ${values.order}`);
const order = values.order as FeedOrder;

function fmt(counts: Record<string, number>): string {
  const parts = Object.entries(counts).map(([k, n]) => `${k}:${n}`);
  return parts.length ? parts.join(' ') : '-';
}

function kindsOf(score: DetectionScore): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of score.missed) out[l.kind] = (out[l.kind] ?? 0) + 1;
  return out;
}

interface Row {
  seed: number;
  labels: number;
  detections: number;
  precision: number;
  recall: number;
  calmRate: number;
}

offline();

const rows: Row[] = [];
const t0 = performance.now();
console.log(
  `detection quality: ${channels} channels × ${days} days from ${new Date(START).toISOString().slice(0, 10)}, anomalyRate ${rate}, ${order} order`,
);
for (const seed of seeds) {
  const base = { seed, channels, start: START, durationMs: days * DAY_MS };
  const run = runDetection(new Simulator({ ...base, anomalyRate: rate }), cfg, { order });
  const score = scoreDetections(run.labels, run.detections);
  const calm = runDetection(new Simulator({ ...base, anomalies: 'none' }), cfg, { order });
  const calmRate = calm.detections.length / calm.channelDays;
  rows.push({
    seed,
    labels: score.labels,
    detections: score.detections,
    precision: score.precision,
    recall: score.recall,
    calmRate,
  });
  console.log(
    `seed ${seed}: labels=${score.labels} detections=${score.detections} precision=${score.precision.toFixed(2)} recall=${score.recall.toFixed(2)}` +
      ` | false ${fmt(countByMetric(score.falseAlarms))} | missed ${fmt(kindsOf(score))}` +
      ` | calm: ${calm.detections.length} alarms = ${calmRate.toFixed(3)}/channel-day (${fmt(countByMetric(calm.detections))})`,
  );
  if (values.verbose) {
    for (const l of score.missed)
      console.log(
        `  missed ${l.kind} ch=${l.channel_id} ${new Date(l.start).toISOString()} mag=${l.magnitude.toFixed(3)}`,
      );
    for (const a of score.falseAlarms)
      console.log(`  false ${a.metric} ch=${a.channel_id} ${new Date(a.opened_at).toISOString()} ${a.direction}`);
    for (const a of calm.detections)
      console.log(`  calm ${a.metric} ch=${a.channel_id} ${new Date(a.opened_at).toISOString()} ${a.direction}`);
  }
}
const mean = (f: (r: Row) => number) => rows.reduce((s, r) => s + f(r), 0) / rows.length;
const min = (f: (r: Row) => number) => Math.min(...rows.map(f));
const max = (f: (r: Row) => number) => Math.max(...rows.map(f));
console.log(
  `mean over ${rows.length} seeds: precision=${mean((r) => r.precision).toFixed(2)} [${min((r) => r.precision).toFixed(2)}..${max((r) => r.precision).toFixed(2)}]` +
    ` recall=${mean((r) => r.recall).toFixed(2)} [${min((r) => r.recall).toFixed(2)}..${max((r) => r.recall).toFixed(2)}]` +
    ` calm=${mean((r) => r.calmRate).toFixed(3)}/channel-day [${min((r) => r.calmRate).toFixed(3)}..${max((r) => r.calmRate).toFixed(3)}]` +
    ` (pooled: ${rows.reduce((s, r) => s + r.labels, 0)} labels, ${rows.reduce((s, r) => s + r.detections, 0)} detections; ${((performance.now() - t0) / 1000).toFixed(1)} s)`,
);

/** The offline benchmark: every detector over the same corpora, averaged over corpus seeds. */
function offline(): void {
  const corpusSeeds = values['corpus-seeds'].split(',').map((s) => s.trim());
  const corpora = corpusSeeds.map((seed) => generateCorpus(seed));
  const series = corpora[0].length;
  const rowsPerCorpus = corpora.map((c) => c.reduce((n, s) => n + s.values.length, 0));
  console.log(
    `offline benchmark: ${corpora.length} corpora (seeds ${corpusSeeds.join(',')}) of ${series} labelled series, ` +
      `${Math.round(rowsPerCorpus.reduce((a, b) => a + b, 0) / corpora.length).toLocaleString('en')} rows each; ` +
      'windowed scoring, normalised (0 = never alarms, 100 = perfect)',
  );
  // The last field: whether the detector means 0.5 as its alarm threshold (the references do not).
  const detectors: [string, SeriesScorer, boolean][] = [
    ['tgpulse detect (now)', (t, v) => scoreSeries(v, t, genericSeriesConfig), true],
    ['tgpulse detect (before)', previous, true],
    ['EWMA z-score, α 0.02', ewma, false],
    ['windowed Gaussian', windowedGaussian(), false],
  ];
  const pad = (s: string, n: number) => s.padEnd(n);
  const num = (x: number) => x.toFixed(1).padStart(7);
  console.log(`  ${pad('detector', 26)} standard   low FP   low FN | at 0.5: std  low FP  low FN | rows/s`);
  let now: OfflineResult[] = [];
  for (const [name, scorer, atHalf] of detectors) {
    const results = corpora.map((c) => runOfflineBenchmark(c, scorer));
    if (now.length === 0) now = results;
    const avg = (f: (r: OfflineResult) => number) => results.reduce((s, r) => s + f(r), 0) / results.length;
    const best = [0, 1, 2].map((i) => avg((r) => r.profiles[i].normalized));
    const half = [0, 1, 2].map((i) => avg((r) => r.atHalf[i].normalized));
    const rate = avg((r) => r.rowsPerSecond);
    console.log(
      `  ${pad(name, 26)}${best.map(num).join('  ')} |   ${atHalf ? half.map(num).join('') : '      -      -      -'} | ` +
        `${(rate / 1e6).toFixed(2)}M`,
    );
  }
  console.log('  tgpulse detect (now) by family, standard profile at its best threshold (mean over corpora):');
  for (const [i, f] of now[0].families.entries()) {
    const normalized = now.map((r) => r.families[i].normalized ?? Number.NaN);
    const score = Number.isNaN(normalized[0]) ? '      -' : num(normalized.reduce((s, x) => s + x, 0) / now.length);
    const sum = (k: 'tp' | 'fn' | 'fp') => now.reduce((s, r) => s + r.families[i][k], 0);
    console.log(`    ${pad(f.family, 22)}${score}  found ${sum('tp')}, missed ${sum('fn')}, false alarms ${sum('fp')}`);
  }
  // The rate on one long series: what `tgpulse detect` sustains once warm (JIT and all).
  const long = corpora[0].flatMap((s) => s.values);
  const times = long.map((_, i) => Date.UTC(2025, 0, 6) + i * 300_000);
  scoreSeries(long, times, genericSeriesConfig);
  const started = performance.now();
  scoreSeries(long, times, genericSeriesConfig);
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `  detector rate: ${long.length.toLocaleString('en')} points in ${seconds.toFixed(3)} s = ` +
      `${(long.length / seconds / 1e6).toFixed(2)}M points/s on one core (daily and weekly models included)`,
  );
  console.log();
}
