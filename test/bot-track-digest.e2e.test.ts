/**
 * Self-serve tracking and digests as users meet them: grammY long-polls a
 * local fake of the Bot API, with access and the ledgers in an embedded
 * control plane and figures from data the real pipeline produced.
 *
 * `/track @channel` checks with Telegram that the user administers the
 * channel, grants it, and leaves a pending request for the collectors, within
 * a per-user limit. `/digest` subscribes a chat; the digest loop, on an
 * injected clock, sends each period once, with its chart, cut at the
 * subscriber's local midnight, and not again after the loop restarts.
 */
import type { Bot } from 'grammy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBot, type BotContext } from '../bot/bot.ts';
import { runDigests, type DigestPass } from '../bot/digests/scheduler.ts';
import { latestDigest } from '../bot/digests/period.ts';
import { compact } from '../bot/format.ts';
import { HOUR_MS } from '../common/index.ts';
import { grantChannel, grantedChannels } from '../control/bot-store.ts';
import { claimDigest, chatDigests } from '../control/digests.ts';
import { openControlPlane, type ControlPlane } from '../control/postgres.ts';
import { freshTestControl, type TestControl } from '../control/testing.ts';
import { settleTrackRequests, userTrackRequests } from '../control/track-requests.ts';
import { upsertChannel } from '../control/tracked-channels.ts';
import { silentLogger } from '../observability/log.ts';
import { overview } from '../read/models/overview.ts';
import { FakeBotApi, type BotApiCall } from './support/fake-bot-api.ts';
import { produceReadSideData, type ReadSideData } from './support/read-side.ts';
import { expectWellFormedHtml } from './support/telegram-html.ts';
import { fakeBotConfig } from './support/test-bot.ts';

/** Monday 2 March 2026: the data runs for nine days from then. */
const START = Date.UTC(2026, 2, 2);
const ADMIN = 900;
const OWNER = 901;
const TRACKER = 902;
const STRANGER = 903;
const GROUP_CHAT = -4001;
const TRACK_LIMIT = 2;

let data: ReadSideData;
let testControl: TestControl;
let control: ControlPlane;
let fake: FakeBotApi;
let bot: Bot<BotContext>;
let clock: number;

/** Sends `text` as `user` (in `chatId`, their private chat by default) and returns the bot's next message there. */
async function ask(user: number, text: string, chatId = user): Promise<string> {
  const before = fake.delivered(chatId).length;
  fake.say(user, text, { chatId });
  const reply = await fake.waitFor(() => fake.delivered(chatId)[before]);
  const body = String(reply.params.text ?? reply.params.caption ?? '');
  expectWellFormedHtml(body);
  return body;
}

/** A channel in the fake Telegram that `admins` administer. */
function fakeChannel(id: string, username: string | undefined, admins: number[]): void {
  fake.setChat({ id: Number(`-100${id}`), type: 'channel', title: `Channel ${id}`, username });
  fake.setAdministrators(`-100${id}`, admins);
}

beforeAll(async () => {
  data = await produceReadSideData({ channels: 2, days: 9, seed: 41, start: START });
  testControl = await freshTestControl('embedded');
  control = await openControlPlane(testControl.config);
  fake = new FakeBotApi();
  await fake.start();
  clock = data.end;
  bot = createBot({
    config: { ...fakeBotConfig(fake, [ADMIN]), trackLimit: TRACK_LIMIT },
    warehouse: data.pipe.warehouse,
    control: control.pool,
    shareSecret: Buffer.alloc(32, 1),
    log: silentLogger,
    now: () => clock,
  });
  void bot.start({ timeout: 1 });
  for (const channelId of data.channels)
    await grantChannel(control.pool, { userId: String(OWNER), channelId, via: 'admin', grantedBy: String(ADMIN) });
});

afterAll(async () => {
  await bot?.stop();
  await fake?.stop();
  await control?.close();
  await testControl?.dispose();
  await data?.close();
});

