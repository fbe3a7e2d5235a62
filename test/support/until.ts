/** Polling for what a role does on its own schedule. */
import { sleep } from '../../common/retry.ts';

/**
 * Polls `probe` until it gives a value other than null, undefined, false or 0,
 * and returns that value; fails naming `what` after `ms`.
 *
 * ```ts
 * const holders = await until('every partition owned', () => leaseHolders(kv), 10_000);
 * ```
 */
export async function until<T>(
  what: string,
  probe: () => T | Promise<T>,
  ms = 30_000,
  everyMs = 25,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${ms} ms`);
    await sleep(everyMs);
  }
}
