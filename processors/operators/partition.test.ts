import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateEvent } from '../../streams/contract/codec.ts';
import {
  type AnomalyEvent,
  type DerivedEvent,
  type PostCountersEvent,
  type RawEvent,
  type TrendEvent,
  type WindowAggEvent,
  QUIET_METRIC,
} from '../../streams/contract/events.ts';
import { eventId } from '../../streams/contract/ids.ts';
import { defaultProcessorConfig, validateProcessorConfig, type ProcessorConfig } from './config.ts';
import { postObservationId } from './deltas.ts';
import { applyDelta, serializeDelta, StateChanges } from './state-delta.ts';
import {
  createPartitionState,
  evict,
  processEvent,
  restoreState,
  serializeState,
  type PartitionState,
  type ProcessOutput,
} from './partition.ts';

import { makeStream } from './stream.fixture.ts';

const M = 60_000;
const H = 60 * M;
const T0 = Date.UTC(2024, 0, 1);
const cfg = defaultProcessorConfig;

/** Runs events through one state; returns every output in order. */
function runAll(
  events: RawEvent[],
  state: PartitionState = createPartitionState(),
  c: ProcessorConfig = cfg,
): { outs: ProcessOutput[]; state: PartitionState } {
  return { outs: events.map((e) => processEvent(state, e, c)), state };
}
const derivedOf = (outs: ProcessOutput[]) => outs.flatMap((o) => o.derived);
const ofKind = <K extends DerivedEvent['kind']>(ds: DerivedEvent[], kind: K) =>
  ds.filter((d): d is Extract<DerivedEvent, { kind: K }> => d.kind === kind);

const counters = (ch: string, postId: number, t: number, views: number, postDate = t - H): PostCountersEvent => ({
  v: 1,
  kind: 'post_counters',
  id: `pc:${ch}:${postId}:${t}`,
  channel_id: ch,
  event_time: t,
  observed_at: t,
  source: 'mtproto',
  data: { post_id: postId, post_date: postDate, views, forwards: 0, replies: 0, reactions_total: 0, reactions: {} },
});
const postEvent = (
  ch: string,
  postId: number,
  date: number,
  observedAt = date + M,
  id = `post:${ch}:${postId}`,
): RawEvent => ({
  v: 1,
  kind: 'post',
  id,
  channel_id: ch,
  event_time: date,
  observed_at: observedAt,
  source: 'mtproto',
  data: {
    post_id: postId,
    date,
    edit_date: null,
    text_length: 1,
    media_type: 'none',
    grouped_id: null,
    forward_from: null,
    mentions: [],
    links: [],
    hashtags: [],
    counters: { views: 1, forwards: 0, replies: 0, reactions_total: 0, reactions: {} },
  },
});
const membersEvent = (ch: string, t: number, members: number): RawEvent => ({
  v: 1,
  kind: 'channel_members',
  id: `cm:${ch}:${t}`,
  channel_id: ch,
  event_time: t,
  observed_at: t,
  source: 'mtproto',
  data: { members },
});

describe('default config', () => {
  it('is valid', () => {
    expect(validateProcessorConfig(defaultProcessorConfig)).toEqual([]);
  });

  it('names what is wrong in a bad config', () => {
    const bad: ProcessorConfig = {
      ...cfg,
      windows: [{ name: '1h', sizeMs: 3 * H, hopMs: 2 * H }],
      detectors: {
        ...cfg.detectors,
        views: { ...cfg.detectors.views, alpha: 2 },
        forwards: { ...cfg.detectors.forwards, minus: 'forwards' },
      },
    };
    const problems = validateProcessorConfig(bad);
    expect(problems).toContain('windows[0]: sizeMs must be a multiple of hopMs (hop ≤ size)');
    expect(problems).toContain('detectors.views.alpha must be in (0, 1], got 2');
    expect(problems).toContain('detectors.forwards.minus must be null or another window metric');
    expect(problems.some((p) => p.startsWith('detectors.posts.window "1d" is not the name'))).toBe(true);
  });
});