describe('/track @channel', () => {
  it('an administrator of the channel gets it granted and a pending request for the collectors', async () => {
    fakeChannel('1500000001', 'owned_news', [TRACKER, 7]);
    const reply = await ask(TRACKER, '/track https://t.me/owned_news');
    expect(reply).toContain('Added: @owned_news is queued for the collectors');
    expect(reply).toContain(`(1 of ${TRACK_LIMIT} channels)`);
    expect(await grantedChannels(control.pool, String(TRACKER))).toEqual(['1500000001']);
    expect(await userTrackRequests(control.pool, String(TRACKER))).toMatchObject([
      { channelId: '1500000001', username: 'owned_news', title: 'Channel 1500000001', status: 'pending' },
    ]);
    // Asking again changes nothing and does not count twice.
    expect(await ask(TRACKER, '/track @owned_news')).toContain('You asked for @owned_news already: waiting');
  });

  it('someone who does not administer it gets neither the channel nor a request', async () => {
    const reply = await ask(STRANGER, '/track @owned_news');
    expect(reply).toContain("You're not among the administrators of @owned_news");
    expect(await grantedChannels(control.pool, String(STRANGER))).toEqual([]);
    expect(await userTrackRequests(control.pool, String(STRANGER))).toEqual([]);
  });

  it('a channel the bot cannot see, or a group, gets a reply saying what to do', async () => {
    const unseen = await ask(TRACKER, '/track @hidden_channel');
    expect(unseen).toContain('Telegram says: Bad Request: chat not found');
    expect(unseen).toContain('Add this bot to the channel as an administrator');
    fake.setChat({ id: -1001500000009, type: 'supergroup', title: 'A group', username: 'a_group' });
    expect(await ask(TRACKER, '/track @a_group')).toContain('is a supergroup chat, not a channel');
    expect(await ask(TRACKER, '/track not/a/channel')).toContain('Usage: <code>/track [@channel]</code>');
  });

  it('a channel tracked already is granted without using up the limit', async () => {
    fakeChannel('1500000002', 'tracked_before', [TRACKER]);
    await upsertChannel(control.pool, {
      channelId: '1500000002',
      username: 'tracked_before',
      title: 'Tracked before',
      accessHash: '123456789',
      canViewStats: false,
      statsDc: null,
      members: 10,
    });
    expect(await ask(TRACKER, '/track -1001500000002')).toContain('is tracked already, and you now see its figures');
    expect(await grantedChannels(control.pool, String(TRACKER))).toContain('1500000002');
    expect((await userTrackRequests(control.pool, String(TRACKER))).map((r) => r.channelId)).toEqual(['1500000001']);
  });

  it('the per-user limit is enforced; a failed request frees its place', async () => {
    fakeChannel('1500000003', 'second_one', [TRACKER]);
    fakeChannel('1500000004', 'third_one', [TRACKER]);
    expect(await ask(TRACKER, '/track @second_one')).toContain(`(2 of ${TRACK_LIMIT} channels)`);
    const refused = await ask(TRACKER, '/track @third_one');
    expect(refused).toContain(`You have added 2 channels, the most one user may add (${TRACK_LIMIT})`);
    expect((await userTrackRequests(control.pool, String(TRACKER))).map((r) => r.channelId).sort()).toEqual([
      '1500000001',
      '1500000003',
    ]);
    // The collectors could not resolve one: it no longer counts, and /track lists why.
    await settleTrackRequests(control.pool, '1500000003', { status: 'failed', reason: 'the channel is private' });
    const listing = await ask(TRACKER, '/track');
    expect(listing).toContain('@second_one (1500000003): failed: the channel is private');
    expect(listing).toContain('@owned_news (1500000001): waiting for a collector');
    expect(await ask(TRACKER, '/track @third_one')).toContain(`(2 of ${TRACK_LIMIT} channels)`);
  });
});

