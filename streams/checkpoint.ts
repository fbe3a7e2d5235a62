/**
 * Checkpoints of processor state in a NATS KV bucket, fenced and incremental.
 *
 * A checkpoint is a full state (the base) plus the deltas written since, each
 * a segment of numbered chunks (a state can outgrow one NATS message), and a
 * head record naming them and the last stream sequence they cover. Segments
 * are written first and the head last, so a crash mid-write leaves the
 * previous checkpoint intact.
 *
 * Fencing: the head is only ever written with compare-and-set against the
 * revision this owner last wrote or read. A new owner first claims the head
 * (rewrites it under its own epoch), so a stale owner's next write is refused
 * with {@link FencedError} instead of overwriting the new owner's progress.
 * Segment keys carry the head revision they were written under, so a stale
 * owner's chunks can never overwrite chunks a live head names.
 */
import type { KV } from '@nats-io/kv';
import { createHash } from 'node:crypto';
import { casWrite } from './kv-cas.ts';

export interface Segment {
  /** Key prefix of its chunks. */
  key: string;
  chunks: number;
  bytes: number;
  sha1: string;
}

export interface CheckpointHead {
  /** Last stream sequence whose effects the state includes. */
  seq: number;
  /** Lease epoch of the owner that wrote the head. */
  epoch: number;
  /** The full state, and the deltas to replay onto it in order. */
  base: Segment | null;
  deltas: Segment[];
  written_at: number;
}

export interface Checkpoint {
  head: CheckpointHead;
  /** The base state's text, then each delta's, as the owner serialized them. */
  base: string | null;
  deltas: string[];
}

/** A checkpoint write refused because another owner wrote the head since: this owner must stop. */
export class FencedError extends Error {
  constructor(
    readonly owner: string,
    readonly epoch: number,
  ) {
    super(`checkpoint ${owner}: another owner wrote the head since epoch ${epoch}; this owner is stale and stops`);
    this.name = 'FencedError';
  }
}

const CHUNK_BYTES = 512 * 1024;

export class CheckpointStore {
  #head: CheckpointHead | null = null;
  /** Revision of the head as this owner last wrote or claimed it. */
  #revision = 0;
  #epoch = 0;
  /**
   * The save last tried and when: a save retried after its answer was lost
   * (the caller retries NATS timeouts) sends the same head bytes again, so
   * casWrite recognises a head write that landed. With a new timestamp it
   * would look like another owner's write: the owner would stop as fenced
   * and purge the very segments the stored head names.
   */
  #attempt: { id: string; at: number } | null = null;

  constructor(
    private readonly kv: KV,
    /** Key prefix of one partition, e.g. `processor.p03`. */
    private readonly owner: string,
  ) {}

  get head(): CheckpointHead | null {
    return this.#head;
  }

