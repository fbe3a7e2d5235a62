/**
 * vitest global setup for what the test files share across their forked
 * workers: the fault suite's summary, printed when the run ends (see
 * fault-summary.ts), and a cache folder for results several files compare
 * against (see runs.ts uninterruptedDump).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeSummary, formatSummary, openSummary } from './fault-summary.ts';
import { SUITE_CACHE_ENV } from './runs.ts';

export default function setup(): () => void {
  const started = performance.now();
  const summary = openSummary();
  const cache = mkdtempSync(join(tmpdir(), 'tgpulse-suite-cache-'));
  process.env[SUITE_CACHE_ENV] = cache;
  return () => {
    rmSync(cache, { recursive: true, force: true });
    const text = formatSummary(closeSummary(summary), (performance.now() - started) / 1000);
    if (text) process.stdout.write(`\n${text}`);
  };
}