describe('/digest', () => {
  const daily = { tz: 'Asia/Tokyo', chat: OWNER };
  // New York moves to summer time on Sunday 8 March 2026: this week has 167 hours.
  const weekly = { tz: 'America/New_York', chat: GROUP_CHAT };
  let loop: { stop(): Promise<DigestPass[]> } | null = null;

  /** Runs the digest loop (as the bot role does) until `stop`, recording its passes. */
  function startLoop(passes: DigestPass[] = []): { passes: DigestPass[]; stop(): Promise<DigestPass[]> } {
    const abort = new AbortController();
    const running = runDigests({
      control: control.pool,
      warehouse: data.pipe.warehouse,
      api: bot.api,
      log: silentLogger,
      signal: abort.signal,
      maxSendsPerSecond: 25,
      now: () => clock,
      tickMs: 20,
      onPass: (p) => passes.push(p),
    });
    const handle = {
      passes,
      async stop() {
        abort.abort();
        await running;
        loop = null;
        return passes;
      },
    };
    loop = handle;
    return handle;
  }

  afterAll(async () => {
    await loop?.stop();
  });

  /** The digests delivered to a chat (photos with a caption). */
  const digests = (chat: number): BotApiCall[] =>
    fake.delivered(chat).filter((c) => String(c.params.caption ?? '').includes(' digest</b>'));

  it('subscribes a private chat and a group, each in its own time zone', async () => {
    const [c0, c1] = data.channels;
    // Monday 9 March, 12:00 UTC: 21:00 in Tokyo, 08:00 in New York.
    clock = Date.UTC(2026, 2, 9, 12);
    const on = await ask(OWNER, `/digest daily ${c0} ${daily.tz}`);
    expect(on).toContain(`Channel <b>${c0}</b>: daily at 9:00 Asia/Tokyo`);
    expect(on).toContain('the first comes at 2026-03-10 00:00 UTC');
    const group = await ask(OWNER, `/digest weekly America/New_York ${c1}`, GROUP_CHAT);
    expect(group).toContain('the first comes at 2026-03-09 13:00 UTC');
    expect(await ask(STRANGER, `/digest daily ${c0}`)).toContain(`You don't have access to channel ${c0}`);
    expect(await ask(OWNER, '/digest hourly')).toContain('is not a digest: daily, weekly, or off');
    expect((await chatDigests(control.pool, String(GROUP_CHAT))).map((d) => d.cadence)).toEqual(['weekly']);
  });

  it('sends each period once, with its chart and the figures of the local day or week', async () => {
    const [c0, c1] = data.channels;
    // Tuesday 10 March, 00:30 UTC: 09:30 in Tokyo, Monday 20:30 in New York.
    clock = Date.UTC(2026, 2, 10, 0, 30);
    const first = startLoop();
    await fake.waitFor(() => digests(daily.chat).length === 1 && digests(weekly.chat).length === 1);
    await first.stop();

    const [day] = digests(daily.chat);
    expect(day.method).toBe('sendPhoto');
    expect(day.files.photo.subarray(1, 4).toString()).toBe('PNG');
    const caption = String(day.params.caption);
    expectWellFormedHtml(caption);
    expect(caption).toContain('<b>Daily digest</b>');
    expect(caption).toContain('Mon 9 Mar 2026 (Asia/Tokyo)');
    // The day in Tokyo: 8 March 15:00 UTC to 9 March 15:00 UTC, as the API's overview reads it.
    const dayFigures = await overview(data.pipe.warehouse, {
      channel_id: c0,
      period: { from: Date.UTC(2026, 2, 8, 15), to: Date.UTC(2026, 2, 9, 15) },
    });
    expect(dayFigures.current.posts).toBeGreaterThan(0);
    expect(caption).toContain(`Posts published: <b>${compact(dayFigures.current.posts)}</b>`);
    expect(caption).toContain(`Views gained: <b>${compact(dayFigures.current.views)}</b>`);

    const [week] = digests(weekly.chat);
    const weekCaption = String(week.params.caption);
    expect(weekCaption).toContain('Mon 2 Mar – Sun 8 Mar 2026 (America/New_York)');
    const weekFigures = await overview(data.pipe.warehouse, {
      channel_id: c1,
      period: { from: Date.UTC(2026, 2, 2, 5), to: Date.UTC(2026, 2, 9, 4) },
    });
    expect(weekCaption).toContain(`Posts published: <b>${compact(weekFigures.current.posts)}</b>`);

    // A restart at the same moment sends nothing again.
    const second = startLoop();
    await fake.waitFor(() => second.passes.length >= 3);
    expect((await second.stop()).reduce((n, p) => n + p.sent, 0)).toBe(0);
    expect(digests(daily.chat)).toHaveLength(1);
    expect(digests(weekly.chat)).toHaveLength(1);
  });

  it('the next day brings the next daily digest only; a claimed period is never sent again', async () => {
    // Wednesday 11 March, 00:30 UTC: 09:30 in Tokyo; New York's week is not over.
    clock = Date.UTC(2026, 2, 11, 0, 30);
    const third = startLoop();
    await fake.waitFor(() => digests(daily.chat).length === 2);
    await fake.waitFor(() => third.passes.length >= 3);
    await third.stop();
    expect(String(digests(daily.chat)[1].params.caption)).toContain('Tue 10 Mar 2026 (Asia/Tokyo)');
    expect(digests(weekly.chat)).toHaveLength(1);

    // A crash between the claim and Telegram's answer: the claimed period is skipped, not repeated.
    clock = Date.UTC(2026, 2, 12, 0, 30);
    const [sub] = await chatDigests(control.pool, String(daily.chat));
    const due = latestDigest('daily', daily.tz, clock);
    expect(
      await claimDigest(control.pool, {
        subscriptionId: sub.id,
        periodStart: due.from,
        channelId: sub.channelId,
        chatId: sub.chatId,
      }),
    ).toBe(true);
    const fourth = startLoop();
    await fake.waitFor(() => fourth.passes.length >= 3);
    await fourth.stop();
    expect(digests(daily.chat)).toHaveLength(2);
  });

  it('/digest lists and /digest off stops them', async () => {
    expect(await ask(OWNER, '/digest')).toContain(`Channel <b>${data.channels[0]}</b>: daily at 9:00 Asia/Tokyo`);
    expect(await ask(OWNER, '/digest off')).toBe('Digests stopped in this chat.');
    expect(await ask(OWNER, '/digest off')).toBe('This chat had no digests.');
    clock += 24 * HOUR_MS;
    const fifth = startLoop();
    await fake.waitFor(() => fifth.passes.length >= 2);
    await fifth.stop();
    expect(digests(daily.chat)).toHaveLength(2);
  });
});
