/**
 * Stream, consumer and bucket definitions, created idempotently at start.
 */
import {
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { StreamsConfig } from './config.ts';

const NS = 1_000_000;

export function streamDefinitions(
  cfg: StreamsConfig,
): Array<Partial<StreamConfig> & { name: string; subjects: string[] }> {
  const common = {
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    num_replicas: cfg.replicas,
    max_age: cfg.maxAgeMs * NS,
    max_bytes: cfg.maxBytes,
    duplicate_window: cfg.duplicateWindowMs * NS,
    // Leave room above the decoder's limit so an oversized message reaches the
    // processor and is dead-lettered with its reason instead of failing upstream.
    max_msg_size: -1,
  };
  return [
    {
      ...common,
      name: cfg.names.raw,
      subjects: ['tg.raw.>'],
      description: 'tgpulse raw events from collectors, simulator and replay',
    },
    {
      ...common,
      name: cfg.names.derived,
      subjects: ['tg.derived.>'],
      description: 'tgpulse derived events from processors',
    },
    {
      ...common,
      name: cfg.names.dlq,
      subjects: ['tg.dlq.>'],
      description: 'tgpulse dead letters with reason, stage and origin',
    },
  ];
}

/** Creates or updates the streams; safe to call from every role at start. */
export async function ensureStreams(jsm: JetStreamManager, cfg: StreamsConfig): Promise<void> {
  for (const def of streamDefinitions(cfg)) {
    try {
      await jsm.streams.info(def.name);
      await jsm.streams.update(def.name, def);
    } catch (err) {
      if (!isNotFound(err))
        throw new Error(`cannot inspect stream ${def.name}: ${(err as Error).message}`, { cause: err });
      try {
        await jsm.streams.add(def);
      } catch (addErr) {
        // Another role may have created it between info and add.
        if (!/already in use|exists/i.test((addErr as Error).message)) {
          throw new Error(`cannot create stream ${def.name}: ${(addErr as Error).message}`, { cause: addErr });
        }
      }
    }
  }
}

export async function openCheckpointBucket(nc: NatsConnection, cfg: StreamsConfig): Promise<KV> {
  return new Kvm(nc).create(cfg.names.checkpoints, { history: 1, replicas: cfg.replicas, storage: StorageType.File });
}

export function isNotFound(err: unknown): boolean {
  const e = err as { code?: unknown; message?: string; api_error?: { err_code?: number } };
  return e?.api_error?.err_code === 10059 || e?.api_error?.err_code === 10014 || /not found/i.test(e?.message ?? '');
}
