/** Running one sink of a test pipeline for as long as a test needs it. */
import { setMaxListeners } from 'node:events';
import type { Warehouse } from '../../clickhouse/warehouse.ts';
import { sleep } from '../../common/retry.ts';
import { runSink, type SinkSource } from '../../sinks/clickhouse/sink.ts';
import type { ForgottenLookup } from '../../streams/forgotten-watch.ts';
import type { TestPipeline } from './pipeline.ts';

/**
 * Runs the sink of `source` on the pipeline's NATS until `done` says so (or a
 * minute passes), then stops it, draining what it holds.
 */
export async function runSinkUntil(
  pipe: TestPipeline,
  opts: { source: SinkSource; warehouse?: Warehouse; forgotten?: ForgottenLookup },
  done: () => Promise<boolean>,
): Promise<void> {
  const ac = new AbortController();
  setMaxListeners(50, ac.signal);
  const running = runSink({
    js: pipe.nats.js,
    jsm: pipe.nats.jsm,
    warehouse: opts.warehouse ?? pipe.warehouse,
    streams: pipe.config.streams,
    sink: pipe.config.sink,
    source: opts.source,
    log: pipe.ctx.log,
    metrics: pipe.ctx.metrics,
    signal: ac.signal,
    ...(opts.forgotten ? { forgotten: opts.forgotten } : {}),
  });
  const deadline = Date.now() + 60_000;
  while (!(await done()) && Date.now() < deadline) await sleep(100);
  ac.abort();
  await running;
}
