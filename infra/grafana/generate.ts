/**
 * Writes the dashboards as JSON into infra/grafana/dashboards/ (`npm run
 * dashboards`). The files are committed: Grafana provisions them as they are,
 * and test/grafana-dashboards.test.ts fails when they differ from what this
 * writes, so a change to the TypeScript is not forgotten in the JSON.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { DASHBOARDS, DASHBOARDS_DIR, renderDashboard } from './dashboards.ts';

mkdirSync(DASHBOARDS_DIR, { recursive: true });
for (const { file, build } of DASHBOARDS) {
  const url = new URL(file, DASHBOARDS_DIR);
  writeFileSync(url, renderDashboard(build()));
  process.stdout.write(`wrote ${url.pathname}\n`);
}
