import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type {
  ChannelMembersEvent,
  ChannelStatsEvent,
  PostCountersEvent,
  RawEvent,
} from '../../streams/contract/events.ts';
import { validateEvent } from '../../streams/contract/codec.ts';
import { localHour } from './model.ts';
import { Simulator, SimulatorConfigError, type SimBatch, type SimulatorOptions } from './simulator.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../common/time.ts';
import { median } from 'simple-statistics';

const START = Date.UTC(2024, 0, 1);

function run(opts: Partial<SimulatorOptions> = {}): { sim: Simulator; batches: SimBatch[] } {
  const sim = new Simulator({ seed: 11, channels: 12, start: START, durationMs: 2 * DAY_MS, ...opts });
  return { sim, batches: [...sim.batches()] };
}

function fingerprint(batches: readonly SimBatch[]): string {
  const h = createHash('sha256');
  for (const b of batches) h.update(JSON.stringify(b));
  return h.digest('hex');
}

function eventsOf(batches: readonly SimBatch[]): RawEvent[] {
  return batches.flat();
}

function ofKind<K extends RawEvent['kind']>(
  events: readonly RawEvent[],
  kind: K,
): Array<Extract<RawEvent, { kind: K }>> {
  return events.filter((e): e is Extract<RawEvent, { kind: K }> => e.kind === kind);
}

/** Counters snapshots per `channel/post`, in event-time order. */
function countersByPost(events: readonly RawEvent[]): Map<string, PostCountersEvent[]> {
  const m = new Map<string, PostCountersEvent[]>();
  for (const e of ofKind(events, 'post_counters')) {
    const key = `${e.channel_id}/${e.data.post_id}`;
    const list = m.get(key);
    if (list) list.push(e);
    else m.set(key, [e]);
  }
  return m;
}

// A ten-day run long enough for posts to live their whole polled week.
const long = run({ channels: 16, durationMs: 10 * DAY_MS, anomalies: 'none' });
const longEvents = eventsOf(long.batches);

describe('Simulator determinism', () => {
  it('gives identical batches and ids for the same options', () => {
    const a = run();
    const b = run();
    expect(a.batches.length).toBeGreaterThan(1000);
    expect(fingerprint(a.batches)).toBe(fingerprint(b.batches));
  });

  it('gives different data for a different seed', () => {
    expect(fingerprint(run({ seed: 12 }).batches)).not.toBe(fingerprint(run().batches));
  });

  it("keeps a channel's events unchanged when the number of channels changes", () => {
    const opts: Partial<SimulatorOptions> = { durationMs: 10 * DAY_MS, anomalies: 'default', anomalyRate: 0.5 };
    const few = run({ ...opts, channels: 3 });
    const many = run({ ...opts, channels: 9 });
    const firstThree = new Set(few.sim.profiles.map((p) => p.channelId));
    const fromMany = many.batches.filter((b) => firstThree.has(b[0].channel_id));
    expect(fingerprint(fromMany)).toBe(fingerprint(few.batches));
    expect(many.sim.labels().filter((l) => firstThree.has(l.channel_id))).toEqual(few.sim.labels());
    expect(few.sim.labels().length).toBeGreaterThan(0);
  });

  it('gives the same batches whether stepped by tick or in one go', () => {
    const sim = new Simulator({ seed: 11, channels: 12, start: START, durationMs: 2 * DAY_MS });
    const oneGo = sim.step(START + 2 * DAY_MS);
    expect(fingerprint(oneGo)).toBe(fingerprint(run().batches));
    expect(sim.done).toBe(true);
    expect(sim.step(START + 3 * DAY_MS)).toEqual([]);
  });

  it('uses realistic, deterministic channel ids', () => {
    expect(long.sim.profiles.map((p) => p.channelId).slice(0, 3)).toEqual(['1001234567', '1001234568', '1001234569']);
  });
});