describe('processEvent', () => {
  const events = makeStream({
    seed: 7,
    hours: 24 * 12,
    surgeChannel: '-1001',
    surgeFromHour: 24 * 11,
    silentChannel: '-1003',
    silentFromHour: 24 * 9,
  });
  const { outs, state } = runAll(events);
  const derived = derivedOf(outs);

  it('emits only events that satisfy the contract', () => {
    for (const d of derived) {
      const r = validateEvent(JSON.parse(JSON.stringify(d)));
      expect(r.ok ? 'ok' : r.detail).toBe('ok');
    }
    expect(new Set(derived.map((d) => d.kind))).toEqual(new Set(['post_delta', 'window_agg', 'trend', 'anomaly']));
  });

  it('gives every distinct fact a distinct id, and a re-emitted fact the same id', () => {
    const byId = new Map<string, string>();
    for (const d of derived) {
      const body = JSON.stringify(d);
      const seen = byId.get(d.id);
      if (seen !== undefined) expect(seen).toBe(body);
      byId.set(d.id, body);
    }
    const wa = ofKind(derived, 'window_agg')[0];
    expect(wa.id).toBe(eventId('wa', wa.channel_id, wa.data.window, wa.data.window_start, wa.data.revision));
    // A delta's id is its observation's: the counters event's id, or a post event's id with its read time.
    const rawKind = new Map(events.map((e) => [e.id, e.kind]));
    const pds = ofKind(derived, 'post_delta');
    expect(new Set(pds.map((pd) => rawKind.get(pd.data.source_id)))).toEqual(new Set(['post', 'post_counters']));
    for (const pd of pds) {
      const observation =
        rawKind.get(pd.data.source_id) === 'post'
          ? postObservationId(pd.data.source_id, pd.event_time)
          : pd.data.source_id;
      expect(pd.id).toBe(eventId('pd', observation));
    }
  });

  it('reports events behind the watermark as late, and applies them to no window', () => {
    const late = outs.flatMap((o) => o.late);
    expect(late.length).toBeGreaterThan(0);
    for (const e of late) expect(['post', 'post_counters', 'channel_members']).toContain(e.kind);
  });

  it('emits a final window exactly once per (channel, window, start), as its last revision', () => {
    const last = new Map<string, WindowAggEvent>();
    const finals = new Map<string, number>();
    for (const w of ofKind(derived, 'window_agg')) {
      const k = `${w.channel_id}|${w.data.window}|${w.data.window_start}`;
      const prev = last.get(k);
      if (prev) expect(w.data.revision).toBe(prev.data.revision + 1);
      else expect(w.data.revision).toBe(1);
      expect(prev?.data.final ?? false).toBe(false);
      last.set(k, w);
      if (w.data.final) finals.set(k, (finals.get(k) ?? 0) + 1);
    }
    expect([...finals.values()].every((n) => n === 1)).toBe(true);
    expect(finals.size).toBeGreaterThan(3 * 24 * 10);
  });

  it('emits a trend for every metric scored on a final, complete window, with the expectation from before the value', () => {
    const trends = ofKind(derived, 'trend').filter((t) => t.data.post_id === null);
    const views = trends.filter((t) => t.channel_id === '-1002' && t.data.metric === 'views');
    expect(views.length).toBeGreaterThan(24 * 10);
    expect(views.every((t) => t.data.window === '1h')).toBe(true);
    const hourly = trends.filter((t) => t.channel_id === '-1002' && t.data.window === '1h').map((t) => t.data.metric);
    expect(new Set(hourly)).toEqual(
      new Set(['views', 'forwards', 'reactions', 'subscribers_gained', 'subscribers_lost']),
    );
    const daily = trends.filter((t) => t.channel_id === '-1002' && t.data.window === '1d').map((t) => t.data.metric);
    expect(new Set(daily)).toEqual(new Set(['posts']));
    // Nothing is scored in a channel's first day (detectorSettleMs): its windows are not its normal yet.
    expect(
      Math.min(...trends.filter((t) => t.channel_id === '-1002').map((t) => t.data.window_start)),
    ).toBeGreaterThanOrEqual(T0 + 24 * H);
    expect(views[views.length - 1].data.warm).toBe(true);
  });

  it('finds the views surge and keeps one anomaly id across its events', () => {
    const surge = ofKind(derived, 'anomaly').filter(
      (a) => a.channel_id === '-1001' && a.data.metric === 'views' && a.data.direction === 'spike',
    );
    expect(surge.length).toBeGreaterThan(0);
    const opened = surge.find((a) => a.data.state === 'opened')!;
    expect(opened.data.window_start).toBeGreaterThanOrEqual(T0 + 24 * 11 * H);
    const same = surge.filter((a) => a.data.anomaly_id === opened.data.anomaly_id);
    expect(same.map((a) => a.data.revision)).toEqual(same.map((_, i) => i + 1));
    expect(same.every((a) => a.data.opened_at === opened.data.window_start)).toBe(true);
  });

  it('raises a quiet anomaly for the channel that stopped posting', () => {
    const quiet = ofKind(derived, 'anomaly').filter((a) => a.data.metric === QUIET_METRIC);
    expect(quiet.map((a) => a.channel_id)).toContain('-1003');
    expect(quiet.every((a) => a.channel_id === '-1003' && a.data.direction === 'quiet')).toBe(true);
    expect(quiet[0].data.window_start).toBeGreaterThan(T0 + 24 * 9 * H);
  });

  it('has few false alarms on the quiet, regular channel', () => {
    const opened = ofKind(derived, 'anomaly').filter(
      (a) => a.channel_id === '-1002' && a.data.state === 'opened' && a.data.post_id === null,
    );
    expect(opened.length).toBeLessThanOrEqual(3);
  });

  it('keeps the state plain JSON data', () => {
    expect(restoreState(JSON.parse(serializeState(state)))).toEqual(state);
  });
});

