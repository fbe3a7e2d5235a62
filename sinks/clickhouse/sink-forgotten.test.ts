/**
 * The sink and the register of forgotten channels: rows of a forgotten
 * channel are not written, also when the channel is forgotten after its rows
 * were added to an insert and before the insert is sent, and dead letters
 * naming it are not stored; what is dropped is counted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WarehouseError } from '../../clickhouse/errors.ts';
import type { Warehouse } from '../../clickhouse/warehouse.ts';
import type { ForgottenLookup } from '../../streams/forgotten-watch.ts';
import { startTestNats, tempDir, type TestNats } from '../../test/support/nats.ts';
import { startPipeline, type TestPipeline } from '../../test/support/pipeline.ts';
import { runSinkUntil } from '../../test/support/sink-run.ts';
import { deadLetter, membersEvent } from './encoder.fixtures.ts';
import type { SinkSource } from './sink.ts';

/** A register the test changes by hand. */
class Register implements ForgottenLookup {
  version = 0;
  readonly #channels = new Set<string>();
  forget(channelId: string): void {
    this.#channels.add(channelId);
    this.version++;
  }
  isForgotten(channelId: string): boolean {
    return this.#channels.has(channelId);
  }
}

/** `wh` whose inserts go through `send` first. */
function intercepted(wh: Warehouse, send: () => void): Warehouse {
  return new Proxy(wh, {
    get(target, prop) {
      if (prop === 'sendInsert')
        return (...args: Parameters<Warehouse['sendInsert']>) => {
          send();
          return target.sendInsert(...args);
        };
      const value = Reflect.get(target, prop);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe('sink and forgotten channels', () => {
  let nats: TestNats;
  let pipe: TestPipeline;

  beforeAll(async () => {
    nats = await startTestNats();
    pipe = await startPipeline({ natsUrl: nats.url, dataDir: tempDir('sinkforget'), env: { TGPULSE_PARTITIONS: '2' } });
  });
  afterAll(async () => {
    await pipe?.close();
    await nats?.stop();
  });

  const sinkUntil = (
    source: SinkSource,
    forgotten: ForgottenLookup,
    done: () => Promise<boolean>,
    warehouse = pipe.warehouse,
  ) => runSinkUntil(pipe, { source, warehouse, forgotten }, done);

  const rows = async (table: string, channel: string) =>
    Number(
      (
        await pipe.warehouse.query<{ n: string }>(`SELECT count() AS n FROM ${table} WHERE channel_id = {c:String}`, {
          c: channel,
        })
      )[0].n,
    );
  const dropped = async (stage: string) =>
    (await pipe.ctx.metrics.forgottenDropped.get()).values.find((v) => v.labels.stage === stage)?.value ?? 0;
  const members = (channel: string, i: number) =>
    ({
      ...membersEvent(1000 + i, Date.UTC(2026, 1, 1) + i * 60_000, `cm_${channel}_${i}`),
      channel_id: channel,
    }) as const;

  it('does not write the rows of a channel forgotten before or while they wait for their insert', async () => {
    const register = new Register();
    register.forget('8001');
    await pipe.publisher.publish([members('8001', 1), members('8002', 1), members('8003', 1)]);
    await pipe.publisher.flush();
    // The first send finds the warehouse down, and 8003 forgotten meanwhile: the retry must leave it out.
    let sends = 0;
    const down = intercepted(pipe.warehouse, () => {
      if (sends++ > 0) return;
      register.forget('8003');
      throw new WarehouseError({ driver: 'server', operation: 'insert' }, 'connect ECONNREFUSED 127.0.0.1:8123');
    });
    await sinkUntil('raw', register, async () => (await rows('raw_channel_members', '8002')) === 1, down);
    expect(sends).toBeGreaterThan(1);
    expect(await rows('raw_channel_members', '8001')).toBe(0);
    expect(await rows('raw_channel_members', '8003')).toBe(0);
    expect(await rows('channel_members_latest', '8003')).toBe(0);
    expect(await dropped('sink_raw')).toBe(2);
  });

  it('does not store the dead letters of a forgotten channel', async () => {
    const register = new Register();
    register.forget('8001');
    for (const [id, channel] of [
      ['dl_8001', '8001'],
      ['dl_8002', '8002'],
    ])
      await pipe.nats.js.publish(
        'tg.dlq.process',
        JSON.stringify(deadLetter({ id, channel_id: channel, subject: `tg.raw.p01.post.${channel}` })),
      );
    await sinkUntil('dlq', register, async () => (await rows('dead_letters', '8002')) === 1);
    expect(await rows('dead_letters', '8001')).toBe(0);
    expect(await dropped('sink_dlq')).toBe(1);
  });
});
