/**
 * `/dashboard` as a Telegram user meets it, through a local fake of the Bot
 * API that applies Telegram's rules for Mini App buttons (https only, private
 * chats only): with an https public URL a private chat gets the button that
 * opens the app at the API's root; a group, or an http URL, gets the reason
 * and the link instead of a button Telegram would refuse.
 */
import type { Bot } from 'grammy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTempWarehouse, type TempWarehouse } from '../clickhouse/testing.ts';
import { grantChannel } from '../control/bot-store.ts';
import { openControlPlane, type ControlPlane } from '../control/postgres.ts';
import { freshTestControl, type TestControl } from '../control/testing.ts';
import { silentLogger } from '../observability/log.ts';
import { BOT_USER, type BotApiCall, FakeBotApi } from '../test/support/fake-bot-api.ts';
import { expectWellFormedHtml } from '../test/support/telegram-html.ts';
import { fakeBotConfig } from '../test/support/test-bot.ts';
import { type BotContext, createBot, registerCommands } from './bot.ts';

const OWNER = 811;
const STRANGER = 812;
const GROUP = -100777;

let wh: TempWarehouse;
let testControl: TestControl;
let control: ControlPlane;
/** One fake and one bot per public URL: https (a Mini App can open) and plain http (it cannot). */
const served: Record<'https' | 'http', { fake: FakeBotApi; bot: Bot<BotContext> | null }> = {
  https: { fake: new FakeBotApi(), bot: null },
  http: { fake: new FakeBotApi(), bot: null },
};

/** Sends `text` as `user` (in `chatId`, default their private chat) and returns the bot's answer. */
async function ask(fake: FakeBotApi, user: number, text: string, chatId = user): Promise<BotApiCall> {
  const before = fake.sent('sendMessage', chatId).length;
  fake.say(user, text, { chatId });
  const call = await fake.waitFor(() => fake.sent('sendMessage', chatId)[before]);
  expectWellFormedHtml(String(call.params.text));
  return call;
}

const buttonsOf = (call: BotApiCall) =>
  ((call.params.reply_markup as { inline_keyboard?: unknown[][] } | undefined)?.inline_keyboard ?? []).flat();

beforeAll(async () => {
  wh = await openTempWarehouse();
  testControl = await freshTestControl('embedded');
  control = await openControlPlane(testControl.config);
  for (const [scheme, publicApiUrl] of [
    ['https', 'https://tgpulse.example'],
    ['http', 'http://127.0.0.1:8080'],
  ] as const) {
    const { fake } = served[scheme];
    await fake.start();
    const bot = createBot({
      config: { ...fakeBotConfig(fake, []), publicApiUrl },
      warehouse: wh.wh,
      control: control.pool,
      shareSecret: Buffer.alloc(32, 1),
      log: silentLogger,
    });
    served[scheme].bot = bot;
    void bot.start({ timeout: 1 });
  }
  for (const channelId of ['1001', '1002'])
    await grantChannel(control.pool, { userId: String(OWNER), channelId, via: 'admin', grantedBy: null });
});

afterAll(async () => {
  for (const { fake, bot } of Object.values(served)) {
    await bot?.stop();
    await fake.stop();
  }
  await control?.close();
  await testControl?.dispose();
  await wh?.dispose();
});

describe('/dashboard with an https public URL', () => {
  it('gives a private chat the Mini App button, opening the API root', async () => {
    const reply = await ask(served.https.fake, OWNER, '/dashboard');
    expect(reply.status).toBe(200);
    expect(buttonsOf(reply)).toEqual([{ text: 'Open the dashboard', web_app: { url: 'https://tgpulse.example/' } }]);
    expect(reply.params.text).toMatch(/your 2 channels/);
  });

  it('tells a user without grants how to get a channel, and still gives the button', async () => {
    const reply = await ask(served.https.fake, STRANGER, '/dashboard');
    expect(reply.params.text).toMatch(/No channel is granted to you yet.*\/verify.*\/track/);
    expect(buttonsOf(reply)).toHaveLength(1);
  });

  it('in a group, where Telegram shows no Mini App buttons, points to a private chat with the bot', async () => {
    const reply = await ask(served.https.fake, OWNER, '/dashboard', GROUP);
    expect(reply.status).toBe(200);
    expect(buttonsOf(reply)).toEqual([]);
    expect(reply.params.text).toContain(`href="https://t.me/${BOT_USER.username}"`);
  });
});

describe('/dashboard with an http public URL', () => {
  it('says Mini Apps need https and gives the plain link instead of a button', async () => {
    const reply = await ask(served.http.fake, OWNER, '/dashboard');
    expect(reply.status).toBe(200);
    expect(buttonsOf(reply)).toEqual([]);
    expect(reply.params.text).toMatch(/only from https addresses/);
    expect(reply.params.text).toContain('<a href="http://127.0.0.1:8080/">http://127.0.0.1:8080/</a>');
  });
});

describe('the command menu and /help', () => {
  it('list /dashboard', async () => {
    const { fake, bot } = served.https;
    await registerCommands(bot as Bot<BotContext>);
    const menu = fake.sent('setMyCommands').at(-1)?.params.commands as Array<{ command: string }>;
    expect(menu.map((c) => c.command)).toContain('dashboard');
    expect((await ask(fake, OWNER, '/help')).params.text).toContain('/dashboard');
  });
});
