/**
 * The replay loop on its own: what it publishes, in which order and when,
 * against a publisher that notes each call and a fake clock whose sleeps move
 * time forward instead of waiting. The way through real NATS into a real
 * pipeline is in replay.e2e.test.ts.
 */
import { FakeClock } from '../../test/support/fake-time.ts';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RawEvent } from '../../streams/contract/events.ts';
import { partitionOf } from '../../streams/contract/ids.ts';
import { groupBySubject } from '../../streams/publisher.ts';
import { silentLogger } from '../../observability/log.ts';
import { tempDir } from '../../test/support/nats.ts';

import { Simulator } from '../simulator/simulator.ts';
import type { Sleep } from '../pacing.ts';
import { encodeLine } from './jsonl.ts';
import { MAX_REPORTED_INVALID, replay, type ReplayOptions } from './replay.ts';
import { HOUR_MS } from '../../common/time.ts';

const P = 8;
const START = Date.UTC(2026, 0, 5);
const dir = tempDir('replay');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Raw events of a small simulation in generation order: kinds of one partition interleave freely. */
function simulatedEvents(hours = 3): RawEvent[] {
  const sim = new Simulator({ seed: 3, channels: 6, start: START, durationMs: hours * HOUR_MS, source: 'mtproto' });
  return [...sim.batches()].flat() as RawEvent[];
}

let files = 0;
function capture(lines: string[]): string {
  const path = join(dir, `capture-${++files}.jsonl`);
  writeFileSync(path, lines.join(''));
  return path;
}

interface PublishCall {
  at: number;
  events: RawEvent[];
}

/** A publisher that notes every call; `flushes` counts flush calls and where they fell. */
function notingPublisher(clock: () => number = Date.now) {
  const calls: PublishCall[] = [];
  const flushedAfter: number[] = [];
  return {
    calls,
    flushedAfter,
    publisher: {
      publish: async (events: readonly RawEvent[]) => void calls.push({ at: clock(), events: [...events] }),
      flush: async () => void flushedAfter.push(calls.length),
    } satisfies ReplayOptions['publisher'],
    events: () => calls.flatMap((c) => c.events),
  };
}

/** Per partition, the order in which a stream would hold the published events (the publisher groups each call by kind and partition). */
function streamOrderByPartition(calls: PublishCall[]): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const call of calls) {
    for (const group of groupBySubject(call.events, P).values()) {
      for (const e of group) {
        const p = partitionOf(e.channel_id, P);
        if (!out.has(p)) out.set(p, []);
        out.get(p)!.push(e.id);
      }
    }
  }
  return out;
}

