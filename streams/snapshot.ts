/**
 * A stream's snapshot into a file: its messages and, unless told not to, its consumers with
 * their acks, in the server's own format (an s2-compressed tar), written as it arrives.
 *
 * Why a file and not memory: a stream can hold gigabytes. Each chunk is written, hashed and
 * counted, and only then acked, so the server sends no more than its flow-control window ahead
 * of the disk. The file appears under its name only once complete (written beside it as
 * `<file>.partial`, synced, renamed), so a failed or stalled snapshot never leaves a file that
 * looks like a backup. Restore with {@link restoreStream} (snapshot-restore.ts).
 */
import type { StreamConfig, StreamState } from '@nats-io/jetstream';
import { createInbox, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { createHash } from 'node:crypto';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import {
  apiRequest,
  checkRequest,
  DEFAULT_CHUNK_BYTES,
  DEFAULT_IDLE_MS,
  type Fail,
  failWith,
  snapshotSubject,
} from './snapshot-api.ts';

/** What a snapshot holds and how to check its file: keep it with the file (a backup's manifest). */
export interface StreamSnapshot {
  stream: string;
  /** The stream's configuration and state when the snapshot began, as the server reported them. */
  config: StreamConfig;
  state: StreamState;
  /** Size and sha256 (hex) of the file, and how many chunks the server sent. */
  bytes: number;
  sha256: string;
  chunks: number;
}

export interface SnapshotOptions {
  /** Bytes per chunk the server sends (default 128 KiB, at most the server's max_payload). */
  chunkSize?: number;
  /** How long the reply, and then each next chunk, may keep us waiting (default 30 s). */
  timeoutMs?: number;
  /** Include the consumers and their acks (default true). */
  consumers?: boolean;
  signal?: AbortSignal;
}

/**
 * Streams a snapshot of `stream` into `file` (replacing it) and says what it holds.
 * Throws {@link StreamSnapshotError}: `not_found`, `unsupported` (a memory stream), `timeout`
 * (no reply, or no chunk for `timeoutMs`), `aborted`, `file`, `unreachable`, `refused`.
 *
 * ```ts
 * const snap = await snapshotStream(nc, 'TG_RAW', join(dir, 'TG_RAW.tar.s2'), { signal });
 * manifest.streams.push(snap); // stream, config, state, bytes, sha256, chunks
 * ```
 */
export async function snapshotStream(
  nc: NatsConnection,
  stream: string,
  file: string,
  opts: SnapshotOptions = {},
): Promise<StreamSnapshot> {
  const { chunkSize = DEFAULT_CHUNK_BYTES, timeoutMs = DEFAULT_IDLE_MS, consumers = true, signal } = opts;
  const fail = failWith('snapshot', stream);
  checkRequest(nc, stream, chunkSize, fail);
  if (signal?.aborted) throw fail('aborted', 'aborted before it began');
  const deliver = createInbox();
  // Subscribed before asking: the server may send chunks before its reply reaches us.
  const sub = nc.subscribe(deliver);
  const partial = `${file}.partial`;
  let out: FileHandle | undefined;
  try {
    const begun = await apiRequest<{ config: StreamConfig; state: StreamState }>(
      nc,
      snapshotSubject(stream),
      { deliver_subject: deliver, chunk_size: chunkSize, no_consumers: !consumers },
      timeoutMs,
      fail,
    );
    const written = await open(partial, 'w').catch((err: Error) =>
      Promise.reject(
        fail('file', `cannot create ${partial}: ${err.message}; check the folder exists and is writable`, err),
      ),
    );
    out = written;
    const hash = createHash('sha256');
    let bytes = 0;
    let chunks = 0;
    const chunksIn = sub[Symbol.asyncIterator]();
    for (;;) {
      const progress = `after ${chunks} chunks (${bytes} bytes)`;
      const next = await nextWithin(chunksIn, timeoutMs, signal);
      if (next === 'aborted') throw fail('aborted', `aborted ${progress}; the partial file was removed`);
      if (next === 'idle')
        throw fail(
          'timeout',
          `no chunk for ${timeoutMs} ms ${progress}: the server stalled or the connection dropped. Retry`,
        );
      if (next.done) throw fail('unreachable', `the connection closed ${progress}. Retry once NATS is back`);
      const chunk = next.value;
      if (chunk.data.length === 0) {
        endOfSnapshot(chunk, progress, fail);
        break;
      }
      await writeAll(written, chunk.data).catch((err: Error) =>
        Promise.reject(fail('file', `cannot write ${partial} ${progress}: ${err.message}; check free space`, err)),
      );
      hash.update(chunk.data);
      bytes += chunk.data.length;
      chunks += 1;
      // Acked once stored: the server's flow control then paces it to the disk.
      if (chunk.reply) chunk.respond();
    }
    await written.sync();
    await written.close();
    out = undefined;
    await rename(partial, file);
    return { stream, config: begun.config, state: begun.state, bytes, sha256: hash.digest('hex'), chunks };
  } catch (err) {
    await out?.close().catch(() => undefined);
    await rm(partial, { force: true });
    throw err;
  } finally {
    // Also tells the server we lost interest, which ends an unfinished snapshot on its side.
    sub.unsubscribe();
  }
}

/** The empty message that ends a snapshot; a status on it (newer servers) above 299 says it ended early. */
function endOfSnapshot(eof: Msg, progress: string, fail: Fail): void {
  const code = eof.headers?.code ?? 0;
  if (code < 300) return;
  const status = [code, eof.headers?.description].filter(Boolean).join(' ');
  throw fail(code === 408 ? 'timeout' : 'refused', `the server ended the snapshot ${progress} with ${status}. Retry`);
}

async function writeAll(out: FileHandle, data: Uint8Array): Promise<void> {
  for (let at = 0; at < data.length; ) at += (await out.write(data, at, data.length - at)).bytesWritten;
}

/** The iterator's next value, or why none came: too long a wait, or the signal. */
async function nextWithin<T>(
  it: AsyncIterator<T>,
  ms: number,
  signal?: AbortSignal,
): Promise<IteratorResult<T> | 'idle' | 'aborted'> {
  if (signal?.aborted) return 'aborted';
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<'idle' | 'aborted'>((resolve) => {
    timer = setTimeout(() => resolve('idle'), ms);
    onAbort = () => resolve('aborted');
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([it.next(), stop]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}
