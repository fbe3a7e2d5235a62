import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PostDelta } from '../../streams/contract/events.ts';
import {
  applySnapshot,
  type CounterSnapshot,
  type CounterValues,
  type DeltaParams,
  type TrackedCounters,
} from './deltas.ts';

const H = 3_600_000;
const DAY = 24 * H;
const T0 = Date.UTC(2024, 2, 1);
const params: DeltaParams = { freshPostMs: 2 * DAY, postRetentionMs: 30 * DAY, watermark: null };

function counters(views: number, over: Partial<CounterValues> = {}): CounterValues {
  return { views, forwards: 0, replies: 0, reactions_total: 0, reactions: {}, ...over };
}

function snap(id: string, time: number, c: CounterValues, postDate: number | null = T0): CounterSnapshot {
  return { id, sourceId: id, postId: 7, postDate, time, counters: c };
}

/** Applies snapshots in order; returns the deltas and the final tracked counters. */
function applyAll(
  snaps: CounterSnapshot[],
  p: DeltaParams = params,
): { deltas: PostDelta[]; tracked: TrackedCounters | null; kinds: string[] } {
  let tracked: TrackedCounters | null = null;
  const deltas: PostDelta[] = [];
  const kinds: string[] = [];
  for (const s of snaps) {
    const r = applySnapshot(tracked, s, p);
    kinds.push(r.kind);
    if (r.kind === 'delta') {
      tracked = r.tracked;
      deltas.push(r.delta);
    }
  }
  return { deltas, tracked, kinds };
}

const sum = (ds: PostDelta[], f: (d: PostDelta) => number) => ds.reduce((s, d) => s + f(d), 0);

describe('first snapshot of a post', () => {
  it('counts from zero and is `first` when the post is fresh', () => {
    const r = applySnapshot(
      null,
      snap(
        'a',
        T0 + H,
        counters(100, { forwards: 3, replies: 2, reactions_total: 5, reactions: { '👍': 4, '🔥': 1 } }),
      ),
      params,
    );
    expect(r.kind).toBe('delta');
    if (r.kind !== 'delta') return;
    expect(r.delta).toMatchObject({
      flag: 'first',
      d_views: 100,
      d_forwards: 3,
      d_replies: 2,
      d_reactions: 5,
      age_ms: H,
      source_id: 'a',
    });
    expect(r.delta.d_reactions_by).toEqual({ '👍': 4, '🔥': 1 });
  });

  it('is `baseline` when the post is older than freshPostMs (a backfill)', () => {
    const r = applySnapshot(null, snap('a', T0 + 3 * DAY, counters(5000)), params);
    expect(r.kind === 'delta' && r.delta.flag).toBe('baseline');
    expect(r.kind === 'delta' && r.delta.d_views).toBe(5000);
  });

  it('is `baseline` when the post date is unknown: a backfill must not look like a views spike', () => {
    const r = applySnapshot(null, snap('a', T0, counters(5000), null), params);
    expect(r.kind === 'delta' && r.delta).toMatchObject({ flag: 'baseline', age_ms: null, post_date: null });
  });

  it('is `expired` when the post is older than the retention (its state is gone; counting again would double it)', () => {
    expect(applySnapshot(null, snap('a', T0 + 31 * DAY, counters(5)), params).kind).toBe('expired');
    // The watermark ages it too, so a lagging snapshot cannot resurrect an evicted post.
    expect(applySnapshot(null, snap('a', T0 + DAY, counters(5)), { ...params, watermark: T0 + 31 * DAY }).kind).toBe(
      'expired',
    );
  });
});

describe('later snapshots', () => {
  it('give the differences, flagged `normal`', () => {
    const { deltas } = applyAll([
      snap('a', T0 + H, counters(100, { replies: 1 })),
      snap('b', T0 + 2 * H, counters(150, { replies: 3 })),
    ]);
    expect(deltas[1]).toMatchObject({ flag: 'normal', d_views: 50, d_replies: 2, views: 150, replies: 3 });
  });

  it('never let views or forwards go down: a lower value is `regressed` with delta 0', () => {
    const { deltas, tracked } = applyAll([
      snap('a', T0 + H, counters(100, { forwards: 5 })),
      snap('b', T0 + 2 * H, counters(90, { forwards: 6 })),
    ]);
    expect(deltas[1]).toMatchObject({ flag: 'regressed', d_views: 0, d_forwards: 1, views: 100, forwards: 6 });
    expect(tracked?.views).toBe(100);
  });

  it('let replies and reactions drop, per emoji too', () => {
    const { deltas } = applyAll([
      snap('a', T0 + H, counters(10, { replies: 5, reactions_total: 6, reactions: { '👍': 4, '🔥': 2 } })),
      snap('b', T0 + 2 * H, counters(10, { replies: 3, reactions_total: 5, reactions: { '👍': 5 } })),
    ]);
    expect(deltas[1]).toMatchObject({ flag: 'normal', d_replies: -2, d_reactions: -1 });
    expect(deltas[1].d_reactions_by).toEqual({ '👍': 1, '🔥': -2 });
  });

  it('treat emoji named like object properties as plain keys', () => {
    const { deltas } = applyAll([
      snap('a', T0 + H, counters(1, { reactions_total: 1, reactions: { constructor: 1 } })),
      snap('b', T0 + 2 * H, counters(1, { reactions_total: 3, reactions: { constructor: 1, toString: 2 } })),
    ]);
    expect(deltas[1].d_reactions_by).toEqual({ toString: 2 });
  });

  it('use the later of views from an out-of-order snapshot but do not roll replies back', () => {
    const { deltas, kinds } = applyAll([
      snap('a', T0 + H, counters(100, { replies: 5 })),
      snap('c', T0 + 3 * H, counters(150, { replies: 9 })),
      snap('b', T0 + 2 * H, counters(120, { replies: 7 })),
    ]);
    expect(kinds).toEqual(['delta', 'delta', 'stale']);
    expect(sum(deltas, (d) => d.d_replies)).toBe(9);
  });
});

