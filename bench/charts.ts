/**
 * Draws the sample charts to /tmp/charts-sample (PNG and SVG) to look at, and
 * prints how long rendering takes, first (cold) and then warm.
 *
 *   npm run bench:charts [-- out-dir]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { renderChart } from '../read/charts/render.ts';
import {
  SAMPLE_FRAME,
  sampleAlert,
  sampleAnomalies,
  sampleGrowth,
  sampleReach,
  sampleViews,
} from '../read/charts/sample-data.ts';
import { anomaliesChart, growthChart, reachChart, viewsChart } from '../read/charts/specs.ts';

const outDir = process.argv[2] ?? '/tmp/charts-sample';
const WARM_RUNS = 10;

const { series, band, anomalies } = sampleAnomalies();
const alert = sampleAlert();
const charts: Record<string, TopLevelSpec> = {
  growth: growthChart(SAMPLE_FRAME, sampleGrowth()),
  reach: reachChart(SAMPLE_FRAME, sampleReach()),
  views: viewsChart(SAMPLE_FRAME, sampleViews()),
  anomalies: anomaliesChart(SAMPLE_FRAME, 'views', series, anomalies, band),
  alert: anomaliesChart(alert.frame, 'views', alert.series, [alert.anomaly]),
};

async function timed<T>(run: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await run();
  return { result, ms: performance.now() - started };
}

await mkdir(outDir, { recursive: true });
for (const [name, spec] of Object.entries(charts)) {
  const svg = await timed(() => renderChart(spec, 'svg'));
  const png = await timed(() => renderChart(spec, 'png'));
  await writeFile(join(outDir, `${name}.svg`), svg.result);
  await writeFile(join(outDir, `${name}.png`), png.result);
  process.stdout.write(
    `${name}: first svg ${svg.ms.toFixed(0)} ms, first png ${png.ms.toFixed(0)} ms -> ${join(outDir, `${name}.png`)}\n`,
  );
}

for (const format of ['svg', 'png'] as const) {
  const { ms } = await timed(async () => {
    for (let i = 0; i < WARM_RUNS; i++) await renderChart(charts.growth, format);
  });
  process.stdout.write(`growth ${format}, warm: ${(ms / WARM_RUNS).toFixed(1)} ms per chart (mean of ${WARM_RUNS})\n`);
}
