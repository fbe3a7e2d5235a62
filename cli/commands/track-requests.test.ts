/**
 * The ingest role's side of `/track`: pending requests are resolved through
 * an account (a fake Telegram speaking MTProto to gramjs) into the registry
 * the collectors lease from, a forgotten channel is let in again first (its
 * register entry in a private nats-server), and Telegram's refusals are
 * recorded as the reason the user sees.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertBotUser } from '../../control/bot-store.ts';
import { eraseChannelFromControl } from '../../control/channel-erasure.ts';
import { openControlPlane, type ControlPlane } from '../../control/postgres.ts';
import { freshTestControl, type TestControl } from '../../control/testing.ts';
import { requestTracking, userTrackRequests } from '../../control/track-requests.ts';
import { findChannel } from '../../control/tracked-channels.ts';
import { AccountSession } from '../../ingest/mtproto/account.ts';
import { silentLogger } from '../../observability/log.ts';
import { PipelineMetrics } from '../../observability/metrics.ts';
import { channelDigest, readForgotten, registerForgotten } from '../../streams/forgotten.ts';
import { FakeTelegram } from '../../test/support/fake-telegram.ts';
import { startTestNats, type TestNats } from '../../test/support/nats.ts';
import { loadConfig, type TgpulseConfig } from '../config.ts';
import { Context, openNats, type NatsContext } from '../context.ts';
import { readmitIfForgotten } from './channels-forget.ts';
import { resolveTrackRequests } from './track-requests.ts';

const OWNER = '7001';

let nats: TestNats;
let testControl: TestControl;
let control: ControlPlane;
let config: TgpulseConfig;
let ctx: Context;
let natsCtx: NatsContext;
let tg: FakeTelegram;
let account: AccountSession;

beforeAll(async () => {
  nats = await startTestNats();
  testControl = await freshTestControl('embedded');
  control = await openControlPlane(testControl.config);
  config = loadConfig({ ...testControl.env, TGPULSE_NATS_URL: nats.url, TGPULSE_LOG_LEVEL: 'silent' });
  ctx = new Context(config, { log: silentLogger, metrics: new PipelineMetrics() });
  natsCtx = await openNats(ctx, { name: 'track-requests-test' });
  tg = new FakeTelegram();
  account = new AccountSession({
    accountId: 'acc-1',
    client: await tg.client({ account: 'a1' }),
    log: silentLogger,
    sleep: async () => undefined,
  });
  await upsertBotUser(control.pool, { userId: OWNER, username: 'owner' });
});

afterAll(async () => {
  if (account) await FakeTelegram.close(account.client);
  await ctx?.close();
  await control?.close();
  await testControl?.dispose();
  await nats?.stop();
});

const request = (channelId: string, username: string | null) =>
  requestTracking(control.pool, { userId: OWNER, channelId, username, title: null, limit: 10 });

describe('resolving /track requests', () => {
  it('adds resolvable channels to the registry, letting a forgotten one in again first', async () => {
    const fresh = tg.addChannel({ id: '3001', username: 'owner_news', title: 'Owner News', members: 120 });
    tg.addChannel({ id: '3002', username: 'was_forgotten', title: 'Back Again' });
    // 3002 was forgotten (`tgpulse channels forget`): its register entry drops its events until it is readmitted.
    await registerForgotten(natsCtx.kv, natsCtx.jsm, config.streams, '3002', Date.now());
    await eraseChannelFromControl(control.pool, {
      channelId: '3002',
      digest: channelDigest('3002'),
      actor: 'cli',
      details: {},
    });
    await request('3001', 'owner_news');
    await request('3002', 'was_forgotten');

    const round = await resolveTrackRequests({
      control: control.pool,
      accounts: [account],
      readmit: (id) => readmitIfForgotten(control.pool, id, config, silentLogger),
      log: silentLogger,
    });
    expect(round).toEqual({ tracked: ['3001', '3002'], failed: [], pending: [] });
    expect(await findChannel(control.pool, '3001')).toMatchObject({
      accessHash: fresh.accessHash,
      username: 'owner_news',
      title: 'Owner News',
      members: 120,
      status: 'active',
      removedAt: null,
    });
    expect(await readForgotten(natsCtx.kv, '3002')).toMatchObject({ active: false });
    expect((await userTrackRequests(control.pool, OWNER)).map((r) => [r.channelId, r.status])).toEqual(
      expect.arrayContaining([
        ['3001', 'tracked'],
        ['3002', 'tracked'],
      ]),
    );
  });

  it("records Telegram's refusal as the reason, and leaves nothing pending", async () => {
    // By id only (no username): the account must have joined it, and has not.
    tg.addChannel({ id: '3003', title: 'Private One', member: false });
    await request('3003', null);
    await request('3004', 'nobody_has_this');
    const round = await resolveTrackRequests({
      control: control.pool,
      accounts: [account],
      readmit: async () => null,
      log: silentLogger,
    });
    expect(round).toEqual({ tracked: [], failed: ['3003', '3004'], pending: [] });
    const reasons = new Map((await userTrackRequests(control.pool, OWNER)).map((r) => [r.channelId, r.reason]));
    expect(reasons.get('3003')).toContain('not among the dialogs of account acc-1');
    expect(reasons.get('3004')).toContain('no Telegram channel, group or user has the username');
    expect(await findChannel(control.pool, '3003')).toBeNull();
  });
});
