/**
 * How much each tgpulse stream holds and how long it keeps messages, for
 * `tgpulse status`: one short-lived connection that gives up at once when
 * NATS does not answer (a status must not hang on a stopped server), and
 * one stream-info request per stream.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { defaultStreamsConfig, type StreamsConfig } from './config.ts';
import { natsServers } from './nats-servers.ts';
import { isNotFound } from './topology.ts';

/** One stream's size and limits. */
export interface StreamSize {
  stream: string;
  messages: number;
  bytes: number;
  /** When the oldest message kept was stored (ISO time, ms); null when the stream is empty. */
  oldest: string | null;
  /** Messages older than this are removed (ms); null: no age limit. */
  max_age_ms: number | null;
  /** The stream removes its oldest messages beyond this size; null: no size limit. */
  max_bytes: number | null;
}

/**
 * The streams a deployment uses: raw events, derived events, dead letters,
 * and the stream behind the checkpoint KV bucket (`KV_<bucket>`, where the
 * partition leases live too).
 */
export function tgpulseStreams(names: StreamsConfig['names'] = defaultStreamsConfig.names): string[] {
  return [names.raw, names.derived, names.dlq, `KV_${names.checkpoints}`];
}

/**
 * Read the size and limits of `streams` on the NATS at `url` (credentials as
 * in TGPULSE_NATS_URL). A stream that does not exist yet is left out.
 *
 * ```ts
 * const sizes = await readStreamSizes('nats://127.0.0.1:4222', tgpulseStreams());
 * ```
 * @throws Error when NATS cannot be reached within `timeoutMs` or has no JetStream.
 */
export async function readStreamSizes(
  url: string,
  streams: readonly string[],
  opts: { timeoutMs?: number } = {},
): Promise<StreamSize[]> {
  const timeout = opts.timeoutMs ?? 2000;
  const nc = await connect({ ...natsServers(url), timeout, reconnect: false, maxReconnectAttempts: 0 });
  try {
    const jsm = await jetstreamManager(nc, { timeout });
    const sizes: StreamSize[] = [];
    for (const stream of streams) {
      try {
        const { config, state } = await jsm.streams.info(stream);
        sizes.push({
          stream,
          messages: state.messages,
          bytes: state.bytes,
          oldest: state.messages > 0 ? new Date(state.first_ts).toISOString() : null,
          max_age_ms: config.max_age > 0 ? Math.round(config.max_age / 1_000_000) : null,
          max_bytes: config.max_bytes > 0 ? config.max_bytes : null,
        });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    return sizes;
  } finally {
    await nc.close();
  }
}
