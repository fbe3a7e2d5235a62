/**
 * vitest global setup for what the test files share across their forked
 * workers: the fault suite's summary, printed when the run ends (see
 * fault-summary.ts), a cache folder for results several files compare
 * against (see runs.ts uninterruptedDump), and an initdb'd PGlite folder that
 * every embedded control plane of the suite starts as a copy of
 * (control/testing.ts seedEmbeddedFolder).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initEmbeddedFolder } from '../../control/postgres.ts';
import { PGLITE_TEMPLATE_ENV } from '../../control/pglite-template.ts';
import { closeSummary, formatSummary, openSummary } from './fault-summary.ts';
import { SUITE_CACHE_ENV } from './runs.ts';

export default async function setup(): Promise<() => void> {
  const started = performance.now();
  const summary = openSummary();
  const cache = mkdtempSync(join(tmpdir(), 'tgpulse-suite-cache-'));
  process.env[SUITE_CACHE_ENV] = cache;
  const template = join(cache, 'pglite-template');
  await initEmbeddedFolder(template);
  // Test workers are forked after this and inherit the environment.
  process.env[PGLITE_TEMPLATE_ENV] = template;
  return () => {
    rmSync(cache, { recursive: true, force: true });
    const text = formatSummary(closeSummary(summary), (performance.now() - started) / 1000);
    if (text) process.stdout.write(`\n${text}`);
  };
}
