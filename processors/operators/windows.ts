/**
 * Per-channel event-time windows, tumbling and sliding, assembled from panes
 * (the largest duration every window size and hop is a multiple of), so a
 * sliding 24h window that hops hourly costs 24 pane reads, not 24 copies.
 *
 * Time rules, per partition:
 * - watermark = max event time seen − allowed lateness;
 * - a window is emitted (revision 1, `final: false`) once the max event time
 *   reaches its end; each later change to it emits the next revision;
 * - once the watermark reaches its end it is emitted `final: true` exactly
 *   once (a new revision even when nothing changed, so the last row of every
 *   window says final; when max and watermark pass the end in the same step,
 *   revision 1 is the final one) and then never changes;
 * - a contribution is `late` when the earliest-ending window containing it is
 *   already final: it is applied to no window at all, so every window equals a
 *   recomputation over the contributions that were applied;
 * - a channel with no windows yet (new, or dormant after `channelIdleMs`
 *   without data) that gets a contribution behind the watermark is not late —
 *   there is nothing to correct — but `before_start`: history that stays in
 *   the raw tables;
 * - windows without data are still emitted (zeros, members carried) from the
 *   channel's first window on, so detectors see zeros; they stop
 *   `channelIdleMs` after the channel's last contribution, which bounds the
 *   work of a dead channel or of a jump of the watermark.
 *
 * The state is plain JSON data and is updated in place by {@link admit},
 * {@link observeTime} and {@link flush}.
 */
import type { WindowAgg } from '../../streams/contract/index.ts';
import { paneSizeMs, type ProcessorConfig, type WindowSpec } from './config.ts';

/** The part of the config windows need. */
export type WindowsConfig = Pick<ProcessorConfig, 'windows' | 'allowedLatenessMs' | 'channelIdleMs'>;

/** Something that counts toward a channel's windows at an event time. */
export type Contribution =
  /** A post delta at its snapshot time; `baseline` deltas only add `views_baseline`. */
  | {
      type: 'delta';
      time: number;
      views: number;
      forwards: number;
      replies: number;
      reactions: number;
      baseline: boolean;
    }
  /** A post published at `time` (the post date); the caller makes it once per post. */
  | { type: 'post'; time: number }
  /** A member count observed at `time`. */
  | { type: 'members'; time: number; members: number };

/** What became of a contribution. */
export type Admission = 'applied' | 'late' | 'before_start' | 'duplicate';

/**
 * A window's aggregate without its identity: what revisions compare. `events`
 * counts the contributions applied (a post event brings two: its publication
 * and its embedded counters), not redeliveries.
 */
export type WindowTotals = Omit<WindowAgg, 'window' | 'window_start' | 'window_end' | 'revision' | 'final'>;

/** A member count observation: [time, members]. */
type MemberPoint = [number, number];

/** Sums of one pane of one channel. */
interface Pane {
  start: number;
  views: number;
  forwards: number;
  replies: number;
  reactions: number;
  views_baseline: number;
  posts: number;
  events: number;
  /** Member counts observed in the pane, ascending by time, one per time. */
  members: MemberPoint[];
}

/** A window emitted but not final yet: the last emitted revision and totals. */
interface PendingWindow {
  start: number;
  revision: number;
  totals: WindowTotals;
}

/** Emission progress of one window spec for one channel. */
interface SpecCursor {
  /** End of the next window never emitted. */
  nextEnd: number;
  /** Windows emitted and not final, ascending. */
  pending: PendingWindow[];
}

/** The windows of one channel. */
export interface ChannelWindows {
  /** Earliest and latest contribution time applied: windows starting before the first are partial. */
  firstData: number;
  lastData: number;
  /** Panes holding data, ascending by start; panes no open window needs are evicted. */
  panes: Pane[];
  /** The last member count before the retained panes (predecessor for gained/lost). */
  membersBefore: MemberPoint | null;
  /** Cursor per window spec name. */
  cursors: Record<string, SpecCursor>;
  /** Set by an applied contribution: pending windows must be recomputed. */
  dirty: boolean;
}

