import { fakeTime } from '../../test/support/fake-time.ts';
import { describe, expect, it } from 'vitest';

import { runSimulator, SimulatorPublishError } from './run.ts';
import { Simulator, type SimBatch } from './simulator.ts';
import { HOUR_MS, MINUTE_MS } from '../../common/time.ts';

const START = Date.UTC(2024, 0, 1);

/** A simulator of four channels; `open` runs without an end. */
function newSim(durationMs: number | 'open' = 2 * HOUR_MS): Simulator {
  return new Simulator({
    seed: 5,
    channels: 4,
    start: START,
    durationMs: durationMs === 'open' ? undefined : durationMs,
  });
}

describe('runSimulator', () => {
  it('paces simulated time at the requested speed on the given clock', async () => {
    const time = fakeTime(1_000_000);
    const realStart = time.clock();
    const published: Array<{ at: number; eventTime: number }> = [];
    const stats = await runSimulator({
      sim: newSim(),
      speed: 60,
      clock: time.clock,
      sleep: time.sleep,
      publish: async (batch) => {
        published.push({ at: time.clock(), eventTime: batch[0].event_time });
      },
    });
    // Two simulated hours at 60× take two real minutes.
    expect(stats.elapsedMs).toBe((2 * HOUR_MS) / 60);
    expect(stats.simulatedUntil).toBe(START + 2 * HOUR_MS);
    expect(stats.aborted).toBe(false);
    for (const p of published) expect(p.at).toBeGreaterThanOrEqual(realStart + (p.eventTime - START) / 60 - 1e-6);
    // Never early, and never late by more than one batch's rounding.
    for (const p of published) expect(p.at - (realStart + (p.eventTime - START) / 60)).toBeLessThan(1);
  });

  it('publishes exactly the batches the simulator generates', async () => {
    const expected = [...newSim().batches()];
    const got: SimBatch[] = [];
    const stats = await runSimulator({ sim: newSim(), speed: Infinity, publish: async (b) => void got.push(b) });
    expect(got).toEqual(expected);
    expect(stats.batches).toBe(expected.length);
    expect(stats.events).toBe(expected.flat().length);
  });

  it('runs without sleeping at infinite speed', async () => {
    const time = fakeTime(1_000_000);
    await runSimulator({
      sim: newSim(),
      speed: Infinity,
      clock: time.clock,
      sleep: time.sleep,
      publish: async () => {},
    });
    expect(time.sleeps).toEqual([]);
  });

  it('waits for each publish before the next (backpressure)', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    await runSimulator({
      sim: newSim(HOUR_MS),
      speed: Infinity,
      publish: async () => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setImmediate(r));
        inFlight--;
      },
    });
    expect(maxInFlight).toBe(1);
  });

  it('stops when the signal aborts, reporting how far it got', async () => {
    const ac = new AbortController();
    let seen = 0;
    const stats = await runSimulator({
      sim: newSim('open'),
      speed: Infinity,
      signal: ac.signal,
      publish: async () => {
        if (++seen === 10) ac.abort();
      },
    });
    expect(stats).toMatchObject({ batches: 10, aborted: true });
    expect(stats.simulatedUntil).toBeGreaterThanOrEqual(START);
  });

  it('notices an abort from a timer even when publishing never waits', async () => {
    const stats = await runSimulator({
      sim: newSim('open'),
      speed: Infinity,
      signal: AbortSignal.timeout(50),
      publish: () => Promise.resolve(),
    });
    expect(stats.aborted).toBe(true);
    expect(stats.batches).toBeGreaterThan(0);
  });

  it('stops sleeping on the real clock as soon as the signal aborts', async () => {
    const began = Date.now();
    const stats = await runSimulator({
      sim: newSim('open'),
      speed: 1,
      signal: AbortSignal.timeout(50),
      publish: async () => {},
    });
    expect(stats.aborted).toBe(true);
    expect(Date.now() - began).toBeLessThan(2000);
    expect(stats.simulatedUntil - START).toBeLessThan(5 * MINUTE_MS);
  });

  it('wraps a publish failure with the batch it concerned', async () => {
    const cause = new Error('nats down');
    const run = runSimulator({ sim: newSim(), speed: Infinity, publish: () => Promise.reject(cause) });
    await expect(run).rejects.toBeInstanceOf(SimulatorPublishError);
    await expect(run).rejects.toMatchObject({
      cause,
      message: expect.stringMatching(/batch of channel \d+ at 2024-01-01T/),
    });
  });

  it('rejects a speed that is not positive', async () => {
    await expect(runSimulator({ sim: newSim(), speed: 0, publish: async () => {} })).rejects.toThrow(/speed/);
  });
});
