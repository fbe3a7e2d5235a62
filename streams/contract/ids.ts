/**
 * Deterministic identities: the same fact always gets the same id, so every
 * retry, replay or restart produces outputs that deduplicate downstream.
 */
import { createHash, hash } from 'node:crypto';
import { fnv1a32 } from '../../common/index.ts';

/** The partition a channel belongs to: all events of a channel go to one partition. */
export function partitionOf(channelId: string, partitions: number): number {
  return fnv1a32(channelId) % partitions;
}

/**
 * A deterministic event id: a short prefix naming the kind (readable in SQL)
 * and a 128-bit hash of the identifying parts.
 *
 * ```ts
 * eventId('pc', channelId, postId, eventTime) // "pc_3q2+..."
 * ```
 */
export function eventId(prefix: string, ...parts: Array<string | number>): string {
  // One-shot hash: a third of the cost of a Hash object, and every output event pays it.
  return `${prefix}_${hash('sha1', parts.join('\u001f'), 'base64url').slice(0, 22)}`;
}

/** Deterministic `Nats-Msg-Id` of a batch: the hash of its event ids in order. */
export function batchId(subject: string, ids: readonly string[]): string {
  const h = createHash('sha1');
  h.update(subject);
  for (const id of ids) h.update('\u001f').update(id);
  return h.digest('base64url').slice(0, 27);
}