export interface WindowsState {
  /** Max event time seen in the partition (null before the first). */
  maxEventTime: number | null;
  /** Pane numbers of max event time and watermark at the last sweep over all channels. */
  sweptMaxPane: number | null;
  sweptWmPane: number | null;
  channels: Record<string, ChannelWindows>;
}

/** One emitted window. */
export interface WindowEmission {
  channelId: string;
  agg: WindowAgg;
  /** False for windows starting before the channel's first data: partial, not fit for scoring. */
  complete: boolean;
  /** The channel's earliest contribution time (since its windows started, or restarted after being idle). */
  firstData: number;
}

export function createWindowsState(): WindowsState {
  return { maxEventTime: null, sweptMaxPane: null, sweptWmPane: null, channels: {} };
}

/** The partition watermark: max event time − allowed lateness (null before any event). */
export function watermarkOf(state: WindowsState, cfg: Pick<WindowsConfig, 'allowedLatenessMs'>): number | null {
  return state.maxEventTime === null ? null : state.maxEventTime - cfg.allowedLatenessMs;
}

/** Raises the partition's max event time (never lowers it). */
export function observeTime(state: WindowsState, time: number): void {
  if (state.maxEventTime === null || time > state.maxEventTime) state.maxEventTime = time;
}

/** End of the earliest-ending window of `spec` that contains `t`. */
function firstEndAfter(t: number, spec: WindowSpec): number {
  return (Math.floor((t - spec.sizeMs) / spec.hopMs) + 1) * spec.hopMs + spec.sizeMs;
}

/** End of the earliest-ending window of any spec that contains `t`: once final, `t` is late. */
export function earliestEnd(t: number, windows: readonly WindowSpec[]): number {
  let end = Infinity;
  for (const w of windows) end = Math.min(end, firstEndAfter(t, w));
  return end;
}

/**
 * Applies a contribution to its channel's panes unless it is late (or history
 * for a channel without windows). Does not move the watermark: call
 * {@link observeTime} after all contributions of an event, so an event's parts
 * are judged against the same watermark.
 */
export function admit(state: WindowsState, channelId: string, c: Contribution, cfg: WindowsConfig): Admission {
  const wm = watermarkOf(state, cfg);
  let ch = state.channels[channelId] as ChannelWindows | undefined;
  if (wm !== null && earliestEnd(c.time, cfg.windows) <= wm) return ch ? 'late' : 'before_start';
  if (!ch) {
    ch = newChannel(c.time, wm, cfg);
    state.channels[channelId] = ch;
  }
  const P = paneSizeMs(cfg.windows);
  const paneStart = Math.floor(c.time / P) * P;
  if (c.type === 'members') {
    const existing = findPane(ch, paneStart)?.members.find((m) => m[0] === c.time);
    if (existing && existing[1] === c.members) return 'duplicate';
  }
  const pane = paneAt(ch, paneStart);
  switch (c.type) {
    case 'delta':
      if (c.baseline) pane.views_baseline += c.views;
      else {
        pane.views += c.views;
        pane.forwards += c.forwards;
        pane.replies += c.replies;
        pane.reactions += c.reactions;
      }
      break;
    case 'post':
      pane.posts += 1;
      break;
    case 'members': {
      const i = pane.members.findIndex((m) => m[0] >= c.time);
      if (i >= 0 && pane.members[i][0] === c.time) pane.members[i] = [c.time, c.members];
      else if (i < 0) pane.members.push([c.time, c.members]);
      else pane.members.splice(i, 0, [c.time, c.members]);
      break;
    }
  }
  pane.events += 1;
  ch.firstData = Math.min(ch.firstData, c.time);
  ch.lastData = Math.max(ch.lastData, c.time);
  ch.dirty = true;
  return 'applied';
}

/**
 * A channel's windows start at the first window ending after
 * min(t, max(watermark, t − lateness)): late enough that a jump of the
 * watermark emits no run of empty windows, early enough that every window a
 * later non-late contribution can fall in is covered.
 */
