/**
 * The one manual clock of the tests: time moves only when a test advances it
 * or when code sleeps on it, and every sleep is recorded, so tests assert on
 * what would have been waited rather than on timings.
 */
export class FakeClock {
  /** Every sleep asked for, in ms, in order. */
  readonly sleeps: number[] = [];
  #now: number;

  /** `onMove` hears each new time, e.g. to move a fake server's clock along. */
  constructor(
    start: number,
    private readonly onMove?: (now: number) => void,
  ) {
    this.#now = start;
  }

  get now(): number {
    return this.#now;
  }

  /** The clock as the code under test takes it. */
  readonly clock = (): number => this.#now;

  advance(ms: number): void {
    this.#now += ms;
    this.onMove?.(this.#now);
  }

  /**
   * A wait: the clock moves to the sleeper's wake-up time, not by `ms` on top
   * of other sleepers' waits, once work already queued has run.
   */
  readonly sleep = async (ms: number): Promise<void> => {
    this.sleeps.push(ms);
    const target = this.#now + ms;
    await Promise.resolve();
    if (target > this.#now) this.advance(target - this.#now);
  };
}
