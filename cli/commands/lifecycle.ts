/**
 * Shutdown flows through one AbortSignal: SIGTERM or SIGINT aborts it, every
 * role drains, checkpoints and returns, then resources close. A second signal
 * exits at once.
 */
import { setMaxListeners } from 'node:events';
import type { Context } from '../context.ts';

export interface Lifecycle {
  signal: AbortSignal;
  stop(reason: string): void;
  dispose(): void;
}

export function lifecycle(ctx: Context): Lifecycle {
  const controller = new AbortController();
  // Every role loop listens on this one signal.
  setMaxListeners(100, controller.signal);
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      ctx.log.warn({ signal: sig }, 'second signal: exiting without draining');
      process.exit(130);
    }
    ctx.log.info({ signal: sig }, 'stopping: draining and checkpointing');
    controller.abort(new Error(`received ${sig}`));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return {
    signal: controller.signal,
    stop(reason: string) {
      if (!controller.signal.aborted) {
        ctx.log.info({ reason }, 'stopping');
        controller.abort(new Error(reason));
      }
    },
    dispose() {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    },
  };
}

/** Parses `--flag value` lists like `0,1,2` into integers. */
export function parseIntList(value: string | undefined, name: string, max: number): number[] | undefined {
  if (value === undefined) return undefined;
  const items = value.split(',').map((s) => Number(s.trim()));
  if (!items.length || items.some((n) => !Number.isInteger(n) || n < 0 || n >= max)) {
    throw new Error(
      `--${name} expects a comma-separated list of integers from 0 to ${max - 1}, got ${JSON.stringify(value)}`,
    );
  }
  return items;
}
