import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ChannelMembersEvent, PostCountersEvent, PostEvent, RawEvent } from '../../streams/contract/events.ts';
import { ANOMALY_KINDS, ANOMALY_METRIC, AnomalyPlanError, detectionHorizonMs, type AnomalyPlan } from './anomalies.ts';

import { Simulator, type SimBatch, type SimulatorOptions } from './simulator.ts';
import { median } from 'simple-statistics';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../common/time.ts';

const START = Date.UTC(2024, 0, 1);
const SEED = 11;

function simulate(opts: Partial<SimulatorOptions>): { sim: Simulator; events: RawEvent[]; batches: SimBatch[] } {
  const sim = new Simulator({ seed: SEED, channels: 8, start: START, durationMs: 10 * DAY_MS, ...opts });
  const batches = [...sim.batches()];
  return { sim, batches, events: batches.flat() };
}

function channelEvents<K extends RawEvent['kind']>(
  events: readonly RawEvent[],
  channelId: string,
  kind: K,
): Array<Extract<RawEvent, { kind: K }>> {
  return events.filter((e): e is Extract<RawEvent, { kind: K }> => e.kind === kind && e.channel_id === channelId);
}

function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const m = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = m.get(k);
    if (list) list.push(item);
    else m.set(k, [item]);
  }
  return m;
}

/** Views a post had at its last snapshot no older than `age`. */
function viewsAtAge(snaps: readonly PostCountersEvent[], age: number): number {
  let v = 0;
  for (const s of snaps) if (s.event_time - (s.data.post_date ?? 0) <= age) v = s.data.views;
  return v;
}

/** Sum of view increments observed by polls in [from, to). */
function viewsGained(counters: readonly PostCountersEvent[], from: number, to: number): number {
  const last = new Map<number, number>();
  let sum = 0;
  for (const c of counters) {
    const prev = last.get(c.data.post_id) ?? 0;
    if (c.event_time >= from && c.event_time < to) sum += c.data.views - prev;
    last.set(c.data.post_id, c.data.views);
  }
  return sum;
}

/** Net members change between the last snapshot before `from` and the last one before `to`. */
function membersChange(snaps: readonly ChannelMembersEvent[], from: number, to: number): number {
  const before = snaps.filter((s) => s.event_time < from).pop()!;
  const after = snaps.filter((s) => s.event_time < to).pop()!;
  return after.data.members - before.data.members;
}

// The channels of seed 11 with at least 5 posts a day: visible view spikes and silences.
const profiles = new Simulator({ seed: SEED, channels: 8, start: START, durationMs: HOUR_MS }).profiles;
const busy = profiles.findIndex((p) => p.postsPerDay >= 5);
const busyId = profiles[busy].channelId;

