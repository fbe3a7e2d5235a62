/**
 * ClickHouse failures in the sink: an unavailable warehouse is retried until
 * the rows are written (nothing acked meanwhile, nothing lost, nothing
 * doubled); rows ClickHouse rejects for their content are dead-lettered per
 * message while the rest of the batch is written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WarehouseError } from '../clickhouse/errors.ts';
import type { Warehouse } from '../clickhouse/warehouse.ts';
import type { ChannelMembersEvent } from '../streams/contract/events.ts';
import { eventId } from '../streams/contract/ids.ts';
import type { SinkSource } from '../sinks/clickhouse/sink.ts';
import { windowAggEvent } from '../sinks/clickhouse/encoder.fixtures.ts';
import { EventPublisher } from '../streams/publisher.ts';
import { startTestNats, tempDir, type TestNats } from './support/nats.ts';
import { startPipeline, type TestPipeline } from './support/pipeline.ts';
import { runSinkUntil } from './support/sink-run.ts';

function members(channel: string, i: number, count = 1000 + i): ChannelMembersEvent {
  const t = Date.UTC(2026, 1, 1) + i * 60_000;
  return {
    v: 1,
    kind: 'channel_members',
    id: eventId('cm', channel, t),
    channel_id: channel,
    event_time: t,
    observed_at: t,
    source: 'simulator',
    data: { members: count },
  };
}

/** The real warehouse, with connection failures injected into its inserts (describing the table, sending the rows). */
function faulty(wh: Warehouse, failInsert: (step: 'describe' | 'send', table: string) => Error | null): Warehouse {
  return {
    driver: wh.driver,
    query: (sql, params) => wh.query(sql, params),
    exec: (sql, params) => wh.exec(sql, params),
    insertRows: (table, rows, opts) => wh.insertRows(table, rows, opts),
    startInsert: async (table) => {
      const err = failInsert('describe', table);
      if (err) throw err;
      return wh.startInsert(table);
    },
    sendInsert: async (insert, opts) => {
      const err = failInsert('send', insert.table);
      if (err) throw err;
      return wh.sendInsert(insert, opts);
    },
    ping: () => wh.ping(),
    close: () => wh.close(),
  };
}

describe('sink under ClickHouse failures', () => {
  let nats: TestNats;
  let pipe: TestPipeline;

  beforeAll(async () => {
    nats = await startTestNats();
    pipe = await startPipeline({ natsUrl: nats.url, dataDir: tempDir('sinkfail'), env: { TGPULSE_PARTITIONS: '2' } });
  });
  afterAll(async () => {
    await pipe?.close();
    await nats?.stop();
  });

  const runRawSinkUntil = (wh: Warehouse, done: () => Promise<boolean>, source: SinkSource = 'raw') =>
    runSinkUntil(pipe, { source, warehouse: wh }, done);

  const count = async (channel: string) =>
    Number(
      (
        await pipe.warehouse.query<{ n: string }>(
          'SELECT count() AS n FROM raw_channel_members FINAL WHERE channel_id = {c:String}',
          { c: channel },
        )
      )[0].n,
    );

  it('retries an unavailable warehouse until every row is written once', async () => {
    const events = Array.from({ length: 50 }, (_, i) => members('7001', i));
    for (let i = 0; i < events.length; i += 10) await pipe.publisher.publish(events.slice(i, i + 10));
    await pipe.publisher.flush();
    // Down when the sink first describes the table, and again when it sends the rows.
    const failures = { describe: 0, send: 0 };
    const down = faulty(pipe.warehouse, (step) =>
      failures[step]++ < 2
        ? new WarehouseError(
            { driver: 'server', operation: 'insert', target: 'raw_channel_members' },
            'connect ECONNREFUSED 127.0.0.1:8123',
          )
        : null,
    );
    await runRawSinkUntil(down, async () => (await count('7001')) === 50);
    expect(failures.describe).toBeGreaterThan(2);
    expect(failures.send).toBeGreaterThan(2);
    expect(await count('7001')).toBe(50);
    const metrics = await pipe.ctx.metrics.registry.getSingleMetricAsString('tgpulse_errors_total');
    expect(metrics).toMatch(/stage="sink_raw",error="insert"} [3-9]/);
  });

  it('dead-letters the messages ClickHouse rejects and writes the rest', async () => {
    await pipe.publisher.publish([members('7002', 1)]);
    await pipe.publisher.publish([members('7002', 2, 666)]); // the engine will "reject" this one
    await pipe.publisher.publish([members('7002', 3)]);
    await pipe.publisher.flush();
    // The engine itself refuses that row: a constraint, as an operator might add one.
    await pipe.warehouse.exec('ALTER TABLE raw_channel_members ADD CONSTRAINT no_devil CHECK members != 666');
    try {
      await runRawSinkUntil(pipe.warehouse, async () => (await count('7002')) === 2);
    } finally {
      await pipe.warehouse.exec('ALTER TABLE raw_channel_members DROP CONSTRAINT no_devil');
    }
    expect(await count('7002')).toBe(2);
    const msg = await pipe.nats.jsm.streams.getMessage('TG_DLQ', { last_by_subj: 'tg.dlq.sink_raw' });
    expect(msg?.json()).toMatchObject({
      reason: 'write_rejected',
      stage: 'sink_raw',
      stream: 'TG_RAW',
      detail: expect.stringMatching(/raw_channel_members.*no_devil/s),
    });
    expect(JSON.parse(msg!.json<{ payload: string }>().payload)).toEqual([members('7002', 2, 666)]);
  });

  it('dead-letters an event its column cannot hold and writes the rest of the message', async () => {
    const start = Date.UTC(2026, 1, 2);
    // Valid by the contract (a revision has no upper bound there) but not a UInt32.
    const [ok, tooBig] = [
      windowAggEvent('1h', start, 1, 10, 'wa_ok'),
      windowAggEvent('1h', start + 3_600_000, 2 ** 40, 20, 'wa_too_big'),
    ];
    const derived = new EventPublisher(pipe.nats.js, {
      partitions: pipe.config.streams.partitions,
      maxBatchBytes: 64 * 1024,
      maxInflight: 8,
      stream: pipe.config.streams.names.derived,
    });
    await derived.publish([ok, tooBig]);
    await derived.flush();
    const stored = async () =>
      (
        await pipe.warehouse.query<{ id: string }>("SELECT id FROM window_aggs WHERE id IN ('wa_ok', 'wa_too_big')")
      ).map((r) => r.id);
    await runRawSinkUntil(pipe.warehouse, async () => (await stored()).length > 0, 'derived');
    expect(await stored()).toEqual(['wa_ok']);
    const msg = await pipe.nats.jsm.streams.getMessage('TG_DLQ', { last_by_subj: 'tg.dlq.sink_derived' });
    expect(msg?.json()).toMatchObject({
      reason: 'write_rejected',
      stage: 'sink_derived',
      stream: 'TG_DERIVED',
      event_id: 'wa_too_big',
      detail: 'window_aggs: column revision (UInt32): 1099511627776 is not a UInt32',
    });
  });
});
