/**
 * The worker processes of `tgpulse up`: one `tgpulse worker` (processors and
 * sinks) per core, so the stream work uses every core while the parent keeps
 * the API, the bot and the producers. Workers share the partitions through
 * leases and the sink consumers through JetStream, exactly as separately
 * started `tgpulse process` and `tgpulse sink` would.
 *
 * The parent supervises them: a worker that exits unasked is restarted with
 * backoff; on stop each gets SIGTERM and drains, within a stop deadline shorter
 * than the parent's (see {@link workerStopDeadlineS}). They never outlive the
 * parent (pdeathsig, the IPC channel closing where that is missing, and the
 * parent's own deadline kills them). Their metrics reach the parent's
 * `/metrics` over IPC, labelled by worker.
 *
 * They write their logs straight to the parent's stderr (inherited), in the
 * parent's format: pretty lines at a terminal, JSON for whatever reads it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import { backoffMs } from '../common/index.ts';
import { dieWithParent, stopChild } from '../clickhouse/local-server/index.ts';
import type { Context } from './context.ts';

/**
 * How a worker runs this CLI: compiled (dist/cli/main.js, as `./tgpulse` runs
 * it) with plain node, from the sources (tests, `node --import tsx`) through tsx.
 */
const COMPILED = import.meta.url.endsWith('.js');
const MAIN = fileURLToPath(new URL(COMPILED ? './main.js' : './main.ts', import.meta.url));
const NODE_ARGS = COMPILED ? ['--enable-source-maps', MAIN] : ['--import', 'tsx', MAIN];

type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

/** What a worker and its parent say to each other over IPC. */
export type WorkerMessage = { type: 'metrics?'; id: number } | { type: 'metrics'; id: number; metrics: MetricsJson };

/**
 * A worker's stop deadline (s): 60 % of its parent's, at least 1 s. The parent
 * closes the warehouse and the nats-server the workers write through only
 * after they stopped, so it keeps the rest of its own deadline for that.
 */
export function workerStopDeadlineS(parentDeadlineMs: number): number {
  return Math.max(1, Math.floor((parentDeadlineMs / 1000) * 0.6));
}

export interface Workers {
  count: number;
  /** Every worker's metrics, for the parent's `/metrics`. */
  metrics(): Promise<MetricsJson[]>;
  /**
   * SIGTERM to each (they drain and checkpoint), SIGKILL 1 s after their own
   * stop deadline, for one that cannot even end itself.
   */
  stop(): Promise<void>;
}

interface Slot {
  index: number;
  child: ChildProcess | null;
  restarts: number;
}

/**
 * Starts `count` workers with the parent's environment plus `env` (the NATS
 * URL and data folder the parent resolved, so every worker uses the same).
 */
export function startWorkers(ctx: Context, count: number, env: Record<string, string>): Workers {
  const slots: Slot[] = Array.from({ length: count }, (_, index) => ({ index, child: null, restarts: 0 }));
  let stopping = false;
  let nextId = 1;
  const deadlineS = workerStopDeadlineS(ctx.config.stopDeadlineMs);
  const waiting = new Map<number, (m: MetricsJson) => void>();

  const launch = (slot: Slot) => {
    const [cmd, ...args] = [...dieWithParent(), process.execPath, ...NODE_ARGS, 'worker'];
    const child = spawn(cmd, args, {
      env: {
        ...process.env,
        ...env,
        TGPULSE_WORKER_INDEX: String(slot.index),
        TGPULSE_HTTP_PORT: '0',
        TGPULSE_LOG_FORMAT: ctx.logFormat,
        TGPULSE_STOP_DEADLINE_S: String(deadlineS),
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // A group of its own: Ctrl-C at the terminal reaches the parent alone, which then stops each
      // worker once (a second signal would make the worker exit without draining).
      detached: true,
    });
    slot.child = child;
    ctx.stopping.adoptChild(`worker ${slot.index}`, child);
    child.on('message', (m: WorkerMessage) => {
      if (m.type === 'metrics') waiting.get(m.id)?.(m.metrics);
    });
    child.once('exit', (code, signal) => {
      slot.child = null;
      if (stopping) return;
      slot.restarts++;
      const waitMs = backoffMs(Math.min(slot.restarts, 6), 1000, 30_000);
      ctx.metrics.errors.inc({ stage: 'worker', error: 'exited' });
      ctx.log.error(
        { worker: slot.index, code, signal, restartInMs: waitMs },
        'worker exited unexpectedly; restarting it',
      );
      setTimeout(() => !stopping && launch(slot), waitMs).unref();
    });
    // Not `pid`: that field is the logging process's own (pino's base), the parent here.
    ctx.log.info({ worker: slot.index, worker_pid: child.pid }, 'worker started');
  };
  slots.forEach(launch);

  const ask = (child: ChildProcess): Promise<MetricsJson> =>
    new Promise((resolve) => {
      const id = nextId++;
      const done = (m: MetricsJson) => {
        clearTimeout(timer);
        waiting.delete(id);
        resolve(m);
      };
      // A busy or restarting worker answers late: leave its metrics out of this scrape.
      const timer = setTimeout(() => done([]), 2000);
      waiting.set(id, done);
      child.send({ type: 'metrics?', id } satisfies WorkerMessage, (err) => err && done([]));
    });

  return {
    count,
    metrics: () => Promise.all(slots.flatMap((s) => (s.child?.connected ? [ask(s.child)] : []))),
    async stop() {
      stopping = true;
      await Promise.all(slots.map((s) => (s.child ? stopChild(s.child, (deadlineS + 1) * 1000) : undefined)));
    },
  };
}

/**
 * In a worker: answers the parent's metric requests, and stops the worker
 * when the parent is gone (the IPC channel closes), also where pdeathsig is
 * missing. Returns the function that lets go of the channel at exit.
 */
export function serveParent(metrics: () => Promise<MetricsJson>, onParentGone: () => void): () => void {
  const onMessage = (m: WorkerMessage) => {
    if (m.type !== 'metrics?') return;
    void metrics().then((json) => process.send?.({ type: 'metrics', id: m.id, metrics: json } satisfies WorkerMessage));
  };
  process.on('message', onMessage);
  process.on('disconnect', onParentGone);
  return () => {
    process.off('message', onMessage);
    process.off('disconnect', onParentGone);
    if (process.connected) process.disconnect();
  };
}
