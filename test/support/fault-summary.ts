/**
 * The fault suite's printed summary. Tests under test/faults/ record what they
 * injected or tried and what came of it; the suite's global setup prints every
 * record at the end of the run, so one table says which faults were survived,
 * with how many rows lost or doubled, how each class of hostile input was
 * handled, and how many fuzzed requests got a 5xx.
 *
 * Records are JSON lines in a folder the global setup creates (the test files
 * run in forked workers); outside the suite (one file run by hand with a
 * filter that skips the setup) nothing is recorded.
 */
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SUMMARY_DIR_ENV = 'TGPULSE_FAULT_SUMMARY_DIR';

export type SummarySection = 'faults' | 'hostile input' | 'fuzz' | 'security';

export interface SummaryRecord {
  section: SummarySection;
  /** What was injected or tried: "NATS node SIGKILL", "numbers beyond 2^53", "API requests"… */
  what: string;
  /** How many times. */
  count: number;
  /** What came of it, in words: "tables equal the uninterrupted run", "dead-lettered: schema"… */
  outcome: string;
  /** Rows lost and doubled against the uninterrupted run, where a run was compared. */
  lost?: number;
  doubled?: number;
  /** Responses with a 5xx status, for fuzzing. */
  serverErrors?: number;
}

/** Records one line of the summary (a no-op outside the suite). */
export function recordSummary(record: SummaryRecord): void {
  const dir = process.env[SUMMARY_DIR_ENV];
  if (!dir) return;
  appendFileSync(join(dir, `${process.pid}.jsonl`), `${JSON.stringify(record)}\n`);
}

/** Creates the folder the workers record into; called by the global setup before they fork. */
export function openSummary(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tgpulse-fault-summary-'));
  process.env[SUMMARY_DIR_ENV] = dir;
  return dir;
}

/** The summary as printed: one block per section, a line per record. */
export function formatSummary(records: readonly SummaryRecord[], suiteSeconds: number): string {
  if (!records.length) return '';
  const lines = [`tgpulse fault suite: ${records.length} records, whole test run ${suiteSeconds.toFixed(0)} s`];
  const sections: SummarySection[] = ['faults', 'hostile input', 'fuzz', 'security'];
  for (const section of sections) {
    const of = records.filter((r) => r.section === section);
    if (!of.length) continue;
    lines.push(`  ${section}`);
    for (const r of of) {
      const figures = [
        r.lost === undefined ? null : `lost ${r.lost}`,
        r.doubled === undefined ? null : `doubled ${r.doubled}`,
        r.serverErrors === undefined ? null : `5xx ${r.serverErrors}`,
      ].filter((x) => x !== null);
      const tail = figures.length ? ` (${figures.join(', ')})` : '';
      lines.push(`    ${r.what.padEnd(44)} ${String(r.count).padStart(6)}  ${r.outcome}${tail}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Reads every record of the run, then removes the folder. */
export function closeSummary(dir: string): SummaryRecord[] {
  const records: SummaryRecord[] = [];
  for (const file of readdirSync(dir).sort())
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n'))
      if (line.trim()) records.push(JSON.parse(line) as SummaryRecord);
  rmSync(dir, { recursive: true, force: true });
  return records;
}