describe('determinism', () => {
  const events = makeStream({ seed: 11, hours: 24 * 3, jitter: 0.1, duplicates: 0.05 });
  const reference = JSON.stringify(runAll(events).outs);

  it('gives identical outputs (byte for byte) when the state is checkpointed and restored anywhere', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: events.length }), { maxLength: 4 }), (cuts) => {
        const sorted = [...cuts].sort((a, b) => a - b);
        let state = createPartitionState();
        const outs: ProcessOutput[] = [];
        events.forEach((e, i) => {
          if (sorted.includes(i)) state = restoreState(serializeState(state));
          outs.push(processEvent(state, e, cfg));
        });
        expect(JSON.stringify(outs)).toBe(reference);
      }),
      { numRuns: 8 },
    );
  });

  it('restores the same state, and so the same outputs, from a full checkpoint plus incremental ones taken anywhere', () => {
    // Dense checkpoints (every few events), so a channel changed only by another's event is caught;
    // a shorter stream keeps that affordable.
    const short = makeStream({ seed: 12, hours: 30, jitter: 0.1, duplicates: 0.05 });
    const shortReference = JSON.stringify(runAll(short).outs);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 8 }), (gaps) => {
        const checkpoints = new Set<number>();
        for (let i = 0, k = 0; i < short.length; i += gaps[k++ % gaps.length]) checkpoints.add(i);
        let state = createPartitionState();
        const changes = new StateChanges();
        let saved = { base: serializeState(state), deltas: [] as string[] };
        const outs: ProcessOutput[] = [];
        short.forEach((e, i) => {
          if (checkpoints.has(i)) {
            // As the runtime does: the whole state after a sweep, only the changed channels otherwise.
            if (changes.all) saved = { base: serializeState(state), deltas: [] };
            else saved.deltas.push(serializeDelta(state, changes));
            changes.clear();
            // Go on from what the checkpoints restore, as after a crash right here.
            const restored = saved.deltas.reduce((s, d) => applyDelta(s, d), restoreState(saved.base));
            expect(serializeState(restored)).toBe(serializeState(state));
            state = restored;
          }
          const o = processEvent(state, e, cfg);
          changes.note(o.changed);
          outs.push(o);
        });
        expect(JSON.stringify(outs)).toBe(shortReference);
      }),
      { numRuns: 3 },
    );
  });

  it('gives identical outputs when the runtime evicts more often', () => {
    const state = createPartitionState();
    const outs = events.map((e) => {
      const o = processEvent(state, e, cfg);
      evict(state, cfg);
      return o;
    });
    expect(JSON.stringify(outs)).toBe(reference);
  });
});

