/**
 * Forgetting a channel in a partition (`tgpulse channels forget`): its state
 * goes, its later events only move the partition's clock, and the other
 * channels' outputs do not depend on when in the stream the forget took
 * effect, which is what keeps a replay across the forget reproducible.
 */
import { describe, expect, it } from 'vitest';
import type { DerivedEvent, RawEvent } from '../../streams/contract/index.ts';
import { defaultProcessorConfig } from './config.ts';
import {
  advanceClock,
  createPartitionState,
  forgetChannel,
  processEvent,
  restoreState,
  serializeState,
  type PartitionState,
} from './partition.ts';
import { makeStream } from './stream.fixture.ts';

const cfg = defaultProcessorConfig;
const FORGOTTEN = '-1002';
const T0 = Date.UTC(2024, 0, 1);
/**
 * The other channels with late deliveries, and the forgotten one polled 7
 * minutes after them: its events alone move the clock at times, and make some
 * of the others' delayed events late.
 */
const stream = merge(
  makeStream({
    seed: 7,
    hours: 72,
    start: T0,
    channels: ['-1001', '-1003'],
    jitter: 0.3,
    surgeChannel: '-1001',
    surgeFromHour: 30,
  }),
  makeStream({ seed: 8, hours: 72, start: T0 + 7 * 60_000, channels: [FORGOTTEN], jitter: 0 }),
);

/** Two delivery-ordered streams as one, by observation time. */
function merge(a: RawEvent[], b: RawEvent[]): RawEvent[] {
  const out: RawEvent[] = [];
  let j = 0;
  for (const e of a) {
    while (j < b.length && b[j].observed_at <= e.observed_at) out.push(b[j++]);
    out.push(e);
  }
  return [...out, ...b.slice(j)];
}

/**
 * Runs the stream, forgetting FORGOTTEN at event index `at` (its state is
 * removed then, and its later events only advance the clock); returns the
 * other channels' outputs and the final state.
 */
function runForgettingAt(at: number): { others: DerivedEvent[]; state: PartitionState } {
  const state = createPartitionState();
  const others: DerivedEvent[] = [];
  stream.forEach((event: RawEvent, i) => {
    if (i === at) forgetChannel(state, FORGOTTEN);
    const forgotten = i >= at && event.channel_id === FORGOTTEN;
    const out = forgotten ? advanceClock(state, event, cfg) : processEvent(state, event, cfg);
    for (const d of out.derived) if (d.channel_id !== FORGOTTEN) others.push(d);
  });
  return { others, state };
}

describe('forgetting a channel in a partition', () => {
  it('gives the other channels the same outputs wherever in the stream the forget takes effect', () => {
    const never = runForgettingAt(stream.length);
    expect(never.others.length).toBeGreaterThan(100);
    for (const at of [0, Math.floor(stream.length / 3), Math.floor((2 * stream.length) / 3)]) {
      const forgotten = runForgettingAt(at);
      expect(forgotten.others.map((d) => d.id)).toEqual(never.others.map((d) => d.id));
      expect(forgotten.others).toEqual(never.others);
    }
  });

  it('keeps nothing of the channel, in the state or in its checkpoint text', () => {
    const { state } = runForgettingAt(Math.floor(stream.length / 2));
    expect(Object.keys(state.channels).sort()).toEqual(['-1001', '-1003']);
    expect(Object.keys(state.windows.channels)).not.toContain(FORGOTTEN);
    expect(serializeState(state)).not.toContain(FORGOTTEN);
    expect(restoreState(serializeState(state))).toEqual(state);
  });

  it('says whether there was anything to remove', () => {
    const state = createPartitionState();
    for (const e of stream.slice(0, 200)) processEvent(state, e, cfg);
    expect(forgetChannel(state, FORGOTTEN)).toBe(true);
    expect(forgetChannel(state, FORGOTTEN)).toBe(false);
    expect(forgetChannel(state, 'never-seen')).toBe(false);
  });

  it('moves the clock of an event it does not keep, and reports the channels whose windows it closed', () => {
    const state = createPartitionState();
    for (const e of stream.slice(0, 500)) processEvent(state, e, cfg);
    forgetChannel(state, FORGOTTEN);
    const before = state.windows.maxEventTime ?? 0;
    const later = stream.find((e) => e.channel_id === FORGOTTEN && e.event_time > before + 3 * 3600_000);
    if (!later) throw new Error('the fixture has a later event of the channel');
    const out = advanceClock(state, later, cfg);
    expect(state.windows.maxEventTime).toBe(later.event_time);
    expect(state.channels[FORGOTTEN]).toBeUndefined();
    expect(out.derived.length).toBeGreaterThan(0);
    expect(out.derived.every((d) => d.channel_id !== FORGOTTEN)).toBe(true);
    expect(out.changed === 'all' || out.changed.every((c) => c !== FORGOTTEN)).toBe(true);
  });
});
