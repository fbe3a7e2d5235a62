/**
 * vitest global setup: opens the fault suite's summary before the test
 * workers fork and prints it when the run ends (see fault-summary.ts).
 */
import { closeSummary, formatSummary, openSummary } from './fault-summary.ts';

export default function setup(): () => void {
  const started = performance.now();
  const dir = openSummary();
  return () => {
    const text = formatSummary(closeSummary(dir), (performance.now() - started) / 1000);
    if (text) process.stdout.write(`\n${text}`);
  };
}