describe('event kinds', () => {
  it('passes channel_stats and bot_event through with no output and no state change', () => {
    const state = runAll([counters('-1', 1, T0, 10)]).state;
    const before = serializeState(state);
    const stats: RawEvent = {
      v: 1,
      kind: 'channel_stats',
      id: 's',
      channel_id: '-1',
      event_time: T0 + 99 * H,
      observed_at: T0,
      source: 'mtproto',
      data: { metric: 'growth', series: 'total', t: T0, value: 5 },
    };
    const bot: RawEvent = {
      v: 1,
      kind: 'bot_event',
      id: 'b',
      channel_id: '-1',
      event_time: T0 + 99 * H,
      observed_at: T0,
      source: 'botapi',
      data: { bot_id: '1', event_type: 'start', user_id: null, properties: {} },
    };
    expect(processEvent(state, stats, cfg)).toEqual({ derived: [], late: [], skipped: [], changed: [] });
    expect(processEvent(state, bot, cfg)).toEqual({ derived: [], late: [], skipped: [], changed: [] });
    expect(serializeState(state)).toBe(before);
  });

  it('counts a post once in `posts`, by its date, however often it is delivered or edited', () => {
    const ch = '-5';
    const date = T0 + 10 * M;
    const { outs } = runAll([
      postEvent(ch, 1, date),
      postEvent(ch, 1, date),
      postEvent(ch, 1, date, date + 20 * M, 'post:edited'),
      membersEvent(ch, T0 + 2 * H, 10),
    ]);
    const w = ofKind(derivedOf(outs), 'window_agg').find(
      (x) => x.data.window === '1h' && x.data.window_start === T0 && x.data.final,
    )!;
    expect(w.data.posts).toBe(1);
    expect(outs[1].skipped).toEqual([{ event_id: 'post:-5:1', reason: 'duplicate' }]);
  });

  it('turns a post’s embedded counters into its first delta, observed at observed_at', () => {
    const { outs } = runAll([postEvent('-6', 3, T0, T0 + 5 * M)]);
    const [pd] = ofKind(outs[0].derived, 'post_delta');
    expect(pd).toMatchObject({
      event_time: T0 + 5 * M,
      observed_at: T0 + 5 * M,
      data: { flag: 'first', d_views: 1, age_ms: 5 * M, source_id: 'post:-6:3' },
    });
  });

  it('gives a post read again (same event id, later read, more views) a delta of its own', () => {
    // A restarted collector reads history again: the post event keeps its id, its counters moved on.
    const ch = '-9';
    const first = postEvent(ch, 4, T0, T0 + M);
    const again = postEvent(ch, 4, T0, T0 + 30 * M);
    if (again.kind !== 'post') throw new Error('a post event');
    again.data.counters = { ...again.data.counters, views: 371 };
    const { outs } = runAll([first, again, again]);
    const deltas = ofKind(derivedOf(outs), 'post_delta');
    expect(deltas.map((d) => [d.data.flag, d.data.d_views, d.data.source_id])).toEqual([
      ['first', 1, 'post:-9:4'],
      ['normal', 370, 'post:-9:4'],
    ]);
    expect(new Set(deltas.map((d) => d.id)).size).toBe(2);
    // The same read delivered twice is one observation.
    expect(outs[2].skipped).toEqual([{ event_id: 'post:-9:4', reason: 'duplicate' }]);
  });

  it('forgets a deleted post: a later snapshot of it starts over', () => {
    const ch = '-7';
    const { outs } = runAll([
      counters(ch, 1, T0, 100),
      {
        v: 1,
        kind: 'post_deleted',
        id: 'd',
        channel_id: ch,
        event_time: T0 + M,
        observed_at: T0 + M,
        source: 'mtproto',
        data: { post_ids: [1] },
      },
      counters(ch, 1, T0 + 2 * M, 120),
    ]);
    expect(ofKind(outs[2].derived, 'post_delta')[0].data).toMatchObject({ flag: 'first', d_views: 120 });
  });

  it('skips snapshots of posts beyond the retention', () => {
    const out = runAll([counters('-8', 1, T0 + 40 * 24 * H, 100, T0)]).outs[0];
    expect(ofKind(out.derived, 'post_delta')).toEqual([]);
    expect(out.skipped).toEqual([{ event_id: `pc:-8:1:${T0 + 40 * 24 * H}`, reason: 'post_expired' }]);
  });

  it('closes windows of every channel in the partition when another channel moves the watermark', () => {
    const { outs } = runAll([counters('-1', 1, T0 + 10 * M, 10), counters('-2', 1, T0 + 3 * H, 10)]);
    const windows = ofKind(outs[1].derived, 'window_agg').filter((w) => w.channel_id === '-1' && w.data.final);
    expect(windows.length).toBeGreaterThan(0);
    // Envelope fields come from the event that triggered the output.
    expect(windows.every((w) => w.observed_at === T0 + 3 * H && w.source === 'mtproto')).toBe(true);
  });

  it('returns a late event, while its per-post delta still counts', () => {
    const { outs } = runAll([
      counters('-1', 1, T0 + 10 * M, 10),
      counters('-1', 2, T0 + 3 * H, 10),
      counters('-1', 1, T0 + 20 * M, 15),
    ]);
    expect(outs[2].late.map((e) => e.id)).toEqual([`pc:-1:1:${T0 + 20 * M}`]);
    expect(ofKind(outs[2].derived, 'post_delta')[0].data.d_views).toBe(5);
    expect(ofKind(outs[2].derived, 'window_agg')).toEqual([]);
  });

  it('scores a post’s views at each age and emits its trend with the post id', () => {
    const events = makeStream({ seed: 3, hours: 24 * 4, channels: ['-9'], jitter: 0, duplicates: 0 });
    const trends = ofKind(derivedOf(runAll(events).outs), 'trend').filter(
      (t): t is TrendEvent => t.data.post_id !== null,
    );
    expect(new Set(trends.map((t) => t.data.window))).toEqual(new Set(['1h', '6h', '1d']));
    expect(trends.every((t) => t.data.metric === 'views_at_age' && t.event_time === t.data.window_start)).toBe(true);
  });

  it('resolves an anomaly with the same id it opened with', () => {
    const events = makeStream({ seed: 7, hours: 24 * 12, surgeChannel: '-1001', surgeFromHour: 24 * 11 });
    const anomalies: AnomalyEvent[] = ofKind(derivedOf(runAll(events).outs), 'anomaly');
    for (const a of anomalies.filter((x) => x.data.state !== 'opened')) {
      expect(anomalies.some((o) => o.data.state === 'opened' && o.data.anomaly_id === a.data.anomaly_id)).toBe(true);
    }
  });
});

