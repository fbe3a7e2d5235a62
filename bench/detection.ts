/**
 * Detection quality of the default processor config on simulated channels,
 * without NATS: per seed, a run with anomalies (precision, recall, false
 * alarms per metric, missed labels per kind) and a calm run (`anomalies:
 * 'none'`: every alarm is false; alarms per channel-day is the false-alarm rate).
 *
 *   node --import tsx bench/detection.ts [--seeds 1,2,3,4,5,7] [--channels 12] [--days 21] [--rate 0.1] [--order step|batch] [--verbose]
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

const START = Date.UTC(2026, 2, 2);

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '1,2,3,4,5,7' },
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