describe('Simulator output', () => {
  it('emits only events that satisfy the contract', () => {
    const { batches } = run({ durationMs: 9 * DAY_MS, anomalies: 'default', anomalyRate: 1, warmupMs: 0 });
    for (const e of eventsOf(batches)) {
      const r = validateEvent(e);
      if (!r.ok) throw new Error(`${r.detail} in ${JSON.stringify(e)}`);
    }
  });

  it('emits non-empty batches of one kind, one channel and one instant, in event-time order', () => {
    const problems: string[] = [];
    let last = 0;
    for (const b of long.batches) {
      const first = b[0];
      if (!first) problems.push('empty batch');
      else {
        for (const e of b) {
          if (e.kind !== first.kind || e.channel_id !== first.channel_id || e.event_time !== first.event_time)
            problems.push(`mixed batch ${first.id}`);
          if (e.observed_at !== e.event_time || e.source !== 'simulator') problems.push(`bad envelope ${e.id}`);
        }
        if (first.kind === 'post_counters' && b.length > 100) problems.push(`oversized batch ${first.id}`);
        if (first.event_time < last) problems.push(`out of order ${first.id}`);
        last = first.event_time;
      }
    }
    expect(problems.slice(0, 5)).toEqual([]);
    expect(last).toBeLessThan(START + 10 * DAY_MS);
  });

  it('splits large polls into batches of at most maxBatchSize', () => {
    const { batches } = run({ maxBatchSize: 7 });
    const counters = batches.filter((b) => b[0].kind === 'post_counters');
    expect(Math.max(...counters.map((b) => b.length))).toBe(7);
  });

  it('gives every event a unique id', () => {
    const ids = new Set(longEvents.map((e) => e.id));
    expect(ids.size).toBe(longEvents.length);
  });

  it('emits every raw kind the collectors produce', () => {
    const kinds = new Set(longEvents.map((e) => e.kind));
    expect([...kinds].sort()).toEqual(['channel_members', 'channel_stats', 'post', 'post_counters', 'post_deleted']);
  });
});

describe('Post counters', () => {
  const posts = new Map(ofKind(longEvents, 'post').map((e) => [`${e.channel_id}/${e.data.post_id}`, e]));
  const counters = countersByPost(longEvents);

  it('announces each post at publication with zero counters before any snapshot', () => {
    const problems: string[] = [];
    for (const [key, snaps] of counters) {
      const post = posts.get(key);
      if (!post) {
        problems.push(`counters without post ${key}`);
        continue;
      }
      const c = post.data.counters;
      if (post.event_time !== post.data.date || c.views + c.forwards + c.replies + c.reactions_total !== 0)
        problems.push(`post ${key}`);
      const firstAfter = snaps[0].event_time - post.data.date;
      if (firstAfter <= 0 || firstAfter > 5 * MINUTE_MS) problems.push(`first poll of ${key} after ${firstAfter} ms`);
      if (snaps.some((s) => s.data.post_date !== post.data.date)) problems.push(`post_date of ${key}`);
    }
    expect(problems.slice(0, 5)).toEqual([]);
    expect(counters.size).toBeGreaterThan(500);
  });

  it('keeps views and forwards cumulative and monotone; reactions drop only a little', () => {
    const problems: string[] = [];
    let drops = 0;
    let snapshots = 0;
    for (const snaps of counters.values()) {
      for (let i = 1; i < snaps.length; i++) {
        const [a, b] = [snaps[i - 1].data, snaps[i].data];
        if (b.views < a.views || b.forwards < a.forwards || b.replies < a.replies)
          problems.push(`regressed ${snaps[i].id}`);
        if (b.reactions_total < a.reactions_total - 1) problems.push(`reactions fell by more than 1 at ${snaps[i].id}`);
        if (b.reactions_total < a.reactions_total) drops++;
        snapshots++;
      }
      for (const s of snaps) {
        if (s.data.reactions_total !== Object.values(s.data.reactions).reduce((x, y) => x + y, 0))
          problems.push(`total ≠ sum at ${s.id}`);
      }
    }
    expect(problems.slice(0, 5)).toEqual([]);
    expect(drops).toBeGreaterThan(0);
    expect(drops / snapshots).toBeLessThan(0.02);
  });

  it('polls fresh posts every 5 minutes, then every 30 minutes, then every 3 hours, and stops after a week', () => {
    const problems: string[] = [];
    for (const snaps of counters.values()) {
      const date = snaps[0].data.post_date ?? 0;
      for (let i = 1; i < snaps.length; i++) {
        const prevAge = snaps[i - 1].event_time - date;
        const gap = snaps[i].event_time - snaps[i - 1].event_time;
        const expected = prevAge < 6 * HOUR_MS ? 5 * MINUTE_MS : prevAge < 2 * DAY_MS ? 30 * MINUTE_MS : 3 * HOUR_MS;
        if (gap !== expected) problems.push(`gap ${gap} at age ${prevAge} for ${snaps[i].id}`);
      }
      if (snaps[snaps.length - 1].event_time - date >= 7 * DAY_MS)
        problems.push(`polled after a week: ${snaps[0].data.post_id}`);
    }
    expect(problems.slice(0, 5)).toEqual([]);
  });

  it('saturates views within a couple of days', () => {
    const ratios24h: number[] = [];
    const ratios1h: number[] = [];
    for (const snaps of counters.values()) {
      const date = snaps[0].data.post_date ?? 0;
      const last = snaps[snaps.length - 1];
      if (last.event_time - date < 6.5 * DAY_MS || last.data.views < 200) continue;
      const at = (age: number) => snaps.filter((s) => s.event_time - date <= age).pop()!.data.views;
      ratios1h.push(at(HOUR_MS) / last.data.views);
      ratios24h.push(at(DAY_MS) / last.data.views);
      expect(at(2 * DAY_MS) / last.data.views).toBeGreaterThan(0.8);
    }
    expect(ratios24h.length).toBeGreaterThan(50);
    expect(median(ratios1h)).toBeGreaterThan(0.04);
    expect(median(ratios1h)).toBeLessThan(0.4);
    expect(median(ratios24h)).toBeGreaterThan(0.8);
  });

  it('stops polling a post once its deletion is observed', () => {
    const deleted = ofKind(longEvents, 'post_deleted');
    expect(deleted.length).toBeGreaterThan(0);
    for (const d of deleted) {
      for (const postId of d.data.post_ids) {
        const snaps = counters.get(`${d.channel_id}/${postId}`) ?? [];
        expect(snaps.every((s) => s.event_time < d.event_time)).toBe(true);
      }
    }
  });

  it('keeps interactions proportional to views', () => {
    const finals = [...counters.values()].map((s) => s[s.length - 1].data).filter((d) => d.views > 5000);
    for (const d of finals) {
      expect(d.forwards / d.views).toBeLessThan(0.1);
      expect(d.reactions_total / d.views).toBeLessThan(0.15);
      expect(d.reactions_total).toBeGreaterThan(0);
      expect(Object.keys(d.reactions).length).toBeLessThanOrEqual(6);
    }
  });
});