function newChannel(t: number, wm: number | null, cfg: WindowsConfig): ChannelWindows {
  const from = Math.min(t, Math.max(wm ?? -Infinity, t - cfg.allowedLatenessMs));
  const cursors: Record<string, SpecCursor> = {};
  for (const w of cfg.windows) cursors[w.name] = { nextEnd: firstEndAfter(from, w), pending: [] };
  return { firstData: t, lastData: t, panes: [], membersBefore: null, cursors, dirty: false };
}

function findPane(ch: ChannelWindows, start: number): Pane | undefined {
  for (let i = ch.panes.length - 1; i >= 0; i--) {
    const p = ch.panes[i];
    if (p.start === start) return p;
    if (p.start < start) return undefined;
  }
  return undefined;
}

/** The pane starting at `start`, created in order when missing (most contributions hit the newest pane). */
function paneAt(ch: ChannelWindows, start: number): Pane {
  let i = ch.panes.length;
  while (i > 0 && ch.panes[i - 1].start > start) i--;
  if (i > 0 && ch.panes[i - 1].start === start) return ch.panes[i - 1];
  const pane: Pane = {
    start,
    views: 0,
    forwards: 0,
    replies: 0,
    reactions: 0,
    views_baseline: 0,
    posts: 0,
    events: 0,
    members: [],
  };
  ch.panes.splice(i, 0, pane);
  return pane;
}

/**
 * Emits what the current max event time and watermark call for: revisions of
 * the touched channel's pending windows, windows whose end was reached, final
 * windows, in window-end order per spec. All channels are visited only when
 * the max event time or the watermark crossed a pane boundary since the last
 * sweep (nothing else can close a window); otherwise only `touched`.
 */
export function flush(state: WindowsState, touched: string | null, cfg: WindowsConfig): WindowEmission[] {
  const max = state.maxEventTime;
  if (max === null) return [];
  const wm = max - cfg.allowedLatenessMs;
  const P = paneSizeMs(cfg.windows);
  const maxPane = Math.floor(max / P);
  const wmPane = Math.floor(wm / P);
  const sweep = maxPane !== state.sweptMaxPane || wmPane !== state.sweptWmPane;
  const ids = sweep ? Object.keys(state.channels).sort() : touched !== null && state.channels[touched] ? [touched] : [];
  const out: WindowEmission[] = [];
  for (const id of ids) {
    const ch = state.channels[id];
    flushChannel(id, ch, max, wm, P, cfg, out);
    if (wm >= idleUntil(ch, P, cfg)) delete state.channels[id];
  }
  if (sweep) {
    state.sweptMaxPane = maxPane;
    state.sweptWmPane = wmPane;
  }
  return out;
}

/** Windows of a channel end at most here; once the watermark passes it, the channel is dormant. */
function idleUntil(ch: ChannelWindows, P: number, cfg: WindowsConfig): number {
  return Math.floor(ch.lastData / P) * P + P + cfg.channelIdleMs;
}

