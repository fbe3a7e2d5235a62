import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { WindowAgg } from '../../streams/contract/events.ts';
import {
  admit,
  createWindowsState,
  earliestEnd,
  flush,
  observeTime,
  watermarkOf,
  type Admission,
  type Contribution,
  type WindowEmission,
  type WindowsConfig,
  type WindowsState,
} from './windows.ts';

const M = 60_000;
const H = 60 * M;
const T0 = Date.UTC(2024, 2, 1);

const hourly: WindowsConfig = {
  windows: [{ name: '1h', sizeMs: H, hopMs: H }],
  allowedLatenessMs: 10 * M,
  channelIdleMs: 6 * H,
};

/** Feeds one event's contributions like the partition does: judge all against one watermark, then move it, then flush. */
function feed(
  state: WindowsState,
  cfg: WindowsConfig,
  channel: string,
  ...cs: Contribution[]
): { admissions: Admission[]; emitted: WindowEmission[] } {
  const admissions = cs.map((c) => admit(state, channel, c, cfg));
  for (const c of cs) observeTime(state, c.time);
  return { admissions, emitted: flush(state, channel, cfg) };
}

const delta = (
  time: number,
  views: number,
  extra: Partial<Extract<Contribution, { type: 'delta' }>> = {},
): Contribution => ({
  type: 'delta',
  time,
  views,
  forwards: 0,
  replies: 0,
  reactions: 0,
  baseline: false,
  ...extra,
});
const members = (time: number, n: number): Contribution => ({ type: 'members', time, members: n });
const post = (time: number): Contribution => ({ type: 'post', time });
const brief = (e: WindowEmission) => ({
  start: (e.agg.window_start - T0) / H,
  rev: e.agg.revision,
  final: e.agg.final,
  views: e.agg.views,
});

