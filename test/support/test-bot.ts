/** The bot's configuration against a fake Bot API, as the bot tests run it. */
import type { BotConfig } from '../../bot/config.ts';
import type { FakeBotApi } from './fake-bot-api.ts';

/** Long polling the fake, with these admins and share links under tgpulse.example. */
export function fakeBotConfig(fake: FakeBotApi, admins: number[]): BotConfig {
  return {
    token: fake.token,
    apiRoot: fake.url,
    admins: admins.map(String),
    mode: 'polling',
    webhookSecret: null,
    publicApiUrl: 'https://tgpulse.example',
    maxSendsPerSecond: 25,
  };
}
