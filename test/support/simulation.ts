/** Publishing a simulation into a test pipeline and reading back what it detected. */
import type { Warehouse } from '../../clickhouse/warehouse.ts';
import type { Simulator } from '../../ingest/simulator/simulator.ts';
import type { PostCountersEvent, RawEvent, RawKind } from '../../streams/contract/events.ts';
import type { DetectedAnomaly } from './labels.ts';
import type { TestPipeline } from './pipeline.ts';

export interface Published {
  idsByKind: Map<RawKind, Set<string>>;
  /** Last (max) cumulative views per channel/post, as published. */
  finalViews: Map<string, number>;
  events: number;
}

/**
 * Publish every step of a simulation. `extra` events join the step whose
 * time range holds their event time, so they arrive on time like the rest.
 */
export async function publishSimulation(
  pipe: TestPipeline,
  sim: Simulator,
  extra: readonly RawEvent[] = [],
): Promise<Published> {
  const out: Published = { idsByKind: new Map(), finalViews: new Map(), events: 0 };
  for (const tick of sim.ticks()) {
    // As the simulate role does: one publish per step, coalesced per partition.
    const events = [
      ...(tick.batches.flat() as RawEvent[]),
      ...extra.filter((e) => e.event_time >= tick.from && e.event_time < tick.to),
    ];
    await pipe.publisher.publish(events);
    for (const e of events) {
      out.events++;
      let ids = out.idsByKind.get(e.kind);
      if (!ids) out.idsByKind.set(e.kind, (ids = new Set()));
      ids.add(e.id);
      if (e.kind === 'post_counters') {
        const key = `${e.channel_id}/${(e as PostCountersEvent).data.post_id}`;
        out.finalViews.set(key, Math.max(out.finalViews.get(key) ?? 0, (e as PostCountersEvent).data.views));
      }
    }
  }
  await pipe.publisher.flush();
  return out;
}

export async function detectedAnomalies(warehouse: Warehouse): Promise<DetectedAnomaly[]> {
  const rows = await warehouse.query<Record<string, string | number | null>>(
    `SELECT anomaly_id, channel_id, metric, direction, toUnixTimestamp64Milli(window_start) AS ws,
            toUnixTimestamp64Milli(opened_at) AS oa, post_id
       FROM anomaly_events FINAL WHERE state = 'opened' ORDER BY oa`,
  );
  return rows.map((r) => ({
    anomaly_id: String(r.anomaly_id),
    channel_id: String(r.channel_id),
    metric: String(r.metric),
    direction: String(r.direction),
    window_start: Number(r.ws),
    opened_at: Number(r.oa),
    post_id: r.post_id === null ? null : Number(r.post_id),
  }));
}