describe('window emission', () => {
  it('emits revision 1 when the max event time reaches the end, a new revision per in-lateness change, and a final revision at the watermark', () => {
    const s = createWindowsState();
    feed(s, hourly, 'c', delta(T0 + 10 * M, 5));
    feed(s, hourly, 'c', delta(T0 + 50 * M, 7));
    const first = feed(s, hourly, 'c', delta(T0 + H + 2 * M, 1)).emitted;
    expect(first.map(brief)).toEqual([{ start: 0, rev: 1, final: false, views: 12 }]);
    // 00:55 is behind max but within lateness (watermark 00:52): the window gets revision 2.
    const revised = feed(s, hourly, 'c', delta(T0 + 55 * M, 3));
    expect(revised.admissions).toEqual(['applied']);
    expect(revised.emitted.map(brief)).toEqual([{ start: 0, rev: 2, final: false, views: 15 }]);
    // The watermark passes 01:00: final revision, even though nothing changed since revision 2.
    expect(feed(s, hourly, 'c', delta(T0 + H + 11 * M, 1)).emitted.map(brief)).toEqual([
      { start: 0, rev: 3, final: true, views: 15 },
    ]);
  });

  it('makes revision 1 the final one when max and watermark pass the end in one step', () => {
    const s = createWindowsState();
    feed(s, hourly, 'c', delta(T0 + 10 * M, 5));
    const out = feed(s, hourly, 'c', delta(T0 + H + 30 * M, 1)).emitted;
    expect(out.map(brief)).toEqual([{ start: 0, rev: 1, final: true, views: 5 }]);
  });

  it('does not apply a late event to any window and reports it', () => {
    const s = createWindowsState();
    feed(s, hourly, 'c', delta(T0 + 10 * M, 5));
    feed(s, hourly, 'c', delta(T0 + H + 30 * M, 1));
    const late = feed(s, hourly, 'c', delta(T0 + 20 * M, 100));
    expect(late.admissions).toEqual(['late']);
    expect(late.emitted).toEqual([]);
  });

  it('emits empty windows between a channel’s data with members carried, so detectors see zeros', () => {
    const s = createWindowsState();
    feed(s, hourly, 'c', members(T0 + 10 * M, 1000), delta(T0 + 10 * M, 4));
    const out = feed(s, hourly, 'c', delta(T0 + 4 * H + 30 * M, 2)).emitted;
    expect(out.map((e) => [(e.agg.window_start - T0) / H, e.agg.views, e.agg.members_last, e.agg.events])).toEqual([
      [0, 4, 1000, 2],
      [1, 0, 1000, 0],
      [2, 0, 1000, 0],
      [3, 0, 1000, 0],
    ]);
    expect(out.every((e) => e.agg.final)).toBe(true);
  });

  it('emits windows of every channel when another channel moves the watermark', () => {
    const s = createWindowsState();
    feed(s, hourly, 'a', delta(T0 + 10 * M, 4));
    const out = feed(s, hourly, 'b', delta(T0 + H + 20 * M, 1)).emitted;
    expect(out.map((e) => [e.channelId, (e.agg.window_start - T0) / H, e.agg.final])).toEqual([['a', 0, true]]);
  });

  it('keeps baseline views apart and counts posts and events', () => {
    const s = createWindowsState();
    feed(s, hourly, 'c', delta(T0 + M, 10, { forwards: 2, replies: 1, reactions: -1 }), post(T0 + 2 * M));
    feed(s, hourly, 'c', delta(T0 + 3 * M, 5000, { baseline: true, forwards: 40 }));
    const w = feed(s, hourly, 'c', delta(T0 + 2 * H, 0)).emitted.find((e) => e.agg.window_start === T0)!;
    expect(w.agg).toMatchObject({
      views: 10,
      views_baseline: 5000,
      forwards: 2,
      replies: 1,
      reactions: -1,
      posts: 1,
      events: 3,
    });
  });

  it('sums positive and negative member changes, attributing each to the window of the later count', () => {
    const s = createWindowsState();
    const out = [
      ...feed(s, hourly, 'c', members(T0 + 50 * M, 100)).emitted,
      ...feed(s, hourly, 'c', members(T0 + 70 * M, 110), members(T0 + 80 * M, 104), members(T0 + 90 * M, 109)).emitted,
      ...feed(s, hourly, 'c', members(T0 + 2 * H + 15 * M, 109)).emitted,
    ];
    const at = (h: number) => out.find((e) => e.agg.final && e.agg.window_start === T0 + h * H)!;
    const [w0, w1] = [at(0), at(1)];
    expect(w0.agg).toMatchObject({ subscribers_gained: 0, subscribers_lost: 0, members_last: 100 });
    expect(w1.agg).toMatchObject({
      subscribers_gained: 15,
      subscribers_lost: 6,
      members_last: 109,
      members_min: 104,
      members_max: 110,
    });
  });

  it('ignores the same member count observed again', () => {
    const s = createWindowsState();
    feed(s, hourly, 'c', members(T0 + M, 100));
    expect(feed(s, hourly, 'c', members(T0 + M, 100)).admissions).toEqual(['duplicate']);
  });

  it('assembles sliding windows from panes', () => {
    const cfg: WindowsConfig = { ...hourly, windows: [{ name: '3h/1h', sizeMs: 3 * H, hopMs: H }] };
    const s = createWindowsState();
    const out: WindowEmission[] = [];
    for (let h = 0; h < 5; h++) out.push(...feed(s, cfg, 'c', delta(T0 + h * H + 5 * M, 10 ** h)).emitted);
    out.push(...feed(s, cfg, 'c', delta(T0 + 6 * H + 30 * M, 0)).emitted);
    const finals = out.filter((e) => e.agg.final);
    // The first window of the channel starts before its first data: emitted, but flagged partial.
    expect(finals.map((e) => [(e.agg.window_start - T0) / H, e.agg.views, e.complete])).toEqual([
      [-3, 0, false],
      [-2, 1, false],
      [-1, 11, false],
      [0, 111, true],
      [1, 1110, true],
      [2, 11100, true],
      [3, 11000, true],
    ]);
    // Every emission says where the channel's data began, so detectors can let it settle first.
    expect(new Set(out.map((e) => e.firstData))).toEqual(new Set([T0 + 5 * M]));
  });

  it('treats data behind the watermark of a channel without windows as history, not late', () => {
    const s = createWindowsState();
    feed(s, hourly, 'a', delta(T0 + 5 * H, 1));
    expect(feed(s, hourly, 'b', delta(T0 + H, 1)).admissions).toEqual(['before_start']);
  });

  it('starts a new channel near its first event, without a run of empty windows after a jump', () => {
    const s = createWindowsState();
    feed(s, hourly, 'a', delta(T0, 1));
    const out = feed(s, hourly, 'b', delta(T0 + 100 * H, 1)).emitted.filter((e) => e.channelId === 'b');
    // At most the one window holding the lateness band before the event, not 100 hours of empties.
    expect(out.map((e) => (e.agg.window_start - T0) / H)).toEqual([99]);
  });

  it('stops a channel channelIdleMs after its last data and restarts it at its next event', () => {
    const s = createWindowsState();
    feed(s, hourly, 'a', delta(T0 + M, 1));
    const idle = feed(s, hourly, 'b', delta(T0 + 20 * H, 1)).emitted.filter((e) => e.channelId === 'a');
    // Windows up to 00:00 + 1h pane + 6h idle, then nothing.
    expect(idle.map((e) => (e.agg.window_start - T0) / H)).toEqual([-1, 0, 1, 2, 3, 4, 5, 6]);
    expect(s.channels.a).toBeUndefined();
    expect(feed(s, hourly, 'a', delta(T0 + 20 * H, 1)).admissions).toEqual(['applied']);
  });

  it('finds the earliest-ending window that contains a time', () => {
    const specs = [
      { name: '1d', sizeMs: 24 * H, hopMs: 24 * H },
      { name: '3h/1h', sizeMs: 3 * H, hopMs: H },
    ];
    expect(earliestEnd(T0 + 90 * M, specs)).toBe(T0 + 2 * H);
    expect(earliestEnd(T0 + 2 * H, specs)).toBe(T0 + 3 * H);
  });
});