describe('subscriber detectors', () => {
  /**
   * A big, growing channel: members every 15 minutes, +30..50 by day, +5..15 at
   * night and now and then a net loss of 15 there (leaves outnumber the few
   * joins); optionally 3,000 members leave in one hour.
   */
  function membersStream(massUnsubscribeAt: number | null): RawEvent[] {
    let a = 7;
    const rnd = () => {
      a = (Math.imul(a, 1103515245) + 12345) >>> 0;
      return a / 4294967296;
    };
    const out: RawEvent[] = [];
    let members = 900_000;
    for (let t = T0; t < T0 + 12 * 24 * H; t += 15 * M) {
      const hour = ((t - T0) / H) % 24;
      const night = hour < 6;
      members += night ? (rnd() < 0.05 ? -15 : 5 + Math.round(rnd() * 10)) : 30 + Math.round(rnd() * 20);
      if (massUnsubscribeAt !== null && t >= massUnsubscribeAt && t < massUnsubscribeAt + H) members -= 750;
      out.push(membersEvent('-20', t, members));
    }
    return out;
  }
  const anomaliesOf = (events: RawEvent[]) =>
    ofKind(derivedOf(runAll(events).outs), 'anomaly').filter((x) => x.data.state === 'opened');

  it('alarms on a mass unsubscribe within its hour, as subscribers_lost', () => {
    const at = T0 + (10 * 24 + 14) * H;
    const opened = anomaliesOf(membersStream(at));
    expect(opened.map((x) => [x.data.metric, x.data.window, x.data.direction, x.data.window_start])).toEqual([
      ['subscribers_lost', '1h', 'spike', at],
    ]);
    // Scored on the net loss of the hour (lost − gained), in members.
    expect(opened[0].data.value).toBeGreaterThan(2800);
  });

  it('does not alarm on the net-negative night steps of a growing channel', () => {
    expect(anomaliesOf(membersStream(null))).toEqual([]);
    // Scored on `lost` alone, those steps are a zero-inflated series where 0 → 20 looks like a surge.
    const lostAlone: ProcessorConfig = {
      ...cfg,
      detectors: {
        ...cfg.detectors,
        subscribers_lost: {
          ...cfg.detectors.subscribers_lost,
          minus: null,
          transform: 'log1p',
          zOpen: 4,
          minSd: { absolute: 0.3, relative: 0 },
        },
      },
    };
    const opened = ofKind(
      derivedOf(runAll(membersStream(null), createPartitionState(), lostAlone).outs),
      'anomaly',
    ).filter((x) => x.data.state === 'opened');
    expect(opened.length).toBeGreaterThan(0);
  });
});