  /** Bytes of the deltas since the base: what a restore replays on top of it. */
  get deltaBytes(): number {
    return (this.#head?.deltas ?? []).reduce((n, d) => n + d.bytes, 0);
  }

  /**
   * Loads the checkpoint and claims it for `epoch` (the owner's lease epoch):
   * from then on only this owner's writes are accepted. Retries when another
   * writer moves the head between the read and the claim.
   */
  async claim(epoch: number): Promise<Checkpoint | null> {
    for (;;) {
      const entry = await this.kv.get(this.#headKey());
      const present = entry !== null && entry.operation === 'PUT' && entry.length > 0;
      const head = present ? readHead(this.owner, entry.json<StoredHead>()) : null;
      // A newer owner claimed it: this one is stale (e.g. it was paused between reading and claiming,
      // and retried its claim after the newer owner's). Taking the head back would fence the newer one.
      if (head && head.epoch > epoch) throw new FencedError(this.owner, epoch);
      const checkpoint = head ? await this.#read(head) : null;
      const claimed: CheckpointHead = head
        ? { ...head, epoch, written_at: Date.now() }
        : { seq: 0, epoch, base: null, deltas: [], written_at: Date.now() };
      const revision = await casWrite(this.kv, this.#headKey(), JSON.stringify(claimed), present ? entry.revision : 0);
      if (revision === null) continue;
      this.#revision = revision;
      this.#epoch = epoch;
      this.#head = claimed;
      return checkpoint;
    }
  }

  /** Writes the whole state as the new base; the previous base and deltas become garbage. */
  async saveBase(seq: number, text: string): Promise<CheckpointHead> {
    const segment = await this.#writeSegment(text);
    const previous = this.#head;
    const writtenAt = this.#writtenAt(`base ${seq} ${segment.key} ${segment.sha1}`);
    const head = await this.#writeHead({ seq, epoch: this.#epoch, base: segment, deltas: [], written_at: writtenAt }, [
      segment,
    ]);
    if (previous) await this.#purge([...(previous.base ? [previous.base] : []), ...previous.deltas]);
    return head;
  }

  /** Appends a delta (the changes since the last checkpoint) to the current base. */
  async saveDelta(seq: number, text: string): Promise<CheckpointHead> {
    const current = this.#head;
    if (!current?.base)
      throw new Error(`checkpoint ${this.owner}: a delta needs a base; write one with saveBase first`);
    const segment = await this.#writeSegment(text);
    const writtenAt = this.#writtenAt(`delta ${seq} ${segment.key} ${segment.sha1}`);
    return this.#writeHead(
      { ...current, seq, epoch: this.#epoch, deltas: [...current.deltas, segment], written_at: writtenAt },
      [segment],
    );
  }

  /** The timestamp of a save: the first try's for a retry of the same save (same content, same revision). */
  #writtenAt(id: string): number {
    if (this.#attempt?.id !== id) this.#attempt = { id, at: Date.now() };
    return this.#attempt.at;
  }

  async #writeHead(head: CheckpointHead, written: Segment[]): Promise<CheckpointHead> {
    const revision = await casWrite(this.kv, this.#headKey(), JSON.stringify(head), this.#revision);
    if (revision === null) {
      await this.#purge(written);
      throw new FencedError(this.owner, this.#epoch);
    }
    this.#revision = revision;
    this.#head = head;
    return head;
  }

  async #writeSegment(text: string): Promise<Segment> {
    const buf = Buffer.from(text);
    // Unique per write: the head revision it is written under (no two writers share one).
    const key = `${this.owner}.r${this.#revision}`;
    const chunks = Math.max(1, Math.ceil(buf.byteLength / CHUNK_BYTES));
    await Promise.all(
      Array.from({ length: chunks }, (_, i) =>
        this.kv.put(`${key}.c${i}`, buf.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES)),
      ),
    );
    return { key, chunks, bytes: buf.byteLength, sha1: sha1(buf) };
  }

  async #read(head: CheckpointHead): Promise<Checkpoint> {
    const read = async (s: Segment): Promise<string> => {
      const parts: Uint8Array[] = [];
      for (let i = 0; i < s.chunks; i++) {
        const c = await this.kv.get(`${s.key}.c${i}`);
        if (c?.operation !== 'PUT') throw new Error(`checkpoint ${this.owner}: segment ${s.key} is missing chunk ${i}`);
        parts.push(c.value);
      }
      const buf = Buffer.concat(parts);
      if (sha1(buf) !== s.sha1)
        throw new Error(`checkpoint ${this.owner}: segment ${s.key} is corrupt (sha1 mismatch)`);
      return buf.toString('utf8');
    };
    return { head, base: head.base ? await read(head.base) : null, deltas: await Promise.all(head.deltas.map(read)) };
  }

  /** Old segments are garbage: failing to purge them only wastes space. */
  async #purge(segments: Segment[]): Promise<void> {
    await Promise.all(
      segments.flatMap((s) =>
        Array.from({ length: s.chunks }, (_, i) => this.kv.purge(`${s.key}.c${i}`).catch(() => undefined)),
      ),
    );
  }

  #headKey(): string {
    return `${this.owner}.head`;
  }
}

/** A head as stored: this layout, or the earlier one of a single full state per generation. */
type StoredHead =
  | CheckpointHead
  | { seq: number; generation: number; chunks: number; bytes: number; sha1: string; written_at: number };

function readHead(owner: string, raw: StoredHead): CheckpointHead {
  if ('base' in raw) return raw;
  const base = { key: `${owner}.g${raw.generation}`, chunks: raw.chunks, bytes: raw.bytes, sha1: raw.sha1 };
  return { seq: raw.seq, epoch: 0, base, deltas: [], written_at: raw.written_at };
}

function sha1(buf: Buffer): string {
  return createHash('sha1').update(buf).digest('hex');
}