// ---- model-based property ------------------------------------------------------

const propCfg: WindowsConfig = {
  windows: [
    { name: '1h', sizeMs: H, hopMs: H },
    { name: '2h', sizeMs: 2 * H, hopMs: 2 * H },
    { name: '3h/1h', sizeMs: 3 * H, hopMs: H },
  ],
  allowedLatenessMs: 20 * M,
  channelIdleMs: 2 * 24 * H,
};

type Op = { channel: string; c: Contribution };

const arbOps = fc
  .array(
    fc.record({
      channel: fc.constantFrom('1', '2'),
      step: fc.integer({ min: 0, max: 40 * M }),
      back: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 90 * M })),
      kind: fc.constantFrom('delta', 'baseline', 'post', 'members'),
      n: fc.integer({ min: 0, max: 50 }),
    }),
    { minLength: 1, maxLength: 60 },
  )
  .map((raw) => {
    let clock = T0 + 7 * M;
    return raw.map(({ channel, step, back, kind, n }): Op => {
      clock += step;
      const time = clock - back;
      const c: Contribution =
        kind === 'post'
          ? post(time)
          : kind === 'members'
            ? members(time, 1000 + n)
            : delta(time, n, {
                forwards: n % 3,
                replies: (n % 5) - 2,
                reactions: n % 7,
                baseline: kind === 'baseline',
              });
      return { channel, c };
    });
  });

