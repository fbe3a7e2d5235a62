/**
 * Subjects: `tg.raw.p{NN}.{kind}.{channel_id}`, `tg.derived.p{NN}.{kind}.{channel_id}`,
 * `tg.dlq.{stage}`. The partition token lets a processor own whole partitions
 * with a plain filter subject.
 *
 * A batch that holds events of several channels of one partition (the
 * publisher coalesces them: per-message cost is what limits throughput) goes
 * to `tg.{layer}.p{NN}.{kind}._`: the channel token `_` means "several".
 */
import { isRawKind, type EventKind } from './events.ts';
import { partitionOf } from './ids.ts';

export type Layer = 'raw' | 'derived';

export function partitionToken(p: number): string {
  return `p${String(p).padStart(2, '0')}`;
}

export function layerOf(kind: EventKind): Layer {
  return isRawKind(kind) ? 'raw' : 'derived';
}

export function eventSubject(kind: EventKind, channelId: string, partitions: number): string {
  return `tg.${layerOf(kind)}.${partitionToken(partitionOf(channelId, partitions))}.${kind}.${channelId}`;
}

/** Channel token of a batch that spans several channels of one partition. */
export const SEVERAL_CHANNELS = '_';

export function batchSubject(kind: EventKind, partition: number): string {
  return `tg.${layerOf(kind)}.${partitionToken(partition)}.${kind}.${SEVERAL_CHANNELS}`;
}

/** Filter subject of one partition of a layer, e.g. `tg.raw.p03.>`. */
export function partitionFilter(layer: Layer, p: number): string {
  return `tg.${layer}.${partitionToken(p)}.>`;
}

export function dlqSubject(stage: string): string {
  return `tg.dlq.${stage}`;
}

export interface ParsedSubject {
  layer: Layer;
  partition: number;
  kind: string;
  channelId: string;
}

/** Parses an event subject; returns null for anything that is not one. */
export function parseSubject(subject: string): ParsedSubject | null {
  const parts = subject.split('.');
  if (parts.length !== 5 || parts[0] !== 'tg') return null;
  const [, layer, p, kind, channelId] = parts;
  if (layer !== 'raw' && layer !== 'derived') return null;
  if (!/^p[0-9]{2,}$/.test(p)) return null;
  return { layer, partition: Number(p.slice(1)), kind, channelId };
}