describe('redelivery', () => {
  it('the same event id again is a duplicate', () => {
    const first = snap('a', T0 + H, counters(100));
    expect(applyAll([first, first]).kinds).toEqual(['delta', 'duplicate']);
  });

  it('identical counters at the same time are a duplicate even under another id', () => {
    expect(applyAll([snap('a', T0 + H, counters(100)), snap('b', T0 + H, counters(100))]).kinds).toEqual([
      'delta',
      'duplicate',
    ]);
  });

  it('an older snapshot seen again changes nothing', () => {
    const a = snap('a', T0 + H, counters(100));
    expect(applyAll([a, snap('b', T0 + 2 * H, counters(120)), a]).kinds).toEqual(['delta', 'delta', 'stale']);
  });
});

describe('properties', () => {
  const arbSnaps = fc.array(
    fc.record({
      dt: fc.oneof(fc.constant(0), fc.integer({ min: -2 * H, max: 3 * H })),
      views: fc.integer({ min: 0, max: 10_000 }),
      forwards: fc.integer({ min: 0, max: 100 }),
      replies: fc.integer({ min: 0, max: 50 }),
      like: fc.integer({ min: 0, max: 20 }),
      dup: fc.boolean(),
    }),
    { minLength: 1, maxLength: 40 },
  );

  function build(
    raw: { dt: number; views: number; forwards: number; replies: number; like: number; dup: boolean }[],
  ): CounterSnapshot[] {
    const out: CounterSnapshot[] = [];
    let t = T0 + 10 * H;
    raw.forEach((r, i) => {
      t += r.dt;
      const s = snap(
        `e${i}`,
        t,
        counters(r.views, {
          forwards: r.forwards,
          replies: r.replies,
          reactions_total: r.like,
          reactions: r.like ? { '👍': r.like } : {},
        }),
      );
      out.push(s);
      if (r.dup) out.push(s); // redelivery right after
    });
    return out;
  }

  it('deltas of monotone counters sum to the max seen; of the others to the newest applied value', () => {
    fc.assert(
      fc.property(arbSnaps, (raw) => {
        const snaps = build(raw);
        const { deltas, tracked } = applyAll(snaps);
        expect(sum(deltas, (d) => d.d_views)).toBe(Math.max(...snaps.map((s) => s.counters.views)));
        expect(sum(deltas, (d) => d.d_forwards)).toBe(Math.max(...snaps.map((s) => s.counters.forwards)));
        expect(sum(deltas, (d) => d.d_replies)).toBe(tracked?.replies);
        expect(sum(deltas, (d) => d.d_reactions)).toBe(tracked?.reactions_total);
        expect(sum(deltas, (d) => d.d_reactions_by['👍'] ?? 0)).toBe(tracked?.reactions['👍'] ?? 0);
        for (const d of deltas) {
          expect(d.d_views).toBeGreaterThanOrEqual(0);
          expect(d.d_forwards).toBeGreaterThanOrEqual(0);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('replaying any prefix of the snapshots again adds nothing', () => {
    fc.assert(
      fc.property(arbSnaps, fc.nat(), (raw, cut) => {
        const snaps = build(raw);
        const once = applyAll(snaps);
        const replayed = applyAll([...snaps, ...snaps.slice(0, cut % (snaps.length + 1))]);
        expect(sum(replayed.deltas, (d) => d.d_views)).toBe(sum(once.deltas, (d) => d.d_views));
        expect(sum(replayed.deltas, (d) => d.d_forwards)).toBe(sum(once.deltas, (d) => d.d_forwards));
        expect(replayed.deltas.length).toBe(once.deltas.length);
      }),
      { numRuns: 300 },
    );
  });
});
