/**
 * The wire of JetStream's stream snapshot and restore API, which `@nats-io/jetstream` 3.4 has no
 * helper for: the subjects, the JSON requests and their error replies, and the one error type
 * both directions raise. The protocol, as nats-server's `jetstream_api.go` serves it:
 *
 * - `$JS.API.STREAM.SNAPSHOT.<stream>` with `{deliver_subject, chunk_size, no_consumers, jsck}`
 *   answers `{config, state}`. The chunks then arrive on the deliver subject, each with a reply
 *   subject the client answers once it has stored the chunk (the server's flow control), and an
 *   empty message ends them (newer servers give it a status header: 408 when they gave up
 *   waiting for acks).
 * - `$JS.API.STREAM.RESTORE.<stream>` with `{config, state}` answers `{deliver_subject}`. Each
 *   chunk goes there as a request (an empty reply acks it; `-ERR …` or a JSON error refuses it),
 *   then an empty request, answered by a `stream_create_response` once the stream is restored.
 *   A message without a reply subject makes the server drop what it staged.
 */
import type { ApiError } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';

const SNAPSHOT_PREFIX = '$JS.API.STREAM.SNAPSHOT.';
const RESTORE_PREFIX = '$JS.API.STREAM.RESTORE.';

/** The chunk size both directions use unless told otherwise: the server's own default. */
export const DEFAULT_CHUNK_BYTES = 128 * 1024;
/** How long one exchange (a reply, the next chunk, a chunk's ack) may take. */
export const DEFAULT_IDLE_MS = 30_000;

/** JetStream API error codes: stream not found, stream name in use (restore), restore failed. */
const STREAM_NOT_FOUND = 10059;
const STREAM_NAME_IN_USE = 10130;
const RESTORE_FAILED = 10062;

/** Why a snapshot or restore failed, for callers that act on it (the backup command's exit). */
export type SnapshotFailure =
  | 'not_found'
  | 'exists'
  | 'unsupported'
  | 'corrupt'
  | 'refused'
  | 'timeout'
  | 'unreachable'
  | 'aborted'
  | 'file';

/**
 * A snapshot or restore of one stream that failed: which stream, which direction, why, and in the
 * message what to do about it. The NATS or file system error is the `cause`.
 */
export class StreamSnapshotError extends Error {
  constructor(
    readonly operation: 'snapshot' | 'restore',
    readonly stream: string,
    readonly failure: SnapshotFailure,
    what: string,
    options?: { cause?: unknown },
  ) {
    super(`${operation} of stream ${stream}: ${what}`, options);
    this.name = 'StreamSnapshotError';
  }
}

/** Builds the errors of one operation on one stream. */
export type Fail = (failure: SnapshotFailure, what: string, cause?: unknown) => StreamSnapshotError;

export function failWith(operation: 'snapshot' | 'restore', stream: string): Fail {
  return (failure, what, cause) =>
    new StreamSnapshotError(operation, stream, failure, what, cause === undefined ? undefined : { cause });
}

export const snapshotSubject = (stream: string) => `${SNAPSHOT_PREFIX}${stream}`;
export const restoreSubject = (stream: string) => `${RESTORE_PREFIX}${stream}`;

/** Refuses a stream name that is not one subject token, and a chunk size the server cannot carry. */
export function checkRequest(nc: NatsConnection, stream: string, chunkBytes: number, fail: Fail): void {
  if (!/^[^\s.*>]+$/.test(stream)) throw fail('refused', 'not a stream name (no spaces, dots, * or >)');
  const max = nc.info?.max_payload ?? Number.POSITIVE_INFINITY;
  if (!Number.isInteger(chunkBytes) || chunkBytes < 1 || chunkBytes > max)
    throw fail('refused', `chunk size ${chunkBytes} is not a whole number of bytes from 1 to ${max} (max_payload)`);
}

/** What a failed request to NATS means, with what to do. */
export function requestFailure(err: unknown, timeoutMs: number, fail: Fail, waitingFor: string): StreamSnapshotError {
  const text = `${(err as Error)?.name ?? ''} ${(err as Error)?.message ?? err} ${String((err as Error)?.cause ?? '')}`;
  if (/no responders/i.test(text))
    return fail(
      'unreachable',
      `nobody answered ${waitingFor} (no responders): is JetStream enabled on this server (nats-server -js), or did the server drop the transfer?`,
      err,
    );
  if (/timeout/i.test(text))
    return fail(
      'timeout',
      `no answer to ${waitingFor} within ${timeoutMs} ms: the server is frozen, overloaded or gone. Retry; raise the timeout for a very slow server`,
      err,
    );
  return fail('unreachable', `${waitingFor} failed: ${(err as Error)?.message ?? err}`, err);
}

/** Sends a JSON request to the JetStream API and returns its answer, or throws the API's error with context. */
export async function apiRequest<T>(
  nc: NatsConnection,
  subject: string,
  body: unknown,
  timeoutMs: number,
  fail: Fail,
): Promise<T> {
  const msg = await nc
    .request(subject, JSON.stringify(body), { timeout: timeoutMs })
    .catch((err: unknown) => Promise.reject(requestFailure(err, timeoutMs, fail, subject)));
  const reply = msg.json<T & { error?: ApiError }>();
  if (reply.error) throw apiFailure(reply.error, fail);
  return reply;
}

/** A JetStream API error as a {@link StreamSnapshotError} that says what to do. */
export function apiFailure(error: ApiError, fail: Fail): StreamSnapshotError {
  const said = `JetStream answered: ${error.description} (${error.code}${error.err_code ? `, err_code ${error.err_code}` : ''})`;
  if (error.err_code === STREAM_NOT_FOUND)
    return fail('not_found', `${said}. Check the name; \`nats stream ls\` lists the streams`);
  if (error.err_code === STREAM_NAME_IN_USE || /already (in use|exists)/i.test(error.description))
    return fail('exists', `${said}. Delete the stream first, or restore into a server that does not have it`);
  if (/no impl/i.test(error.description))
    return fail('unsupported', `${said}. JetStream snapshots only file-storage streams`);
  if (error.err_code === RESTORE_FAILED)
    return fail('corrupt', `${said}. Most often the file is corrupt or truncated; the server created no stream`);
  return fail('refused', said);
}
