/**
 * A manual clock for pacing tests: sleeping moves it forward instead of
 * waiting, and every sleep is recorded, so tests assert on what would have
 * been waited rather than on timings.
 */
import type { Sleep } from '../../ingest/pacing.ts';

export function fakeTime(startAt: number): { clock: () => number; sleep: Sleep; sleeps: number[] } {
  let now = startAt;
  const sleeps: number[] = [];
  return {
    clock: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
    sleeps,
  };
}
