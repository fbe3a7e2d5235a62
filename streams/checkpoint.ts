/**
 * Checkpoints of processor state in a NATS KV bucket. A partition's state can
 * outgrow one NATS message, so it is written as numbered chunks under a new
 * generation, then a head record naming that generation and the last stream
 * sequence it covers. The head is written last: a crash mid-write leaves the
 * previous checkpoint intact.
 */
import type { KV } from '@nats-io/kv';
import { createHash } from 'node:crypto';

export interface CheckpointHead {
  /** Last stream sequence whose effects the state includes. */
  seq: number;
  generation: number;
  chunks: number;
  bytes: number;
  sha1: string;
  written_at: number;
}

export interface Checkpoint {
  head: CheckpointHead;
  /** The state as the owner serialized it. */
  text: string;
}

const CHUNK_BYTES = 512 * 1024;

export class CheckpointStore {
  constructor(
    private readonly kv: KV,
    /** Key prefix of one owner, e.g. `processor.p03`. */
    private readonly owner: string,
  ) {}

  async load(): Promise<Checkpoint | null> {
    const entry = await this.kv.get(`${this.owner}.head`);
    if (!entry || entry.operation !== 'PUT' || entry.length === 0) return null;
    const head = entry.json<CheckpointHead>();
    const parts: Uint8Array[] = [];
    for (let i = 0; i < head.chunks; i++) {
      const c = await this.kv.get(this.chunkKey(head.generation, i));
      if (!c || c.operation !== 'PUT') throw new Error(`checkpoint ${this.owner} generation ${head.generation} is missing chunk ${i}`);
      parts.push(c.value);
    }
    const buf = Buffer.concat(parts);
    const sha1 = createHash('sha1').update(buf).digest('hex');
    if (sha1 !== head.sha1) throw new Error(`checkpoint ${this.owner} generation ${head.generation} is corrupt (sha1 mismatch)`);
    return { head, text: buf.toString('utf8') };
  }

  /** Writes a new checkpoint and returns its head; the previous generation's chunks are removed afterwards. */
  async save(seq: number, text: string, previous: CheckpointHead | null): Promise<CheckpointHead> {
    const buf = Buffer.from(text);
    const generation = (previous?.generation ?? 0) + 1;
    const chunks = Math.max(1, Math.ceil(buf.byteLength / CHUNK_BYTES));
    await Promise.all(
      Array.from({ length: chunks }, (_, i) => this.kv.put(this.chunkKey(generation, i), buf.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES))),
    );
    const head: CheckpointHead = {
      seq,
      generation,
      chunks,
      bytes: buf.byteLength,
      sha1: createHash('sha1').update(buf).digest('hex'),
      written_at: Date.now(),
    };
    await this.kv.put(`${this.owner}.head`, JSON.stringify(head));
    if (previous) {
      // Old chunks are garbage now; failing to purge them only wastes space.
      await Promise.all(Array.from({ length: previous.chunks }, (_, i) => this.kv.purge(this.chunkKey(previous.generation, i)).catch(() => undefined)));
    }
    return head;
  }

  async clear(): Promise<void> {
    await this.kv.purge(`${this.owner}.head`);
  }

  private chunkKey(generation: number, i: number): string {
    return `${this.owner}.g${generation}.c${i}`;
  }
}
