import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { record, type RecordStart } from '../../ingest/replay/index.ts';
import { Context, openNats } from '../context.ts';
import { lifecycle } from './lifecycle.ts';
import { CATALOG } from './catalog.ts';
import type { Command } from './command.ts';

const USAGE = CATALOG.record.usage;

/** What `tgpulse record` was asked to do. */
export interface RecordArgs {
  file: string;
  from: RecordStart;
  /** Stop after this long without a message (undefined: until SIGTERM/SIGINT). */
  idleMs: number | undefined;
  append: boolean;
}

const parseRecordFlags = (argv: string[]) =>
  parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      from: { type: 'string', default: 'new' },
      'idle-seconds': { type: 'string' },
      append: { type: 'boolean', default: false },
    },
  });

/**
 * Parses `tgpulse record` arguments; a wrong invocation comes back as a
 * message (shown with the usage, exit code 2) instead of an exception.
 */
export function parseRecordArgs(argv: string[]): { ok: true; args: RecordArgs } | { ok: false; error: string } {
  let parsed: ReturnType<typeof parseRecordFlags>;
  try {
    parsed = parseRecordFlags(argv);
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1)
    return {
      ok: false,
      error: positionals.length
        ? `expected one FILE, got ${positionals.length} arguments`
        : 'missing FILE to record to',
    };
  let from: RecordStart;
  if (values.from === 'new' || values.from === 'all') from = values.from;
  else {
    // Only ISO dates: Date.parse takes almost anything, and a typo must not silently record from 1970.
    const t = /^\d{4}-\d{2}-\d{2}/.test(values.from) ? Date.parse(values.from) : NaN;
    if (!Number.isFinite(t))
      return {
        ok: false,
        error: `--from expects new, all or an ISO time like 2026-03-01T00:00:00Z, got ${JSON.stringify(values.from)}`,
      };
    from = t;
  }
  let idleMs: number | undefined;
  if (values['idle-seconds'] !== undefined) {
    const s = Number(values['idle-seconds']);
    if (values['idle-seconds'].trim() === '' || !Number.isFinite(s) || s <= 0)
      return {
        ok: false,
        error: `--idle-seconds expects a number of seconds above 0, got ${JSON.stringify(values['idle-seconds'])}`,
      };
    idleMs = Math.round(s * 1000);
  }
  return { ok: true, args: { file: positionals[0], from, idleMs, append: values.append } };
}

/** Records what the collectors publish to TG_RAW into a JSONL capture for `tgpulse replay`. */
export const recordCommand: Command = {
  reads: 'full',
  async run(argv, config) {
    if (argv[0] === '--help' || argv[0] === '-h') {
      process.stdout.write(`usage: ${USAGE}\n`);
      return 0;
    }
    const parsed = parseRecordArgs(argv);
    if (!parsed.ok) {
      process.stderr.write(`tgpulse record: ${parsed.error}\nusage: ${USAGE}\n`);
      return 2;
    }
    const { file, from, idleMs, append } = parsed.args;
    if (!append && existsSync(file)) {
      process.stderr.write(
        `tgpulse record: ${file} already exists; choose another file, remove it, or pass --append\n`,
      );
      return 2;
    }
    const ctx = new Context(config);
    const life = lifecycle(ctx);
    try {
      const nats = await openNats(ctx, { name: 'tgpulse-record' });
      const stats = await record({
        js: nats.js,
        streams: config.streams,
        file,
        from,
        idleMs,
        append,
        signal: life.signal,
        log: ctx.log,
        metrics: ctx.metrics,
      });
      const invalid = stats.invalid ? `, ${stats.invalid} invalid events skipped` : '';
      process.stdout.write(`recorded ${stats.events} events from ${stats.messages} messages to ${file}${invalid}\n`);
      return 0;
    } finally {
      await ctx.close();
      life.dispose();
    }
  },
};