describe('Channel model', () => {
  it('spreads audiences over three orders of magnitude', () => {
    const sim = new Simulator({ seed: 3, channels: 600, start: START, durationMs: HOUR_MS });
    const members = sim.profiles.map((p) => p.initialMembers);
    const decades = [0, 0, 0];
    for (const m of members) decades[Math.min(2, Math.floor(Math.log10(m)) - 3)]++;
    expect(Math.min(...members)).toBeGreaterThanOrEqual(1000);
    expect(Math.max(...members)).toBeLessThanOrEqual(1_000_000);
    for (const d of decades) expect(d / members.length).toBeGreaterThan(0.25);
    const ppd = sim.profiles.map((p) => p.postsPerDay);
    expect(Math.min(...ppd)).toBeLessThan(1.5);
    expect(Math.max(...ppd)).toBeGreaterThan(25);
  });

  it('posts by a diurnal schedule in local time', () => {
    const byLocalHour = new Array<number>(24).fill(0);
    const profiles = new Map(long.sim.profiles.map((p) => [p.channelId, p]));
    for (const e of ofKind(longEvents, 'post')) byLocalHour[localHour(profiles.get(e.channel_id)!, e.data.date)]++;
    const night = byLocalHour[2] + byLocalHour[3] + byLocalHour[4] + byLocalHour[5];
    const evening = byLocalHour[17] + byLocalHour[18] + byLocalHour[19] + byLocalHour[20];
    expect(evening).toBeGreaterThan(200);
    expect(night / evening).toBeLessThan(0.2);
  });

  it('publishes about the profile number of posts per day', () => {
    const posts = ofKind(longEvents, 'post');
    for (const p of long.sim.profiles) {
      const n = posts.filter((e) => e.channel_id === p.channelId).length;
      const expected = p.postsPerDay * 10;
      expect(Math.abs(n - expected)).toBeLessThan(4 * Math.sqrt(expected) + 3);
    }
  });

  it('snapshots members every 15 minutes, drifting by growth and churn', () => {
    for (const p of long.sim.profiles) {
      const snaps = ofKind(longEvents, 'channel_members').filter((e) => e.channel_id === p.channelId);
      expect(snaps.length).toBe(10 * 96);
      for (let i = 1; i < snaps.length; i++) expect(snaps[i].event_time - snaps[i - 1].event_time).toBe(15 * MINUTE_MS);
      const changes = snaps.slice(1).map((s, i) => s.data.members - snaps[i].data.members);
      expect(changes.some((c) => c !== 0)).toBe(true);
      const net = snaps[snaps.length - 1].data.members / p.initialMembers - 1;
      expect(Math.abs(net - p.growthPerDay * 10)).toBeLessThan(0.02 + 0.02 * Math.sqrt(1000 / p.initialMembers));
    }
  });

  it('reports daily statistics that agree with the snapshots', () => {
    const stats = ofKind(longEvents, 'channel_stats');
    const p = long.sim.profiles[0];
    const mine = stats.filter((e) => e.channel_id === p.channelId);
    expect(mine.length).toBe(9 * 5);
    const point = (day: number, metric: string, series: string): ChannelStatsEvent =>
      mine.find((e) => e.data.t === START + day * DAY_MS && e.data.metric === metric && e.data.series === series)!;

    // Views in a day = sum of view increments observed by the polls of that day.
    const counters = countersByPost(longEvents.filter((e) => e.channel_id === p.channelId));
    const viewsByDay = new Array<number>(10).fill(0);
    for (const snaps of counters.values()) {
      let prev = 0;
      for (const s of snaps) {
        viewsByDay[Math.floor((s.event_time - START) / DAY_MS)] += s.data.views - prev;
        prev = s.data.views;
      }
    }
    const members = ofKind(longEvents, 'channel_members').filter((e) => e.channel_id === p.channelId);
    for (let day = 0; day < 9; day++) {
      expect(point(day, 'interactions', 'views').data.value).toBe(viewsByDay[day]);
      const lastOfDay: ChannelMembersEvent = members.filter((m) => m.event_time < START + (day + 1) * DAY_MS).pop()!;
      expect(point(day, 'growth', 'total_followers').data.value).toBe(lastOfDay.data.members);
      expect(point(day, 'growth', 'total_followers').event_time).toBeGreaterThan(START + (day + 1) * DAY_MS);
    }
  });
});

