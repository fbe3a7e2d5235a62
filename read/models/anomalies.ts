/** A channel's anomalies whose window starts in a period, at or above a severity. */
import { Type, type Static } from '@sinclair/typebox';
import { readAnomaly, RowReader, type Warehouse } from '../../clickhouse/index.ts';
import {
  AnomalyData,
  AnomalyReason,
  anomalyReasonOf,
  SEVERITIES,
  type Severity,
} from '../../streams/contract/index.ts';
import { periodParams } from './freshness.ts';
import type { Period } from './period.ts';
import { Nullable, Time } from './shape.ts';

/** Severities at or above `min`. */
export function severitiesFrom(min: Severity): Severity[] {
  return SEVERITIES.slice(SEVERITIES.indexOf(min));
}

/**
 * The latest state of one anomaly of a channel: the contract's anomaly, with
 * when it was updated and resolved, and always its reason (anomalies stored
 * before reasons were recorded get the one their direction implies).
 */
export const ChannelAnomaly = Type.Composite([
  Type.Omit(AnomalyData, ['reason']),
  Type.Object({ reason: AnomalyReason, updated_at: Time, resolved_at: Nullable(Time) }),
]);
export type ChannelAnomaly = Static<typeof ChannelAnomaly>;

/** Latest state of each anomaly, newest window first. */
export async function channelAnomalies(
  wh: Warehouse,
  q: { channel_id: string; period: Period; minSeverity: Severity; limit: number },
): Promise<ChannelAnomaly[]> {
  const rows = await wh.query(
    `SELECT * FROM anomalies FINAL
     WHERE channel_id = {channel_id:String}
       AND window_start >= {from:DateTime64(3, 'UTC')} AND window_start < {to:DateTime64(3, 'UTC')}
       AND has({severities:Array(String)}, severity)
     ORDER BY window_start DESC, anomaly_id
     LIMIT {limit:UInt32}`,
    { channel_id: q.channel_id, ...periodParams(q.period), severities: severitiesFrom(q.minSeverity), limit: q.limit },
  );
  return rows.map((row) => {
    const r = new RowReader(row, 'anomalies');
    const a = readAnomaly(r, 'anomalies');
    return {
      ...a,
      reason: anomalyReasonOf(a),
      updated_at: r.time('updated_at'),
      resolved_at: r.timeOrNull('resolved_at'),
    };
  });
}
