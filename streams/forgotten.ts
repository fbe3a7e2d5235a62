/**
 * The register of forgotten channels (`tgpulse channels forget`), kept in the
 * checkpoint bucket beside the partition checkpoints and leases, so that a
 * backup of that bucket carries it along.
 *
 * A forgotten channel cannot be cut out of every message: a batch may hold
 * several channels (subject `tg.{layer}.pNN.{kind}._`), and dead letters name
 * no channel in their subject. So its single-channel subjects are purged, and
 * what remains is dropped by the processors and sinks until the streams age
 * it out. They ask the register through {@link ForgottenLookup} (see
 * forgotten-watch.ts) for every event.
 *
 * Keys are `forgotten.<sha256 of the channel id, hex>`: the register names no
 * channel in clear. A value says when, whether the channel is still forgotten
 * (`active`), and the last sequence of each stream when the entry was last
 * written. While active every event of the channel is dropped; once the
 * channel is added again only what the streams held at that moment is
 * dropped: everything published before the re-add, which a processor replaying
 * from its checkpoint or a rewound sink would otherwise bring back.
 *
 * ```ts
 * const entry = await registerForgotten(kv, jsm, streams, '1001234567', Date.now());
 * const purged = await purgeChannelSubjects(jsm, streams, '1001234567');
 * // later, `tgpulse channels add`:
 * await readmitForgotten(kv, jsm, streams, '1001234567', Date.now());
 * ```
 */
import { createHash } from 'node:crypto';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { StreamsConfig } from './config.ts';

/** The streams whose events the register decides on. */
export type ForgottenStream = 'raw' | 'derived' | 'dlq';

const STREAMS: readonly ForgottenStream[] = ['raw', 'derived', 'dlq'];

/** What the register holds for one forgotten channel. */
export interface ForgottenEntry {
  /** When the channel was forgotten, epoch ms. */
  at: number;
  /** True until the channel is added again (`tgpulse channels add`). */
  active: boolean;
  /** When it was added again, epoch ms; null while active. */
  readmittedAt: number | null;
  /** Last sequence of each stream when the entry was written: on a re-add, what is dropped from now on. */
  seqs: Record<ForgottenStream, number>;
}

/** Key prefix of the register in the checkpoint bucket. */
export const FORGOTTEN_PREFIX = 'forgotten.';

/**
 * The digest that stands for a channel wherever its id must not appear in
 * clear: the register's keys and the audit record of the forget. It only
 * hides the id from a scan: channel ids are few enough to be found again by
 * hashing every candidate.
 */
export function channelDigest(channelId: string): string {
  return createHash('sha256').update(channelId, 'utf8').digest('hex');
}

/** The register key of a channel. */
export function forgottenKey(channelId: string): string {
  return `${FORGOTTEN_PREFIX}${channelDigest(channelId)}`;
}

/** Whether an event at `seq` of `stream` is dropped under this entry. */
export function dropsEvent(entry: ForgottenEntry, stream: ForgottenStream, seq: number): boolean {
  return entry.active || seq <= entry.seqs[stream];
}

/**
 * Reads a stored entry; null for anything that is not one (the register must
 * not stop a processor: a key it cannot read is reported by the caller).
 */
export function parseForgottenEntry(text: string): ForgottenEntry | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const v = value as Partial<ForgottenEntry> | null;
  if (!v || typeof v !== 'object' || typeof v.at !== 'number' || typeof v.active !== 'boolean') return null;
  const seqs = v.seqs as Partial<Record<ForgottenStream, unknown>> | undefined;
  if (!seqs || STREAMS.some((s) => typeof seqs[s] !== 'number')) return null;
  return {
    at: v.at,
    active: v.active,
    readmittedAt: typeof v.readmittedAt === 'number' ? v.readmittedAt : null,
    seqs: { raw: Number(seqs.raw), derived: Number(seqs.derived), dlq: Number(seqs.dlq) },
  };
}

/** The last sequence of each stream now. */
export async function streamLastSeqs(
  jsm: JetStreamManager,
  streams: StreamsConfig,
): Promise<Record<ForgottenStream, number>> {
  const last = async (name: string) => (await jsm.streams.info(name)).state.last_seq;
  const [raw, derived, dlq] = await Promise.all([
    last(streams.names.raw),
    last(streams.names.derived),
    last(streams.names.dlq),
  ]);
  return { raw, derived, dlq };
}

/** The channel's entry, or null when it was never forgotten. */
export async function readForgotten(kv: KV, channelId: string): Promise<ForgottenEntry | null> {
  const e = await kv.get(forgottenKey(channelId));
  if (e === null || e.operation !== 'PUT') return null;
  return parseForgottenEntry(e.string());
}

/**
 * Marks the channel forgotten: from the moment the processors and sinks see
 * it (a KV watch: milliseconds), they drop its events. Forgetting again
 * renews the entry.
 */
export async function registerForgotten(
  kv: KV,
  jsm: JetStreamManager,
  streams: StreamsConfig,
  channelId: string,
  now: number,
): Promise<ForgottenEntry> {
  const entry: ForgottenEntry = {
    at: now,
    active: true,
    readmittedAt: null,
    seqs: await streamLastSeqs(jsm, streams),
  };
  await kv.put(forgottenKey(channelId), JSON.stringify(entry));
  return entry;
}

/**
 * Lets a forgotten channel's new events through again (its re-add): what
 * the streams hold now stays dropped. Returns the new entry, or null when the
 * channel is not forgotten (never, or already let in again): nothing to do.
 */
export async function readmitForgotten(
  kv: KV,
  jsm: JetStreamManager,
  streams: StreamsConfig,
  channelId: string,
  now: number,
): Promise<ForgottenEntry | null> {
  const current = await readForgotten(kv, channelId);
  if (current === null || !current.active) return null;
  const entry: ForgottenEntry = {
    ...current,
    active: false,
    readmittedAt: now,
    seqs: await streamLastSeqs(jsm, streams),
  };
  await kv.put(forgottenKey(channelId), JSON.stringify(entry));
  return entry;
}

/** Messages purged per stream. */
export interface PurgedSubjects {
  raw: number;
  derived: number;
}

/**
 * Purges the channel's own subjects (`tg.{raw|derived}.*.*.<id>`) from TG_RAW
 * and TG_DERIVED. Batches of several channels and dead letters stay until the
 * streams' limits remove them.
 */
export async function purgeChannelSubjects(
  jsm: JetStreamManager,
  streams: StreamsConfig,
  channelId: string,
): Promise<PurgedSubjects> {
  if (!/^[0-9]{1,20}$/.test(channelId))
    throw new Error(`cannot purge the subjects of channel ${JSON.stringify(channelId)}: expected a bare decimal id`);
  const purge = async (name: string, layer: 'raw' | 'derived') =>
    (await jsm.streams.purge(name, { filter: `tg.${layer}.*.*.${channelId}` })).purged;
  return {
    raw: await purge(streams.names.raw, 'raw'),
    derived: await purge(streams.names.derived, 'derived'),
  };
}
