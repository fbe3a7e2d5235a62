/**
 * The fake Bot API answers grammY like Telegram does: long polling delivers
 * updates, uploads arrive as files, and scripted failures come back as
 * GrammyErrors with Telegram's codes and retry_after.
 */
import { Bot, GrammyError, InputFile } from 'grammy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeBotApi } from '../test/support/fake-bot-api.ts';

const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');

describe('fake Bot API with grammY', () => {
  const fake = new FakeBotApi();
  let bot: Bot;

  beforeAll(async () => {
    await fake.start();
    bot = new Bot(fake.token, { client: { apiRoot: fake.url } });
    bot.command('start', (ctx) => ctx.reply(`hello <b>${ctx.from?.id}</b>`, { parse_mode: 'HTML' }));
    void bot.start({ timeout: 1, drop_pending_updates: false });
  });

  afterAll(async () => {
    await bot.stop();
    await fake.stop();
  });

  it('delivers commands by long polling and records the replies', async () => {
    fake.say(42, '/start');
    const [reply] = await fake.waitFor(() => fake.delivered(42).length > 0 && fake.delivered(42));
    expect(reply.params).toMatchObject({ chat_id: 42, text: 'hello <b>42</b>', parse_mode: 'HTML' });
  });

  it('receives uploads as files', async () => {
    await bot.api.sendPhoto(43, new InputFile(PNG, 'chart.png'), { caption: 'a chart' });
    const [photo] = fake.sent('sendPhoto', 43);
    expect(photo.params.caption).toBe('a chart');
    expect(photo.files.photo.equals(PNG)).toBe(true);
  });

  it('fails as scripted: 429 with retry_after, 403 for a blocked chat', async () => {
    fake.fail({
      method: 'sendMessage',
      chatId: '44',
      status: 429,
      description: 'Too Many Requests: retry after 3',
      retryAfter: 3,
      times: 1,
    });
    const limited = await bot.api.sendMessage(44, 'x').catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(GrammyError);
    expect([(limited as GrammyError).error_code, (limited as GrammyError).parameters.retry_after]).toEqual([429, 3]);
    fake.block('45');
    const blocked = await bot.api.sendMessage(45, 'x').catch((e: unknown) => e);
    expect((blocked as GrammyError).error_code).toBe(403);
    expect(await bot.api.sendMessage(44, 'y')).toMatchObject({ text: 'y' });
  });
});
