/**
 * Stream-layer configuration: names and limits of the JetStream streams, the
 * checkpoint bucket and the wire limits. Read once at start (see cli/config.ts).
 */
export interface StreamsConfig {
  /** NATS server URL(s), comma separated. */
  natsUrl: string;
  /** Number of partitions P; fixed per deployment (changing it remaps channels). */
  partitions: number;
  /** Stream replicas: 1 embedded, 3 in a cluster. */
  replicas: number;
  /** Max age of stream messages, ms (0 = unlimited). */
  maxAgeMs: number;
  /** Max bytes per stream (-1 = unlimited). */
  maxBytes: number;
  /** Window in which a republished batch with the same Nats-Msg-Id is dropped, ms. */
  duplicateWindowMs: number;
  /** Largest message the decoder accepts; larger ones are dead-lettered as `oversized`. */
  maxMessageBytes: number;
  /** Publisher: largest batch payload before it is split into several messages. */
  maxBatchBytes: number;
  /** Publisher: publish acks awaited at once (bounded in-flight). */
  maxInflight: number;
  /** Names, overridable so deployments and tests can share one NATS server. */
  names: { raw: string; derived: string; dlq: string; checkpoints: string };
}

export const defaultStreamsConfig: StreamsConfig = {
  natsUrl: 'nats://127.0.0.1:4222',
  partitions: 8,
  replicas: 1,
  maxAgeMs: 7 * 24 * 3600_000,
  maxBytes: -1,
  duplicateWindowMs: 2 * 60_000,
  maxMessageBytes: 1024 * 1024,
  maxBatchBytes: 256 * 1024,
  maxInflight: 256,
  names: { raw: 'TG_RAW', derived: 'TG_DERIVED', dlq: 'TG_DLQ', checkpoints: 'tg_checkpoints' },
};
