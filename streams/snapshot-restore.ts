/**
 * A stream restored from a file {@link snapshotStream} wrote: its messages with their sequences,
 * and its consumers with their acks, under the same name, on a server that does not have it
 * (the same one after a delete, or a fresh one: a restore into an empty data folder).
 *
 * The file is read and sent a chunk at a time, each chunk acked by the server before the next,
 * so a large stream never sits in memory. The server stages the chunks and builds the stream
 * only at the end, so a restore that fails (a refused or corrupt file, a timeout, an abort)
 * leaves no stream behind: where the failure is ours, we tell the server to drop what it staged.
 * When the snapshot's size and sha256 are given, a file that does not match them is refused
 * before the stream is built.
 */
import type { ApiError, StreamInfo } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import {
  apiFailure,
  apiRequest,
  checkRequest,
  DEFAULT_CHUNK_BYTES,
  DEFAULT_IDLE_MS,
  type Fail,
  failWith,
  requestFailure,
  restoreSubject,
  StreamSnapshotError,
} from './snapshot-api.ts';
import type { StreamSnapshot } from './snapshot.ts';

export interface RestoreOptions {
  /** Bytes per chunk sent (default 128 KiB, at most the server's max_payload). */
  chunkSize?: number;
  /** How long the server may take to answer the request and to ack each chunk (default 30 s). */
  timeoutMs?: number;
  /** How long the server may take to build the stream once it has every chunk (default 10 min). */
  finishTimeoutMs?: number;
  /** Checked between chunks; once every chunk is sent, the server finishes on its own. */
  signal?: AbortSignal;
}

/** What a restore needs of a snapshot; with `bytes` and `sha256` the file is checked against them too. */
export type RestorableSnapshot = Pick<StreamSnapshot, 'stream' | 'config' | 'state'> &
  Partial<Pick<StreamSnapshot, 'bytes' | 'sha256'>>;

/** Any payload on a message without a reply subject: the server then drops the staged restore. */
const DROP_STAGED = new Uint8Array([0]);

/**
 * Restores `snapshot.stream` from `file` and returns the restored stream's info. The stream must
 * not exist. Throws {@link StreamSnapshotError}: `exists`, `corrupt` (the file does not match the
 * snapshot, or the server could not read it), `timeout`, `aborted`, `file`, `unreachable`, `refused`.
 *
 * ```ts
 * const info = await restoreStream(nc, manifest.streams[0], join(dir, 'TG_RAW.tar.s2'));
 * info.state.last_seq; // as in the snapshot's state
 * ```
 */
export async function restoreStream(
  nc: NatsConnection,
  snapshot: RestorableSnapshot,
  file: string,
  opts: RestoreOptions = {},
): Promise<StreamInfo> {
  const { chunkSize = DEFAULT_CHUNK_BYTES, timeoutMs = DEFAULT_IDLE_MS, finishTimeoutMs = 600_000, signal } = opts;
  const { stream, config, state } = snapshot;
  const fail = failWith('restore', stream);
  checkRequest(nc, stream, chunkSize, fail);
  if (config?.name !== stream)
    throw fail('refused', `the snapshot's config names stream ${config?.name}; JetStream cannot rename on restore`);
  const size = await stat(file).then(
    (s) => s.size,
    (err: Error) => Promise.reject(fail('file', `cannot read ${file}: ${err.message}`, err)),
  );
  if (snapshot.bytes !== undefined && size !== snapshot.bytes)
    throw fail(
      'corrupt',
      `${file} has ${size} bytes, the snapshot ${snapshot.bytes}: the file is truncated or another snapshot's. Nothing was sent to the server`,
    );
  if (signal?.aborted) throw fail('aborted', 'aborted before it began');

  const { deliver_subject: deliver } = await apiRequest<{ deliver_subject: string }>(
    nc,
    restoreSubject(stream),
    { config, state },
    timeoutMs,
    fail,
  );
  try {
    const sha256 = await sendChunks(nc, deliver, file, { chunkSize, timeoutMs, signal }, fail);
    if (snapshot.sha256 !== undefined && sha256 !== snapshot.sha256)
      throw fail(
        'corrupt',
        `${file} has sha256 ${sha256}, the snapshot ${snapshot.sha256}: the file is corrupt. The server dropped it; no stream was created`,
      );
  } catch (err) {
    dropStaged(nc, deliver);
    throw err;
  }
  const done = await nc
    .request(deliver, new Uint8Array(0), { timeout: finishTimeoutMs })
    .catch((err: unknown) =>
      Promise.reject(
        requestFailure(
          err,
          finishTimeoutMs,
          fail,
          `the end of the restore (the server may still be building ${stream}: look before retrying)`,
        ),
      ),
    );
  const reply = done.json<StreamInfo & { error?: ApiError }>();
  if (reply.error) throw apiFailure(reply.error, fail);
  return reply;
}

/** Tells the server to drop a restore it staged (it would otherwise drop it once idle for a few seconds). */
function dropStaged(nc: NatsConnection, deliver: string): void {
  try {
    nc.publish(deliver, DROP_STAGED);
  } catch {
    // A closed connection: the server drops the staged restore once it sees no more chunks.
  }
}

/** Sends the file's chunks, each acked before the next; returns the file's sha256 (hex). */
async function sendChunks(
  nc: NatsConnection,
  deliver: string,
  file: string,
  opts: { chunkSize: number; timeoutMs: number; signal?: AbortSignal },
  fail: Fail,
): Promise<string> {
  const hash = createHash('sha256');
  let sent = 0;
  const chunks = createReadStream(file, { highWaterMark: opts.chunkSize });
  try {
    for await (const chunk of chunks as AsyncIterable<Buffer>) {
      if (opts.signal?.aborted) throw fail('aborted', `aborted after ${sent} bytes; the server dropped what it staged`);
      const ack = await nc
        .request(deliver, chunk, { timeout: opts.timeoutMs })
        .catch((err: unknown) =>
          Promise.reject(requestFailure(err, opts.timeoutMs, fail, `the chunk at byte ${sent}`)),
        );
      refusal(ack.string(), sent, fail);
      hash.update(chunk);
      sent += chunk.length;
    }
  } catch (err) {
    if (err instanceof StreamSnapshotError) throw err;
    throw fail('file', `cannot read ${file} at byte ${sent}: ${(err as Error).message}`, err);
  } finally {
    chunks.destroy();
  }
  return hash.digest('hex');
}

/** A chunk's ack is empty; anything else is the server refusing the restore. */
function refusal(ack: string, at: number, fail: Fail): void {
  if (ack.length === 0) return;
  if (ack.startsWith('{')) {
    const reply = JSON.parse(ack) as { error?: ApiError };
    if (reply.error) throw apiFailure(reply.error, fail);
  }
  throw fail('refused', `the server refused the chunk at byte ${at}: ${ack}`);
}
