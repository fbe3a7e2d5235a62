import { statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { replay } from '../../ingest/replay/index.ts';
import { rawEventPublisher } from '../../streams/index.ts';
import { Context, openNats } from '../context.ts';
import { lifecycle } from './lifecycle.ts';
import { CATALOG } from './catalog.ts';
import type { Command } from './command.ts';

const USAGE = CATALOG.replay.usage;

/** What `tgpulse replay` was asked to do. */
export interface ReplayArgs {
  file: string;
  /** Event-time ms per real ms; Infinity for `max`. */
  speed: number;
}

const parseReplayFlags = (argv: string[]) =>
  parseArgs({ args: argv, allowPositionals: true, options: { speed: { type: 'string', default: 'max' } } });

/**
 * Parses `tgpulse replay` arguments; a wrong invocation comes back as a
 * message (shown with the usage, exit code 2) instead of an exception.
 * The default speed is `max`: a capture is usually re-run to rebuild tables.
 */
export function parseReplayArgs(argv: string[]): { ok: true; args: ReplayArgs } | { ok: false; error: string } {
  let parsed: ReturnType<typeof parseReplayFlags>;
  try {
    parsed = parseReplayFlags(argv);
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1)
    return {
      ok: false,
      error: positionals.length ? `expected one FILE, got ${positionals.length} arguments` : 'missing FILE to replay',
    };
  const speed = values.speed === 'max' ? Infinity : Number(values.speed);
  if (values.speed !== 'max' && (values.speed.trim() === '' || !Number.isFinite(speed) || speed <= 0)) {
    return {
      ok: false,
      error: `--speed expects a number above 0 (1 = real time) or max, got ${JSON.stringify(values.speed)}`,
    };
  }
  return { ok: true, args: { file: positionals[0], speed } };
}

/** Republishes a capture written by `tgpulse record` to TG_RAW, with `source` set to `replay`. */
export const replayCommand: Command = {
  reads: 'full',
  async run(argv, config) {
    if (argv[0] === '--help' || argv[0] === '-h') {
      process.stdout.write(`usage: ${USAGE}\n`);
      return 0;
    }
    const parsed = parseReplayArgs(argv);
    if (!parsed.ok) {
      process.stderr.write(`tgpulse replay: ${parsed.error}\nusage: ${USAGE}\n`);
      return 2;
    }
    const { file, speed } = parsed.args;
    // Checked before connecting, so a typo in the path fails at once and says so.
    const stat = statSync(file, { throwIfNoEntry: false });
    if (!stat?.isFile()) {
      process.stderr.write(
        `tgpulse replay: ${stat ? `${file} is not a file` : `capture ${file} does not exist`}; captures are written by \`tgpulse record FILE\`\n`,
      );
      return 2;
    }
    const ctx = new Context(config);
    const life = lifecycle(ctx);
    try {
      const nats = await openNats(ctx, { name: 'tgpulse-replay' });
      const streams = config.streams;
      const publisher = rawEventPublisher(nats.js, streams, {
        metrics: ctx.metrics,
        log: ctx.log,
        signal: life.signal,
      });
      const stats = await replay({
        file,
        publisher,
        partitions: streams.partitions,
        speed,
        signal: life.signal,
        log: ctx.log,
        metrics: ctx.metrics,
      });
      const stopped = stats.aborted ? ` (stopped after line ${stats.lastLine})` : '';
      process.stdout.write(`replayed ${stats.events} events from ${file} in ${stats.batches} batches${stopped}\n`);
      if (stats.invalidLines) {
        const shown = stats.invalid.map((l) => `  line ${l.line}: ${l.error}`).join('\n');
        const more =
          stats.invalidLines > stats.invalid.length
            ? `\n  … and ${stats.invalidLines - stats.invalid.length} more`
            : '';
        process.stdout.write(`${stats.invalidLines} invalid lines skipped (they stay in the file):\n${shown}${more}\n`);
      }
      return 0;
    } finally {
      await ctx.close();
      life.dispose();
    }
  },
};
