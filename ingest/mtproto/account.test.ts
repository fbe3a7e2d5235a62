import { describe, expect, it } from 'vitest';
import { Api } from 'telegram';
import { Registry } from 'prom-client';
import { createLogger } from '../../observability/log.ts';
import { FakeTelegram } from '../../test/support/fake-telegram.ts';
import { AccountSession } from './account.ts';
import { CollectorMetrics } from './metrics.ts';
import { MtprotoCallError } from './rpc-errors.ts';
import { FakeClock } from '../../test/support/fake-time.ts';

async function session(limits?: ConstructorParameters<typeof AccountSession>[0]['limits']) {
  const tg = new FakeTelegram();
  const clock = new FakeClock(1_700_000_000_000);
  const waits = clock.sleeps;
  const registry = new Registry();
  const account = new AccountSession({
    accountId: 'acc1',
    client: await tg.client({ account: 'acc1' }),
    limits,
    log: createLogger('silent'),
    metrics: new CollectorMetrics(registry),
    clock: clock.clock,
    sleep: clock.sleep,
  });
  return { tg, clock, waits, account, registry };
}

describe('an account session', () => {
  it('holds each method to its rate: a burst of a minute’s budget passes, the rest waits for tokens', async () => {
    const { clock, account, tg } = await session({ default: 30, total: 1000, methods: {} });
    const start = clock.now;
    for (let i = 0; i < 45; i++) await account.call(new Api.updates.GetState());
    expect(tg.count('updates.GetState')).toBe(45);
    // 30 at once, then one every 2 s.
    expect(clock.now - start).toBeGreaterThanOrEqual(15 * 2000 - 15);
    expect(clock.now - start).toBeLessThan(16 * 2000);
  });

  it('parks on FLOOD_WAIT for the seconds Telegram asked, without calling Telegram meanwhile', async () => {
    const { tg, clock, account, registry } = await session();
    tg.failNext('updates.GetState', { rpc: 'FLOOD_WAIT_30' });
    const err = await account.call(new Api.updates.GetState()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MtprotoCallError);
    expect((err as MtprotoCallError).failure).toMatchObject({ kind: 'flood', seconds: 30 });
    expect(account.parked()).toBe(true);
    const calls = tg.count();
    await expect(account.call(new Api.updates.GetState())).rejects.toThrow(/account parked/);
    expect(tg.count()).toBe(calls);
    clock.advance(30_000);
    expect(account.parked()).toBe(false);
    await account.call(new Api.updates.GetState());
    expect(await registry.getSingleMetricAsString('tgpulse_mtproto_flood_wait_seconds_total')).toMatch(
      /method="updates.GetState"\} 30/,
    );
  });

  it('retries a dropped connection with backoff and gives up after its attempts', async () => {
    const { tg, account, waits } = await session();
    tg.failNext('updates.GetState', { drop: true }, 2);
    await account.call(new Api.updates.GetState());
    expect(waits.length).toBe(2);
    tg.failNext('updates.GetState', { drop: true }, 3);
    const err = await account.call(new Api.updates.GetState()).catch((e: unknown) => e);
    expect((err as MtprotoCallError).failure.kind).toBe('transient');
    expect(account.state.health).toBeLessThan(1);
  });
});

describe('an account session whose connection keeps failing', () => {
  it('reconnects through the next route, keeps its update subscribers, and the call goes through', async () => {
    const tg = new FakeTelegram();
    const registry = new Registry();
    const routes: string[] = [];
    const account = new AccountSession({
      accountId: 'acc2',
      client: await tg.client({ account: 'via-proxy-1' }),
      log: createLogger('silent'),
      metrics: new CollectorMetrics(registry),
      sleep: async () => undefined,
      reconnect: async () => {
        routes.push('via-proxy-2');
        return tg.client({ account: 'via-proxy-2' });
      },
    });
    const updates: string[] = [];
    account.onUpdate((u) => updates.push(u.className));
    tg.failNext('updates.GetState', { drop: true }, 3);
    await account.call(new Api.updates.GetState());
    expect(routes).toEqual(['via-proxy-2']);
    expect(tg.requests.filter((r) => r.className === 'updates.GetState').map((r) => r.account)).toEqual([
      'via-proxy-1',
      'via-proxy-1',
      'via-proxy-1',
      'via-proxy-2',
    ]);
    expect(await registry.getSingleMetricAsString('tgpulse_mtproto_reconnects_total')).toMatch(/outcome="ok"\} 1/);
    // Updates now arrive on the new connection and still reach the subscriber.
    const ch = tg.addChannel({ id: '77' });
    ch.addPost({ date: tg.now, views: 1 });
    tg.push('via-proxy-2', ch.changes[0].update);
    for (let i = 0; i < 20 && updates.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(updates).toEqual(['UpdateNewChannelMessage']);
    await FakeTelegram.close(account.client);
  });
});
