/**
 * Compare-and-set on a KV key that survives lost answers. A write whose
 * answer timed out may still have landed; retried at the old revision it
 * would be refused, and the writer would wrongly think someone else wrote.
 * So a refusal is checked against the stored value: if it is byte for byte
 * what this writer sent (values carry a timestamp or an epoch, so no one else
 * writes the same bytes), the earlier attempt won and its revision is adopted.
 */
import type { KV } from '@nats-io/kv';
import { isWrongRevision } from './nats-errors.ts';

/**
 * Writes `value` if the key is still at `revision` (0: only if absent or
 * deleted). Returns the new revision, or null when another writer moved the key.
 */
export async function casWrite(kv: KV, key: string, value: string, revision: number): Promise<number | null> {
  try {
    return revision === 0 ? await kv.create(key, value) : await kv.update(key, value, revision);
  } catch (err) {
    if (!isWrongRevision(err)) throw err;
    const now = await kv.get(key);
    if (now !== null && now.operation === 'PUT' && now.string() === value) return now.revision;
    return null;
  }
}
