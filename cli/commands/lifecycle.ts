/**
 * Shutdown flows through one AbortSignal: SIGTERM or SIGINT aborts it, every
 * role drains, checkpoints and returns, then resources close. A second signal
 * exits at once.
 *
 * The first signal (or a stop for another reason) also arms the stop
 * deadline (`TGPULSE_STOP_DEADLINE_S`): a process still stopping when it
 * passes says what it abandons, kills its child processes and exits 1. That
 * loses nothing: what a role has not acked is redelivered, to the next owner
 * of its partition or the next sink. The timer is unref'd, so it never keeps
 * a process alive that has finished.
 */
import { setMaxListeners } from 'node:events';
import type { Context } from '../context.ts';

export interface Lifecycle {
  signal: AbortSignal;
  stop(reason: string): void;
  /** Call once everything is closed (after `ctx.close()`): from then on, signals are Node's again. */
  dispose(): void;
}

/** The exit code of a process the stop deadline ended. */
export const STOP_DEADLINE_EXIT_CODE = 1;

export function lifecycle(ctx: Context): Lifecycle {
  const controller = new AbortController();
  // Every role loop listens on this one signal.
  setMaxListeners(100, controller.signal);
  let signals = 0;
  let finished = false;
  let deadline: NodeJS.Timeout | null = null;
  const deadlineS = ctx.config.stopDeadlineMs / 1000;

  const armDeadline = (reason: string) => {
    deadline ??= setTimeout(() => {
      if (finished) {
        // Stopped and closed, but a handle still keeps the process alive: the deadline holds anyway.
        ctx.log.warn({ deadline_s: deadlineS }, 'stopped, but resources are still open at the stop deadline; exiting');
        process.exit(process.exitCode ?? 0);
      }
      const abandoned = ctx.stopping.pending();
      const killed = ctx.stopping.killChildren();
      ctx.log.fatal(
        { deadline_s: deadlineS, reason, abandoned, killed },
        `stop deadline: still stopping ${deadlineS} s after "${reason}"; exiting now, abandoning ` +
          `${abandoned.join(' and ') || 'no tracked work'}${killed.length ? `, killing ${killed.join(', ')}` : ''}. ` +
          'What was not acked is redelivered',
      );
      process.exit(STOP_DEADLINE_EXIT_CODE);
    }, ctx.config.stopDeadlineMs);
    deadline.unref();
  };
  const abort = (reason: string) => {
    armDeadline(reason);
    controller.abort(new Error(reason));
  };

  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      const abandoned = ctx.stopping.pending();
      const killed = ctx.stopping.killChildren();
      ctx.log.warn({ signal: sig, abandoned, killed }, 'second signal: exiting without draining');
      process.exit(130);
    }
    ctx.log.info({ signal: sig, deadline_s: deadlineS }, 'stopping: draining and checkpointing');
    abort(`received ${sig}`);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return {
    signal: controller.signal,
    stop(reason: string) {
      if (!controller.signal.aborted) {
        ctx.log.info({ reason, deadline_s: deadlineS }, 'stopping');
        abort(reason);
      }
    },
    dispose() {
      finished = true;
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