/** The window recomputed directly from the contributions that were applied. */
function recompute(
  applied: Op[],
  channel: string,
  start: number,
  end: number,
): Omit<WindowAgg, 'window' | 'window_start' | 'window_end' | 'revision' | 'final'> {
  const mine = applied.filter((o) => o.channel === channel).map((o) => o.c);
  const inWin = mine.filter((c) => c.time >= start && c.time < end);
  const deltas = inWin.filter((c): c is Extract<Contribution, { type: 'delta' }> => c.type === 'delta');
  const live = deltas.filter((d) => !d.baseline);
  const memberAt = new Map<number, number>();
  for (const c of mine) if (c.type === 'members') memberAt.set(c.time, c.members);
  const chain = [...memberAt.entries()].sort((a, b) => a[0] - b[0]);
  let gained = 0;
  let lost = 0;
  chain.forEach(([t, m], i) => {
    if (i === 0 || t < start || t >= end) return;
    const d = m - chain[i - 1][1];
    if (d > 0) gained += d;
    else lost -= d;
  });
  const within = chain.filter(([t]) => t >= start && t < end).map(([, m]) => m);
  const before = chain.filter(([t]) => t < start);
  const carried = before.length > 0 ? before[before.length - 1][1] : null;
  return {
    views: live.reduce((s, d) => s + d.views, 0),
    forwards: live.reduce((s, d) => s + d.forwards, 0),
    replies: live.reduce((s, d) => s + d.replies, 0),
    reactions: live.reduce((s, d) => s + d.reactions, 0),
    views_baseline: deltas.filter((d) => d.baseline).reduce((s, d) => s + d.views, 0),
    posts: inWin.filter((c) => c.type === 'post').length,
    members_last: within.length > 0 ? within[within.length - 1] : carried,
    members_min: within.length > 0 ? Math.min(...within) : carried,
    members_max: within.length > 0 ? Math.max(...within) : carried,
    subscribers_gained: gained,
    subscribers_lost: lost,
    events: inWin.length,
  };
}

describe('windows (property: every emission equals a recomputation from the applied contributions)', () => {
  it('holds for tumbling and sliding windows, with revisions, late data and empty windows', () => {
    fc.assert(
      fc.property(arbOps, (ops) => {
        const s = createWindowsState();
        const applied: Op[] = [];
        const emissions: { e: WindowEmission; expected: ReturnType<typeof recompute> }[] = [];
        const check = (out: WindowEmission[]) => {
          for (const e of out)
            emissions.push({ e, expected: recompute(applied, e.channelId, e.agg.window_start, e.agg.window_end) });
        };
        for (const op of ops) {
          const wm = watermarkOf(s, propCfg);
          const r = feed(s, propCfg, op.channel, op.c);
          const a = r.admissions[0];
          if (a === 'applied') applied.push(op);
          // Late exactly when the earliest-ending window holding it was final already.
          const behind = wm !== null && earliestEnd(op.c.time, propCfg.windows) <= wm;
          expect(a === 'late' || a === 'before_start').toBe(behind);
          check(r.emitted);
        }
        // Push the watermark past the idle limit: every window gets its final revision and the channels retire.
        const end = Math.max(...ops.map((o) => o.c.time)) + propCfg.channelIdleMs + 4 * H;
        observeTime(s, end);
        check(flush(s, null, propCfg));

        for (const { e, expected } of emissions) {
          const { window, window_start, window_end, revision, final, ...totals } = e.agg;
          expect(totals, `${e.channelId} ${window} ${window_start} r${revision}`).toEqual(expected);
        }
        // Per window: revisions 1..n in order, exactly one final, and it is the last.
        const byWindow = new Map<string, WindowAgg[]>();
        for (const { e } of emissions) {
          const k = `${e.channelId}|${e.agg.window}|${e.agg.window_start}`;
          byWindow.set(k, [...(byWindow.get(k) ?? []), e.agg]);
        }
        for (const [k, aggs] of byWindow) {
          expect(
            aggs.map((a) => a.revision),
            k,
          ).toEqual(aggs.map((_, i) => i + 1));
          expect(aggs.filter((a) => a.final).length, k).toBe(1);
          expect(aggs[aggs.length - 1].final, k).toBe(true);
        }
        // Per channel and spec: windows are contiguous (empty ones included) and cover all applied data.
        for (const ch of ['1', '2']) {
          for (const spec of propCfg.windows) {
            const starts = [...byWindow.keys()]
              .filter((k) => k.startsWith(`${ch}|${spec.name}|`))
              .map((k) => Number(k.split('|')[2]))
              .sort((a, b) => a - b);
            for (let i = 1; i < starts.length; i++) expect(starts[i] - starts[i - 1]).toBe(spec.hopMs);
            for (const op of applied.filter((o) => o.channel === ch)) {
              expect(starts.some((st) => st <= op.c.time && op.c.time < st + spec.sizeMs)).toBe(true);
            }
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});