describe('default anomaly schedule', () => {
  const opts: Partial<SimulatorOptions> = {
    channels: 30,
    durationMs: 14 * DAY_MS,
    anomalies: 'default',
    anomalyRate: 0.3,
  };
  const withAnomalies = simulate(opts);
  const labels = withAnomalies.sim.labels();

  it('plants labelled anomalies of every kind, only after the warm-up and fully inside the run', () => {
    expect(labels.length).toBeGreaterThan(20);
    expect(new Set(labels.map((l) => l.kind))).toEqual(new Set(ANOMALY_KINDS));
    for (const l of labels) {
      expect(l.start).toBeGreaterThanOrEqual(START + 7 * DAY_MS);
      expect(l.start + detectionHorizonMs(l.kind, l.end - l.start)).toBeLessThanOrEqual(START + 14 * DAY_MS);
      expect(l.metric).toBe(ANOMALY_METRIC[l.kind]);
      expect(l.end).toBeGreaterThan(l.start);
    }
    expect(new Set(labels.map((l) => l.label_id)).size).toBe(labels.length);
  });

  it('keeps the anomalies of one channel apart', () => {
    const byChannel = groupBy(labels, (l) => l.channel_id);
    for (const list of byChannel.values()) {
      for (let i = 1; i < list.length; i++)
        expect(list[i].start - list[i - 1].end).toBeGreaterThanOrEqual(12 * HOUR_MS);
    }
  });

  it('names the viral post in its label', () => {
    const virals = labels.filter((l) => l.kind === 'viral_post');
    expect(virals.length).toBeGreaterThan(0);
    for (const l of virals) {
      const post = channelEvents(withAnomalies.events, l.channel_id, 'post').find(
        (p: PostEvent) => p.data.post_id === l.post_id,
      );
      expect(post?.data.date).toBe(l.start);
    }
  });

  it('injects nothing in a calm run, and nothing else into channels without anomalies', () => {
    const calm = simulate({ ...opts, anomalies: 'none' });
    expect(calm.sim.labels()).toEqual([]);
    const touched = new Set(labels.map((l) => l.channel_id));
    const untouched = (b: SimBatch) => !touched.has(b[0].channel_id);
    const digest = (bs: SimBatch[]) => createHash('sha256').update(JSON.stringify(bs)).digest('hex');
    expect(touched.size).toBeLessThan(30);
    expect(digest(calm.batches.filter(untouched))).toBe(digest(withAnomalies.batches.filter(untouched)));
  });

  it('plants nothing while the warm-up lasts', () => {
    const { sim } = simulate({ channels: 30, durationMs: 7 * DAY_MS, anomalies: 'default', anomalyRate: 2 });
    expect(sim.labels()).toEqual([]);
  });

  it('only reports anomalies that have begun', () => {
    const sim = new Simulator({
      seed: SEED,
      channels: 30,
      start: START,
      durationMs: 14 * DAY_MS,
      anomalies: 'default',
      anomalyRate: 0.3,
    });
    const midway = START + 10 * DAY_MS;
    sim.step(midway);
    expect(sim.labels()).toEqual(labels.filter((l) => l.start < midway));
  });

  it('writes labels as JSON lines', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tgpulse-labels-'));
    try {
      const path = join(dir, 'nested', 'labels.jsonl');
      expect(await withAnomalies.sim.writeLabels(path)).toBe(labels.length);
      const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
      expect(lines.map((l) => JSON.parse(l))).toEqual(labels);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('planted anomalies are visible in the data', () => {
  it('viral_post: the post gets many times the views of the channel median at 24 h', () => {
    const start = START + 8 * DAY_MS + 10 * HOUR_MS;
    const { sim, events } = simulate({ anomalies: [{ kind: 'viral_post', channel: 2, start, magnitude: 12 }] });
    const [label] = sim.labels();
    expect(label).toMatchObject({
      kind: 'viral_post',
      channel_id: profiles[2].channelId,
      start,
      end: start + 48 * HOUR_MS,
      metric: 'post_views',
      magnitude: 12,
    });
    const byPost = groupBy(channelEvents(events, label.channel_id, 'post_counters'), (c) => c.data.post_id);
    const viral = viewsAtAge(byPost.get(label.post_id!)!, DAY_MS);
    const others = [...byPost.entries()].filter(
      ([id, s]) => id !== label.post_id && s[s.length - 1].event_time - s[0].event_time > DAY_MS,
    );
    expect(others.length).toBeGreaterThan(5);
    expect(viral / median(others.map(([, s]) => viewsAtAge(s, DAY_MS)))).toBeGreaterThan(5);
  });

  it('view_spike: channel views over the window are the magnitude times what they would have been', () => {
    const start = START + 8 * DAY_MS + 12 * HOUR_MS;
    const duration = 4 * HOUR_MS;
    // Spikes draw no random numbers, so the calm run is the exact counterfactual.
    const spiked = simulate({
      anomalies: [{ kind: 'view_spike', channel: busy, start, durationMs: duration, magnitude: 5 }],
    });
    const calm = simulate({ anomalies: 'none' });
    const during = (events: RawEvent[]) =>
      viewsGained(
        channelEvents(events, busyId, 'post_counters'),
        start + 5 * MINUTE_MS,
        start + duration + 5 * MINUTE_MS,
      );
    const ratio = during(spiked.events) / during(calm.events);
    expect(ratio).toBeGreaterThan(4.5);
    expect(ratio).toBeLessThan(5.5);
    const viewsAfter = (events: RawEvent[]) =>
      viewsGained(
        channelEvents(events, busyId, 'post_counters'),
        start + duration + HOUR_MS,
        start + duration + 5 * HOUR_MS,
      );
    expect(viewsAfter(spiked.events)).toBeLessThan(1.5 * viewsAfter(calm.events));
  });

  it('subscriber_burst: joins within an hour far above usual hourly changes', () => {
    const start = START + 8 * DAY_MS + 14 * HOUR_MS;
    const { events } = simulate({
      anomalies: [{ kind: 'subscriber_burst', channel: 1, start, durationMs: HOUR_MS, magnitude: 0.02 }],
    });
    const snaps = channelEvents(events, profiles[1].channelId, 'channel_members');
    const members = snaps.filter((s) => s.event_time < start).pop()!.data.members;
    const burst = membersChange(snaps, start, start + HOUR_MS + 15 * MINUTE_MS);
    expect(burst).toBeGreaterThan(0.015 * members);
    const usual = [];
    for (let t = START + DAY_MS; t < start - HOUR_MS; t += HOUR_MS)
      usual.push(Math.abs(membersChange(snaps, t, t + HOUR_MS)));
    expect(burst).toBeGreaterThan(5 * Math.max(...usual));
  });

  it('mass_unsubscribe: leaves within an hour far above usual hourly changes', () => {
    const start = START + 8 * DAY_MS + 20 * HOUR_MS;
    const { events } = simulate({
      anomalies: [{ kind: 'mass_unsubscribe', channel: 3, start, durationMs: 2 * HOUR_MS, magnitude: 0.03 }],
    });
    const snaps = channelEvents(events, profiles[3].channelId, 'channel_members');
    const members = snaps.filter((s) => s.event_time < start).pop()!.data.members;
    const loss = -membersChange(snaps, start, start + 2 * HOUR_MS + 15 * MINUTE_MS);
    expect(loss).toBeGreaterThan(0.02 * members);
    const usual = [];
    for (let t = START + DAY_MS; t < start - HOUR_MS; t += HOUR_MS)
      usual.push(Math.abs(membersChange(snaps, t, t + HOUR_MS)));
    expect(loss).toBeGreaterThan(5 * Math.max(...usual));
  });

  it('channel_quiet: a regular poster publishes nothing for the window, then resumes', () => {
    const start = START + 8 * DAY_MS;
    const duration = 2.5 * DAY_MS;
    const { events, sim } = simulate({
      durationMs: 13 * DAY_MS,
      anomalies: [{ kind: 'channel_quiet', channel: busy, start, durationMs: duration }],
    });
    const dates = channelEvents(events, busyId, 'post').map((p) => p.data.date);
    expect(dates.filter((d) => d >= start && d < start + duration)).toEqual([]);
    expect(dates.filter((d) => d >= start - 2 * DAY_MS && d < start).length).toBeGreaterThan(4);
    expect(dates.filter((d) => d >= start + duration).length).toBeGreaterThan(4);
    expect(sim.labels()).toMatchObject([{ kind: 'channel_quiet', metric: 'posts', start, end: start + duration }]);
  });

  it('fills omitted sizes deterministically within the documented ranges', () => {
    const plans: AnomalyPlan[] = ANOMALY_KINDS.map((kind, i) => ({ kind, channel: i, start: START + DAY_MS }));
    const a = simulate({ durationMs: 3 * DAY_MS, anomalies: plans }).sim.labels();
    const b = simulate({ durationMs: 3 * DAY_MS, anomalies: plans }).sim.labels();
    expect(a).toEqual(b);
    const of = (k: string) => a.find((l) => l.kind === k)!;
    expect(of('viral_post').magnitude).toBeGreaterThanOrEqual(8);
    expect(of('viral_post').magnitude).toBeLessThanOrEqual(20);
    expect(of('view_spike').magnitude).toBeGreaterThanOrEqual(4);
    expect(of('view_spike').magnitude).toBeLessThanOrEqual(6);
    expect(of('channel_quiet').end - of('channel_quiet').start).toBeGreaterThanOrEqual(2 * DAY_MS);
    expect(of('subscriber_burst').end - of('subscriber_burst').start).toBeLessThanOrEqual(2 * HOUR_MS);
  });

  it('rejects a plan for a channel that does not exist, naming the entry', () => {
    const bad = () =>
      new Simulator({
        seed: 1,
        channels: 2,
        start: START,
        anomalies: [{ kind: 'view_spike', channel: 5, start: START }],
      });
    expect(bad).toThrow(AnomalyPlanError);
    expect(bad).toThrow(/anomalies\[0\]\.channel/);
    const afterEnd = () =>
      new Simulator({
        seed: 1,
        channels: 2,
        start: START,
        durationMs: DAY_MS,
        anomalies: [{ kind: 'viral_post', channel: 0, start: START + 2 * DAY_MS }],
      });
    expect(afterEnd).toThrow(/anomalies\[0\]\.start must be a time in ms within the run/);
  });
});
