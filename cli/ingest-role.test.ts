import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TelegramClient, Api } from 'telegram';
import { openControlPlane, type ControlPlane } from '../control/postgres.ts';
import { freshTestControl, type TestControl } from '../control/testing.ts';
import { addAccount } from '../control/mtproto-accounts.ts';
import { upsertChannel } from '../control/tracked-channels.ts';
import { encryptSession } from '../control/session-crypto.ts';
import { silentLogger } from '../observability/log.ts';
import { PipelineMetrics } from '../observability/metrics.ts';
import { dlqSubject, eventSubject } from '../streams/contract/subjects.ts';
import type { DeadLetterRecord } from '../streams/dlq.ts';
import { sleep } from '../common/retry.ts';
import type { PostEvent } from '../streams/contract/events.ts';
import { FakeTelegram } from '../test/support/fake-telegram.ts';
import { startTestNats, type TestNats } from '../test/support/nats.ts';
import { until } from '../test/support/until.ts';
import { loadConfig, type TgpulseConfig } from './config.ts';
import { Context, openNats, type NatsContext } from './context.ts';
import { runIngestRole } from './commands/ingest.ts';

describe('tgpulse ingest: the collector role', () => {
  let natsServer: TestNats;
  let test: TestControl;
  let control: ControlPlane;
  let config: TgpulseConfig;
  let ctx: Context;
  let nats: NatsContext;
  const keyHex = randomBytes(32).toString('hex');
  const tg = new FakeTelegram();
  const clients: TelegramClient[] = [];

  beforeAll(async () => {
    natsServer = await startTestNats();
    test = await freshTestControl('embedded');
    control = await openControlPlane(test.config);
    config = loadConfig({
      ...test.env,
      TGPULSE_NATS_URL: natsServer.url,
      TGPULSE_LOG_LEVEL: 'silent',
      TGPULSE_TG_API_ID: '12345',
      TGPULSE_TG_API_HASH: '0123456789abcdef0123456789abcdef',
      TGPULSE_SESSION_KEY: keyHex,
    });
    ctx = new Context(config, { log: silentLogger, metrics: new PipelineMetrics() });
    nats = await openNats(ctx, { name: 'ingest-test' });
  });
  afterAll(async () => {
    for (const c of clients) await FakeTelegram.close(c);
    await ctx?.close();
    await control?.close();
    await test?.dispose();
    await natsServer?.stop();
  });

  it("waits for an account, then publishes the tracked channel's history to TG_RAW and stops on abort", async () => {
    // The collector reads on the wall clock: the fake world is set to now.
    tg.now = Math.floor(Date.now() / 1000);
    const ch = tg.addChannel({ id: '3001', username: 'wall_clock_news', members: 50, canViewStats: true, statsDc: 2 });
    // Telegram sends one statistics graph the collector cannot read: it must reach TG_DLQ, not stop the role.
    ch.graphs.set('growthGraph', new Api.StatsGraph({ json: new Api.DataJSON({ data: '{"columns": "not a list"}' }) }));
    for (let i = 0; i < 3; i++) ch.addPost({ date: tg.now - 3600 * (i + 1), text: `post ${i}`, views: 10 * i });

    const stop = new AbortController();
    const progress: string[] = [];
    let connects = 0;
    const role = runIngestRole(ctx, nats, control.pool, stop.signal, {
      waitMs: 20,
      progress: (line) => progress.push(line),
      connect: async (o) => {
        connects++;
        expect(o.session).toBe('session-3001');
        const client = await tg.client({ account: 'ingest' });
        clients.push(client);
        return client;
      },
    });
    // No account yet: the role waits instead of failing.
    await sleep(100);
    expect(connects).toBe(0);

    const key = Buffer.from(keyHex, 'hex');
    await addAccount(control.pool, {
      phone: '+15557770001',
      userId: '1',
      sealSession: (id) => encryptSession('session-3001', key, id),
    });
    await upsertChannel(control.pool, {
      channelId: ch.id,
      username: ch.username ?? null,
      title: ch.title,
      accessHash: ch.accessHash,
      canViewStats: true,
      statsDc: 2,
      members: ch.members,
    });

    await until('the backfill finished', () => progress.some((l) => l.includes('3001') && l.endsWith('done')));
    expect(progress.at(-1)).toMatch(/^backfill 3001: 3 posts/);

    const msg = await nats.jsm.streams.getMessage(config.streams.names.raw, {
      last_by_subj: eventSubject('post', '3001', config.streams.partitions),
    });
    const posts = JSON.parse(new TextDecoder().decode(msg!.data)) as PostEvent[];
    expect(posts.map((p) => p.data.post_id).sort()).toEqual([1, 2, 3]);
    expect(posts.every((p) => p.source === 'mtproto')).toBe(true);

    await until(
      'the malformed graph was dead-lettered',
      async () =>
        (await nats.jsm.streams
          .getMessage(config.streams.names.dlq, { last_by_subj: dlqSubject('collector') })
          .catch(() => null)) !== null,
    );
    const dead = await nats.jsm.streams.getMessage(config.streams.names.dlq, { last_by_subj: dlqSubject('collector') });
    const record = JSON.parse(new TextDecoder().decode(dead!.data)) as DeadLetterRecord;
    expect(record).toMatchObject({
      stage: 'collector',
      reason: 'malformed_source',
      channel_id: '3001',
      subject: 'stats.growth',
      payload: '{"columns": "not a list"}',
    });

    stop.abort();
    await role;
    expect(connects).toBe(1);
  }, 60_000);
});