function flushChannel(
  id: string,
  ch: ChannelWindows,
  max: number,
  wm: number,
  P: number,
  cfg: WindowsConfig,
  out: WindowEmission[],
): void {
  const until = idleUntil(ch, P, cfg);
  const firstPane = Math.floor(ch.firstData / P) * P;
  const emit = (spec: WindowSpec, start: number, revision: number, final: boolean, totals: WindowTotals) => {
    out.push({
      channelId: id,
      agg: { window: spec.name, window_start: start, window_end: start + spec.sizeMs, revision, final, ...totals },
      complete: start >= firstPane,
      firstData: ch.firstData,
    });
  };
  for (const spec of cfg.windows) {
    // A spec added since the checkpoint starts at the current watermark.
    const cursor = (ch.cursors[spec.name] ??= {
      nextEnd: firstEndAfter(Math.max(wm, ch.firstData), spec),
      pending: [],
    });
    const pending: PendingWindow[] = [];
    for (const w of cursor.pending) {
      const end = w.start + spec.sizeMs;
      if (end <= wm) {
        emit(spec, w.start, w.revision + 1, true, aggregate(ch, w.start, end));
        continue;
      }
      if (ch.dirty) {
        const totals = aggregate(ch, w.start, end);
        if (!sameTotals(totals, w.totals)) {
          w.revision += 1;
          w.totals = totals;
          emit(spec, w.start, w.revision, false, totals);
        }
      }
      pending.push(w);
    }
    while (cursor.nextEnd <= max && cursor.nextEnd <= until) {
      const start = cursor.nextEnd - spec.sizeMs;
      const totals = aggregate(ch, start, cursor.nextEnd);
      const final = cursor.nextEnd <= wm;
      emit(spec, start, 1, final, totals);
      if (!final) pending.push({ start, revision: 1, totals });
      cursor.nextEnd += spec.hopMs;
    }
    cursor.pending = pending;
  }
  for (const name of Object.keys(ch.cursors)) if (!cfg.windows.some((w) => w.name === name)) delete ch.cursors[name];
  ch.dirty = false;
  evictPanes(ch, cfg);
}

/** Drops panes that no pending or future window of any spec covers. */
function evictPanes(ch: ChannelWindows, cfg: WindowsConfig): void {
  let needed = Infinity;
  for (const spec of cfg.windows) {
    const c = ch.cursors[spec.name];
    needed = Math.min(needed, c.pending.length > 0 ? c.pending[0].start : c.nextEnd - spec.sizeMs);
  }
  let drop = 0;
  while (drop < ch.panes.length && ch.panes[drop].start < needed) {
    const m = ch.panes[drop].members;
    if (m.length > 0) ch.membersBefore = m[m.length - 1];
    drop++;
  }
  if (drop > 0) ch.panes.splice(0, drop);
}

/**
 * The totals of window [start, end) from the panes. Subscribers gained/lost
 * are the positive/negative differences between consecutive member counts,
 * each attributed to the window of the later count; a window without counts
 * carries the last count before it.
 */
export function aggregate(ch: ChannelWindows, start: number, end: number): WindowTotals {
  const t: WindowTotals = {
    views: 0,
    forwards: 0,
    replies: 0,
    reactions: 0,
    views_baseline: 0,
    posts: 0,
    members_last: null,
    members_min: null,
    members_max: null,
    subscribers_gained: 0,
    subscribers_lost: 0,
    events: 0,
  };
  let prev: MemberPoint | null = ch.membersBefore;
  for (const p of ch.panes) {
    if (p.start >= end) break;
    if (p.start < start) {
      if (p.members.length > 0) prev = p.members[p.members.length - 1];
      continue;
    }
    t.views += p.views;
    t.forwards += p.forwards;
    t.replies += p.replies;
    t.reactions += p.reactions;
    t.views_baseline += p.views_baseline;
    t.posts += p.posts;
    t.events += p.events;
    for (const m of p.members) {
      if (prev) {
        const d = m[1] - prev[1];
        if (d > 0) t.subscribers_gained += d;
        else t.subscribers_lost -= d;
      }
      t.members_min = t.members_min === null ? m[1] : Math.min(t.members_min, m[1]);
      t.members_max = t.members_max === null ? m[1] : Math.max(t.members_max, m[1]);
      t.members_last = m[1];
      prev = m;
    }
  }
  if (t.members_last === null && prev) {
    t.members_last = t.members_min = t.members_max = prev[1];
  }
  return t;
}

function sameTotals(a: WindowTotals, b: WindowTotals): boolean {
  return (
    a.views === b.views &&
    a.forwards === b.forwards &&
    a.replies === b.replies &&
    a.reactions === b.reactions &&
    a.views_baseline === b.views_baseline &&
    a.posts === b.posts &&
    a.members_last === b.members_last &&
    a.members_min === b.members_min &&
    a.members_max === b.members_max &&
    a.subscribers_gained === b.subscribers_gained &&
    a.subscribers_lost === b.subscribers_lost &&
    a.events === b.events
  );
}
