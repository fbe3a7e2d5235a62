/**
 * The capture file format of `tgpulse record` and `tgpulse replay`: JSON
 * Lines, one raw event (streams/contract/events.ts) per line, in the order the
 * events sat in TG_RAW.
 *
 * Captures can be gigabytes and may be edited by hand, so the reader streams
 * the file, never holds more than one line (of at most `maxLineBytes`), and
 * reports a bad line with its number instead of throwing: a replay goes on
 * past it and the line stays in the file for a later look.
 */
import { open } from 'node:fs/promises';
import { type RawEvent, isRawKind, validateEvent } from '../../streams/contract/index.ts';

/**
 * Longest line the reader accepts. Events are a few hundred bytes; the
 * decoder of the pipeline refuses NATS messages over 1 MiB by default, so a
 * longer line cannot be one event the pipeline would take, and buffering it
 * would let one hostile line exhaust memory.
 */
export const MAX_LINE_BYTES = 1024 * 1024;

/**
 * One event as a capture line, newline included, so a writer always writes
 * whole lines.
 *
 * ```ts
 * out.write(events.map(encodeLine).join(''));
 * ```
 */
export function encodeLine(event: RawEvent): string {
  return `${JSON.stringify(event)}\n`;
}

/** A line of a capture: the event it holds, or why it holds none. `line` is 1-based. */
export type CaptureLine =
  | { line: number; event: RawEvent; error?: undefined }
  | { line: number; event?: undefined; error: string };

export interface ReadEventsOptions {
  /** Stops reading; the generator then returns. */
  signal?: AbortSignal;
  /** Longest accepted line in bytes, newline excluded (default {@link MAX_LINE_BYTES}). */
  maxLineBytes?: number;
}

/** Reading a capture failed as a whole (missing or unreadable file), as opposed to a bad line. */
export class CaptureFileError extends Error {
  override readonly name = 'CaptureFileError';
  constructor(
    message: string,
    readonly path: string,
    options: { cause: unknown },
  ) {
    super(message, options);
  }
}

/** Parses and validates one line's text against the contract; raw kinds only. */
export function parseLine(text: string): { event: RawEvent } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { error: `malformed JSON: ${(err as Error).message.slice(0, 200)}` };
  }
  const checked = validateEvent(value);
  if (!checked.ok) return { error: `${checked.reason}: ${checked.detail}` };
  if (!isRawKind(checked.event.kind))
    return { error: `derived kind ${checked.event.kind} does not belong in a capture of TG_RAW` };
  return { event: checked.event as RawEvent };
}

const NEWLINE = 0x0a;
const READ_CHUNK_BYTES = 256 * 1024;

/**
 * Streams the events of a capture file, line by line, each validated against
 * the contract. Blank lines are skipped (they still count for line numbers);
 * a bad line (malformed JSON, contract violation, derived kind, longer than
 * `maxLineBytes`) is yielded with its error and reading goes on.
 *
 * ```ts
 * for await (const { line, event, error } of readEvents('capture.jsonl', { signal })) {
 *   if (error) log.warn({ line, error }, 'invalid capture line');
 *   else await publish(event);
 * }
 * ```
 *
 * @throws CaptureFileError when the file cannot be opened or read.
 */
export async function* readEvents(path: string, opts: ReadEventsOptions = {}): AsyncGenerator<CaptureLine> {
  const maxLineBytes = opts.maxLineBytes ?? MAX_LINE_BYTES;
  const file = await open(path, 'r').catch((err: NodeJS.ErrnoException) => {
    const why =
      err.code === 'ENOENT'
        ? 'it does not exist (check the path; captures are written by `tgpulse record`)'
        : err.message;
    throw new CaptureFileError(`cannot read capture ${path}: ${why}`, path, { cause: err });
  });
  const stream = file.createReadStream({ highWaterMark: READ_CHUNK_BYTES });
  // The current line as byte slices, so a UTF-8 character split across chunks decodes whole.
  let parts: Buffer[] = [];
  let bytes = 0;
  let oversized = false;
  let line = 0;
  const finishLine = (): CaptureLine | null => {
    line++;
    const wasOversized = oversized;
    const size = bytes;
    const text = wasOversized ? '' : Buffer.concat(parts, bytes).toString('utf8');
    parts = [];
    bytes = 0;
    oversized = false;
    if (wasOversized)
      return { line, error: `line of ${size} bytes is longer than the limit of ${maxLineBytes}; not read` };
    if (text.trim() === '') return null;
    const parsed = parseLine(text);
    return 'event' in parsed ? { line, event: parsed.event } : { line, error: parsed.error };
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (opts.signal?.aborted) return;
      let start = 0;
      for (;;) {
        const nl = chunk.indexOf(NEWLINE, start);
        const end = nl === -1 ? chunk.length : nl;
        if (end > start) {
          bytes += end - start;
          if (bytes > maxLineBytes) {
            // Keep counting, stop keeping: the rest of this line is skipped up to its newline.
            oversized = true;
            parts = [];
          } else parts.push(chunk.subarray(start, end));
        }
        if (nl === -1) break;
        const out = finishLine();
        if (out) yield out;
        if (opts.signal?.aborted) return;
        start = nl + 1;
      }
    }
    // A last line without a newline (e.g. a recording killed mid-write) is still read.
    if (bytes > 0) {
      const out = finishLine();
      if (out) yield out;
    }
  } catch (err) {
    throw new CaptureFileError(`reading capture ${path} failed at line ${line + 1}: ${(err as Error).message}`, path, {
      cause: err,
    });
  } finally {
    stream.destroy();
    await file.close().catch(() => undefined);
  }
}
