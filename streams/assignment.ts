/**
 * Which member should own which partition: a pure function of the live
 * members, so every member computes the same answer from the same view.
 * Views differ for a moment while a member joins or leaves; the leases'
 * compare-and-set keeps that moment safe (a partition someone else still
 * holds is simply not taken yet).
 */

export interface Member {
  id: string;
  /** Partitions this member is pinned to (`--partitions`); null when it takes a share of the rest. */
  pinned: readonly number[] | null;
}

/**
 * Pinned partitions go to their (first, by id) pinning member; the others are
 * dealt round-robin over the unpinned members in id order, so shares differ
 * by at most one.
 *
 * ```ts
 * assignPartitions(8, [{ id: 'a', pinned: null }, { id: 'b', pinned: null }]).get('a'); // [0, 2, 4, 6]
 * ```
 */
export function assignPartitions(partitions: number, members: readonly Member[]): Map<string, number[]> {
  const sorted = [...members].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const out = new Map<string, number[]>(sorted.map((m) => [m.id, []]));
  const pinnedTo = new Map<number, string>();
  for (const m of sorted)
    for (const p of m.pinned ?? []) if (p >= 0 && p < partitions && !pinnedTo.has(p)) pinnedTo.set(p, m.id);
  const sharing = sorted.filter((m) => m.pinned === null);
  let next = 0;
  for (let p = 0; p < partitions; p++) {
    const owner = pinnedTo.get(p) ?? (sharing.length ? sharing[next++ % sharing.length].id : undefined);
    if (owner !== undefined) out.get(owner)!.push(p);
  }
  return out;
}