describe('replay', () => {
  it('publishes every event of the capture once, in order, as source replay with its id unchanged, then flushes', async () => {
    const events = simulatedEvents();
    const pub = notingPublisher();
    const stats = await replay({
      file: capture(events.map(encodeLine)),
      publisher: pub.publisher,
      partitions: P,
      speed: Infinity,
      log: silentLogger,
    });
    expect(pub.events()).toEqual(events.map((e) => ({ ...e, source: 'replay' })));
    expect(pub.flushedAfter).toEqual([pub.calls.length]);
    expect(stats).toMatchObject({
      events: events.length,
      batches: pub.calls.length,
      invalidLines: 0,
      invalid: [],
      aborted: false,
      lastLine: events.length,
    });
    expect(stats.eventTimeFrom).toBe(Math.min(...events.map((e) => e.event_time)));
    // Batched: far fewer publishes than events.
    expect(stats.batches).toBeLessThan(events.length / 10);
  });

  it('never lets the publisher reorder the events of a partition', async () => {
    const events = simulatedEvents();
    const pub = notingPublisher();
    await replay({
      file: capture(events.map(encodeLine)),
      publisher: pub.publisher,
      partitions: P,
      speed: Infinity,
      log: silentLogger,
    });
    const expected = new Map<number, string[]>();
    for (const e of events) {
      const p = partitionOf(e.channel_id, P);
      if (!expected.has(p)) expected.set(p, []);
      expected.get(p)!.push(e.id);
    }
    expect(streamOrderByPartition(pub.calls)).toEqual(expected);
  });

  it('keeps publishes within the batch size', async () => {
    const events = simulatedEvents(1);
    const pub = notingPublisher();
    await replay({
      file: capture(events.map(encodeLine)),
      publisher: pub.publisher,
      partitions: 1,
      speed: Infinity,
      maxBatchEvents: 7,
      log: silentLogger,
    });
    expect(Math.max(...pub.calls.map((c) => c.events.length))).toBe(7);
    expect(pub.events().length).toBe(events.length);
  });

  it('paces by event time at the requested speed: never early, and in the expected total time', async () => {
    const events = simulatedEvents(2);
    const time = new FakeClock(5_000_000);
    const realStart = time.clock();
    const pub = notingPublisher(time.clock);
    const first = events[0].event_time;
    const stats = await replay({
      file: capture(events.map(encodeLine)),
      publisher: pub.publisher,
      partitions: P,
      speed: 60,
      clock: time.clock,
      sleep: time.sleep,
      log: silentLogger,
    });
    const dueAt = (e: RawEvent) => realStart + (e.event_time - first) / 60;
    for (const call of pub.calls) for (const e of call.events) expect(call.at).toBeGreaterThanOrEqual(dueAt(e));
    // Each publish holds what was due when it went out: its first event is due right then.
    for (const call of pub.calls) expect(call.at - dueAt(call.events[0])).toBeLessThan(1);
    const last = Math.max(...events.map((e) => e.event_time));
    expect(stats.elapsedMs).toBeCloseTo((last - first) / 60, 6);
    expect(stats.events).toBe(events.length);
  });

  it('does not sleep at max speed', async () => {
    const time = new FakeClock(5_000_000);
    const pub = notingPublisher(time.clock);
    await replay({
      file: capture(simulatedEvents(1).map(encodeLine)),
      publisher: pub.publisher,
      partitions: P,
      speed: Infinity,
      clock: time.clock,
      sleep: time.sleep,
      log: silentLogger,
    });
    expect(time.sleeps).toEqual([]);
  });

  it('skips invalid lines, reporting the first ones by number and counting them all', async () => {
    const events = simulatedEvents(1).slice(0, 50);
    const lines = events.map(encodeLine);
    const garbage = Array.from({ length: MAX_REPORTED_INVALID + 20 }, () => 'not json\n');
    const path = capture([...lines.slice(0, 10), ...garbage, ...lines.slice(10)]);
    const pub = notingPublisher();
    const stats = await replay({
      file: path,
      publisher: pub.publisher,
      partitions: P,
      speed: Infinity,
      log: silentLogger,
    });
    expect(pub.events().map((e) => e.id)).toEqual(events.map((e) => e.id));
    expect(stats.invalidLines).toBe(garbage.length);
    expect(stats.invalid).toHaveLength(MAX_REPORTED_INVALID);
    expect(stats.invalid[0]).toEqual({ line: 11, error: expect.stringMatching(/malformed JSON/) });
    expect(stats.invalid.at(-1)!.line).toBe(10 + MAX_REPORTED_INVALID);
  });

  it('stops when the signal aborts while waiting, publishing and flushing what was due', async () => {
    const events = simulatedEvents(2);
    const ac = new AbortController();
    let now = 0;
    // Real time runs at the simulated hour pace; the wait that would pass the first hour aborts instead.
    const sleep: Sleep = async (ms) => {
      if (now + ms > HOUR_MS) return ac.abort();
      now += ms;
    };
    const pub = notingPublisher(() => now);
    const stats = await replay({
      file: capture(events.map(encodeLine)),
      publisher: pub.publisher,
      partitions: P,
      speed: 1,
      clock: () => now,
      sleep,
      signal: ac.signal,
      log: silentLogger,
    });
    expect(stats.aborted).toBe(true);
    const published = pub.events();
    expect(published.length).toBe(stats.events);
    expect(published.length).toBeGreaterThan(0);
    expect(published.length).toBeLessThan(events.length);
    expect(Math.max(...published.map((e) => e.event_time)) - events[0].event_time).toBeLessThanOrEqual(HOUR_MS);
    expect(published.map((e) => e.id)).toEqual(events.slice(0, published.length).map((e) => e.id));
    expect(stats.lastLine).toBe(published.length);
    expect(pub.flushedAfter).toEqual([pub.calls.length]);
  });

  it('rejects a speed that is not positive', async () => {
    const pub = notingPublisher();
    await expect(
      replay({ file: capture([]), publisher: pub.publisher, partitions: P, speed: 0, log: silentLogger }),
    ).rejects.toThrow(/speed/);
  });
});