describe('Simulator options', () => {
  it('rejects a bad option with a message naming it', () => {
    expect(() => new Simulator({ seed: 1, channels: 0, start: START })).toThrow(SimulatorConfigError);
    expect(() => new Simulator({ seed: 1, channels: 0, start: START })).toThrow(/channels/);
    expect(
      () =>
        new Simulator({
          seed: 1,
          channels: 1,
          start: START,
          pollEveryMs: [
            { maxAgeMs: 10, everyMs: 60_000 },
            { maxAgeMs: 5, everyMs: 60_000 },
          ],
        }),
    ).toThrow(/pollEveryMs\[1\]\.maxAgeMs/);
  });

  it('runs open-ended when no duration is given', () => {
    const sim = new Simulator({ seed: 1, channels: 2, start: START });
    const ticks = sim.ticks();
    for (let i = 0; i < 500; i++) ticks.next();
    expect(sim.now).toBe(START + 500 * 5 * MINUTE_MS);
    expect(sim.done).toBe(false);
  });

  it('honours custom polling bands and members interval', () => {
    const { batches } = run({
      channels: 3,
      durationMs: DAY_MS,
      pollEveryMs: [{ maxAgeMs: 2 * HOUR_MS, everyMs: 10 * MINUTE_MS }],
      membersEveryMs: HOUR_MS,
    });
    const events = eventsOf(batches);
    expect(ofKind(events, 'channel_members').length).toBe(3 * 24);
    for (const snaps of countersByPost(events).values()) {
      expect(snaps.length).toBeLessThanOrEqual(12);
      for (let i = 1; i < snaps.length; i++) expect(snaps[i].event_time - snaps[i - 1].event_time).toBe(10 * MINUTE_MS);
    }
  });

  it('stamps the configured source', () => {
    const { batches } = run({ channels: 1, durationMs: HOUR_MS, source: 'replay' });
    expect(eventsOf(batches).every((e) => e.source === 'replay')).toBe(true);
  });
});
