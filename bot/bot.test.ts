/**
 * The bot as a Telegram user meets it: grammY long-polls a local fake of the
 * Bot API, users type commands and press buttons, and the replies are read
 * from what the fake received. Figures come from data the pipeline produced
 * (simulated channels through NATS, processors and sinks into chDB) and are
 * checked against the read models the API serves, and one against the raw
 * tables; access lives in an embedded control plane.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Warehouse } from '../clickhouse/warehouse.ts';
import { toChTime } from '../clickhouse/values.ts';
import { grantChannel, grantedChannels } from '../control/bot-store.ts';
import { openControlPlane, type ControlPlane } from '../control/postgres.ts';
import { resolveShareToken, shareSecret } from '../control/share-links.ts';
import { freshTestControl, type TestControl } from '../control/testing.ts';
import { upsertChannel } from '../control/tracked-channels.ts';
import { silentLogger } from '../observability/log.ts';
import { channelAnomalies } from '../read/models/anomalies.ts';
import { answerMeta, channelFreshness } from '../read/models/freshness.ts';
import { overview } from '../read/models/overview.ts';
import { alignPeriod } from '../read/models/period.ts';
import { topPostsBy } from '../read/models/posts.ts';
import { activitySeries } from '../read/models/series.ts';
import { FakeBotApi, type BotApiCall } from '../test/support/fake-bot-api.ts';
import { expectWellFormedHtml } from '../test/support/telegram-html.ts';
import { fakeBotConfig } from '../test/support/test-bot.ts';
import { HOSTILE_MENTION, produceReadSideData, type ReadSideData } from '../test/support/read-side.ts';
import { DAY_MS, HOUR_MS } from '../common/index.ts';
import { createBot, registerCommands, type BotContext } from './bot.ts';
import type { Bot } from 'grammy';
import { exportFile } from './commands/export.ts';
import { compact, html, percent } from './format.ts';

const START = Date.UTC(2026, 2, 2);
const ADMIN = 500;
const OWNER = 501;
/** A channel id the warehouse answers with an error: the bot must apologise, not leak it. */
const BROKEN_CHANNEL = '4242424242';

let data: ReadSideData;
let wh: Warehouse;
let testControl: TestControl;
let control: ControlPlane;
let fake: FakeBotApi;
let bot: Bot<BotContext>;
let secret: Buffer;
let clock: number;
let channels: string[];
/** Users get fresh ids per spec, so no spec depends on another's grants. */
let nextUser = 600;
const newUser = () => nextUser++;

/** Sends `text` as `user` and returns the bot's next delivered message. */
async function ask(user: number, text: string): Promise<BotApiCall> {
  const before = fake.delivered(user).length;
  fake.say(user, text);
  return fake.waitFor(() => fake.delivered(user)[before]);
}

/** The text of a delivered message, photo or document. */
function textOf(call: BotApiCall): string {
  return String(call.params.text ?? call.params.caption ?? '');
}

async function askText(user: number, text: string): Promise<string> {
  const reply = textOf(await ask(user, text));
  expectWellFormedHtml(reply);
  return reply;
}

/** Posts published in [from, to) of a channel and not deleted, counted from the raw tables alone. */
async function rawPostCount(c: string, from: number, to: number): Promise<number> {
  const [row] = await wh.query<{ n: string }>(
    `SELECT uniqExact(post_id) AS n FROM raw_posts FINAL
     WHERE channel_id = {c:String} AND date >= {from:DateTime64(3, 'UTC')} AND date < {to:DateTime64(3, 'UTC')}
       AND post_id NOT IN (SELECT arrayJoin(post_ids) FROM raw_post_deleted FINAL WHERE channel_id = {c:String})`,
    { c, from: toChTime(from), to: toChTime(to) },
  );
  return Number(row.n);
}

beforeAll(async () => {
  data = await produceReadSideData({ channels: 3, days: 14, seed: 23, start: START });
  wh = data.pipe.warehouse;
  channels = data.channels;
  clock = data.end + HOUR_MS;
  testControl = await freshTestControl('embedded');
  control = await openControlPlane(testControl.config);
  secret = await shareSecret(control.pool);
  fake = new FakeBotApi();
  await fake.start();
  const failing: Warehouse = {
    driver: wh.driver,
    query: <T>(sql: string, params?: Record<string, unknown>) =>
      params?.channel_id === BROKEN_CHANNEL
        ? Promise.reject(new Error('disk on fire at /var/lib/chdb'))
        : wh.query<T>(sql, params),
    exec: (sql, params) => wh.exec(sql, params),
    insertRows: (table, rows, opts) => wh.insertRows(table, rows, opts),
    startInsert: (table) => wh.startInsert(table),
    sendInsert: (insert, opts) => wh.sendInsert(insert, opts),
    ping: () => wh.ping(),
    // The pipeline owns the warehouse and closes it.
    close: async () => undefined,
  };
  bot = createBot({
    config: fakeBotConfig(fake, [ADMIN]),
    warehouse: failing,
    control: control.pool,
    shareSecret: secret,
    log: silentLogger,
    now: () => clock,
  });
  await registerCommands(bot);
  void bot.start({ timeout: 1 });
  await grantChannel(control.pool, {
    userId: String(OWNER),
    channelId: channels[0],
    via: 'admin',
    grantedBy: String(ADMIN),
  });
  await grantChannel(control.pool, {
    userId: String(OWNER),
    channelId: channels[1],
    via: 'admin',
    grantedBy: String(ADMIN),
  });
});

afterAll(async () => {
  await bot?.stop();
  await fake?.stop();
  await control?.close();
  await testControl?.dispose();
  await data?.close();
});

describe('figures for a granted channel', () => {
  it('/overview gives the overview read model, with its period and freshness', async () => {
    const c = channels[0];
    const text = await askText(OWNER, `/overview ${c} 7d`);
    const period = { from: clock - 7 * DAY_MS, to: clock };
    const { current, previous } = await overview(wh, { channel_id: c, period });
    expect(current.posts).toBe(await rawPostCount(c, period.from, period.to));
    expect(current.posts).toBeGreaterThan(0);
    for (const line of [
      `Subscribers: <b>${compact(current.subscribers ?? 0)}</b>`,
      `Posts published: <b>${compact(current.posts)}</b>`,
      `Views gained: <b>${compact(current.views)}</b>`,
      `Views of these posts: <b>${compact(current.post_views)}</b>`,
      `Reach per post: <b>${compact(current.reach_per_post ?? 0)}</b>`,
      `ERR: <b>${percent(current.err)}</b>`,
      `Engagement rate: <b>${percent(current.engagement_rate)}</b> (previous 7 days: ${percent(previous.engagement_rate)})`,
    ]) {
      expect(text).toContain(line);
    }
    const meta = answerMeta((await channelFreshness(wh, c))!, period);
    expect(meta.window_open).toBe(true);
    expect(text).toContain(`last 7 days (${new Date(period.from).toISOString().slice(0, 16).replace('T', ' ')}`);
    expect(text).toMatch(
      /Data as of \d{4}-\d\d-\d\d \d\d:\d\d UTC from [a-z_, ]+; the latest hours are still open and may grow\./,
    );
  });

  it('/growth arrives as a PNG photo with the key figures in the caption', async () => {
    const c = channels[0];
    const reply = await ask(OWNER, `/growth ${c} 14d`);
    expect(reply.method).toBe('sendPhoto');
    expect(reply.files.photo.subarray(0, 8).equals(Buffer.from('89504e470d0a1a0a', 'hex'))).toBe(true);
    expect(reply.params.parse_mode).toBe('HTML');
    const points = await activitySeries(wh, {
      channel_id: c,
      period: alignPeriod({ from: clock - 14 * DAY_MS, to: clock }, 'day'),
      granularity: 'day',
    });
    const gained = points.reduce((n, p) => n + p.subscribers_gained, 0);
    expect(textOf(reply)).toContain(`+${compact(gained)} / −`);
    expectWellFormedHtml(textOf(reply));
  });

  it('/top lists the posts topPostsBy ranks, in its order', async () => {
    const c = channels[0];
    const text = await askText(OWNER, `/top ${c} forwards`);
    const top = await topPostsBy(wh, {
      channel_id: c,
      period: { from: clock - 30 * DAY_MS, to: clock },
      metric: 'forwards',
      limit: 10,
    });
    expect(top.length).toBeGreaterThan(0);
    expect([...text.matchAll(/>#(\d+)<\/a>/g)].map((m) => Number(m[1]))).toEqual(top.map((p) => p.post_id));
    expect(text).toContain(`<b>${compact(top[0].forwards)} forwards</b>`);
  });

  it('/export sends the daily growth series as a CSV document', async () => {
    const c = channels[1];
    const reply = await ask(OWNER, `/export ${c} 10d`);
    expect(reply.method).toBe('sendDocument');
    const lines = reply.files.document.toString('utf8').trim().split('\n');
    const points = await activitySeries(wh, {
      channel_id: c,
      period: alignPeriod({ from: clock - 10 * DAY_MS, to: clock }, 'day'),
      granularity: 'day',
    });
    expect(lines[0]).toBe('t,subscribers,subscribers_gained,subscribers_lost,views,forwards,reactions,replies,final');
    expect(lines.length - 1).toBe(points.length);
    expect(textOf(reply)).toContain(`${points.length} rows`);
    // Long series are capped to the newest rows, and the caption says so.
    const meta = answerMeta((await channelFreshness(wh, c))!, { from: clock - 10 * DAY_MS, to: clock });
    const capped = exportFile(points, { channelId: c, granularity: 'day', days: 10, meta, maxRows: 3 });
    expect(
      capped.csv
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(',')[0]),
    ).toEqual(points.slice(-3).map((p) => new Date(p.t).toISOString()));
    expect(capped.caption).toContain(`<b>Only the latest 3 of ${points.length} rows</b>`);
  });

  it('/anomalies, /besttime, /channels, /start and /help answer in well-formed HTML', async () => {
    const c = channels[0];
    // The channel with the most anomalies, asked by an admin (who sees them all).
    const period = { from: clock - 14 * DAY_MS, to: clock };
    const byChannel = await Promise.all(
      channels.map((id) => channelAnomalies(wh, { channel_id: id, period, minSeverity: 'info', limit: 16 })),
    );
    const most = byChannel.reduce((best, list, i) => (list.length > byChannel[best].length ? i : best), 0);
    const found = byChannel[most];
    expect(found.length).toBeGreaterThan(0);
    const anomalies = await askText(ADMIN, `/anomalies ${channels[most]} 14d`);
    const lines = anomalies.split('\n').filter((l) => /^[🔵🟠🔴]/u.test(l));
    expect(lines).toHaveLength(Math.min(15, found.length));
    expect(lines[0]).toContain(`<b>${compact(found[0].value)}</b>, expected ${compact(found[0].expected)}`);
    expect(await askText(OWNER, `/besttime ${c} europe/berlin`)).toContain('best time to post (Europe/Berlin)');
    await upsertChannel(control.pool, {
      channelId: channels[0],
      username: 'pulse_news',
      title: '<b>Breaking</b> & more',
      accessHash: '77',
      canViewStats: false,
      statsDc: null,
      members: null,
    });
    const listing = await askText(OWNER, '/channels');
    expect(listing).toContain(
      `<b>&lt;b&gt;Breaking&lt;/b&gt; &amp; more</b> @pulse_news · <code>${channels[0]}</code>`,
    );
    expect(listing).toContain(`\n<code>${channels[1]}</code> · `);
    expect(listing).toContain(`<code>${channels[1]}</code>`);
    expect(listing).not.toContain(channels[2]);
    expect(await askText(OWNER, '/start')).toContain(
      `Your channels: <code>${channels[0]}</code>, <code>${channels[1]}</code>.`,
    );
    const help = await askText(OWNER, '/help');
    expect(help).toContain('/export [channel] [period] [hour|day|week]');
    expect(help).not.toContain('/grant');
    expect(await askText(ADMIN, '/help')).toContain('/grant &lt;user id&gt; &lt;channel&gt;');
  });

  it('/post shows a post with hostile channel data escaped', async () => {
    const f = data.forwarded;
    const text = await askText(OWNER, `/post https://t.me/c/${f.channel_id}/${f.post_id}`);
    expect(text).toContain(`<b>Post #${f.post_id}</b> of channel ${f.channel_id}`);
    expect(text).toContain(`Views: <b>${compact(f.views)}</b>`);
    expect(text).toContain(`Forwarded from channel ${f.from_channel_id}`);
    expect(text).toContain(`Mentions: ${html(HOSTILE_MENTION)}`);
  });

  it('/share hands out a link the API resolves to the same channel and period', async () => {
    const c = channels[0];
    const text = await askText(OWNER, `/share ${c} 7d`);
    const token = /https:\/\/tgpulse\.example\/v1\/share\/([A-Za-z0-9._-]+)/.exec(text)?.[1];
    expect(token).toBeDefined();
    const resolved = await resolveShareToken(control.pool, secret, token!, clock);
    expect(resolved).toMatchObject({ ok: true, link: { channelId: c, from: clock - 7 * DAY_MS, to: clock } });
    expect(text).toContain('Anyone with this link can read the report until <b>');
  });
});

describe('who sees what', () => {
  it('a user without a grant gets a polite refusal and no figures', async () => {
    const user = newUser();
    const c = channels[0];
    const refusal = `You don't have access to channel ${c}. Ask an admin, or prove you administer it with /verify ${c}`;
    expect(await askText(user, `/overview ${c}`)).toBe(html(refusal));
    expect(await askText(user, `/top ${c}`)).toBe(html(refusal));
    expect(await askText(user, `/post ${c}/1`)).toBe(html(refusal));
    expect(await askText(user, `/alerts add ${c}`)).toBe(html(refusal));
    // Unknown channels get the same answer: a refusal does not tell what is tracked.
    expect(await askText(user, '/overview 123456789')).toBe(
      html(
        `You don't have access to channel 123456789. Ask an admin, or prove you administer it with /verify 123456789`,
      ),
    );
    expect(await askText(user, '/overview')).toContain("You don't have any channels yet.");
    expect(fake.delivered(user).every((call) => call.method === 'sendMessage')).toBe(true);
  });

  it('a granted user asking about another channel is refused', async () => {
    expect(await askText(OWNER, `/overview ${channels[2]}`)).toContain(
      `You don't have access to channel ${channels[2]}.`,
    );
  });

  it('/verify grants a channel to one of its administrators, and only to them', async () => {
    const user = newUser();
    const c = channels[2];
    expect(await askText(user, `/verify ${c}`)).toContain(
      `I couldn't read the administrators of channel ${c} (Telegram says: Bad Request: chat not found).`,
    );
    fake.setAdministrators(`-100${c}`, [1, 2]);
    expect(await askText(user, `/verify ${c}`)).toBe(
      `You're not among the administrators of channel ${c}, so I can't give you access. Ask a bot admin if you should see it.`,
    );
    fake.setAdministrators(`-100${c}`, [1, user]);
    expect(await askText(user, `/verify ${c}`)).toContain(`Verified: you administer channel ${c}`);
    expect(await grantedChannels(control.pool, String(user))).toEqual([c]);
    expect(await askText(user, `/overview ${c}`)).toContain('Posts published: <b>');
    // With a single channel, the bot does not ask which one.
    expect(await askText(user, '/overview')).toContain(`<b>Channel ${c}</b> · overview, last 30 days`);
  });

  it('an admin grants and revokes; anyone else is refused', async () => {
    const user = newUser();
    const c = channels[2];
    expect(await askText(OWNER, `/grant ${user} ${c}`)).toContain('Only bot admins can grant or revoke access.');
    expect(await grantedChannels(control.pool, String(user))).toEqual([]);
    expect(await askText(ADMIN, `/grant ${user} ${c}`)).toBe(`Granted: user ${user} may now see channel ${c}.`);
    expect(await askText(user, `/alerts add ${c} severity=critical`)).toContain('Alerts on for this chat:');
    expect(await askText(ADMIN, `/revoke ${user} ${c}`)).toBe(
      `Revoked: user ${user} no longer sees channel ${c}. 1 alert subscription of theirs to it removed.`,
    );
    expect(await askText(user, `/overview ${c}`)).toContain("You don't have access");
    expect(await askText(ADMIN, `/revoke ${user} ${c}`)).toBe(`User ${user} had no grant for channel ${c}.`);
    expect(await askText(ADMIN, `/grant ${user} nope`)).toContain('“nope” is not a channel id.');
  });

  it('admins see every channel; every sender is recorded, admins as such', async () => {
    expect(await askText(ADMIN, `/overview ${channels[2]} 30d`)).toContain('Posts published: <b>');
    const { rows } = await control.pool.query<{ user_id: string; is_admin: boolean }>(
      'SELECT user_id, is_admin FROM bot_users WHERE user_id = ANY($1) ORDER BY user_id',
      [[String(ADMIN), String(OWNER)]],
    );
    expect(rows).toEqual([
      { user_id: String(ADMIN), is_admin: true },
      { user_id: String(OWNER), is_admin: false },
    ]);
  });
});

describe('bad input gets a clear reply', () => {
  it.each([
    ['/frobnicate', "I don't know the command <code>/frobnicate</code>. These are the ones I have:"],
    ['/post https://t.me/durov/42', 'I only understand t.me/c/&lt;channel id&gt;/&lt;post&gt; links'],
    ['/post https://t.me/c/abc/1', '“https://t.me/c/abc/1” is not a post link.'],
    ['/post', 'Which post? Send its link.'],
    ['/overview <script>alert(1)</script>', "I don't understand “&lt;script&gt;alert(1)&lt;/script&gt;”."],
    ['/overview 1 2', 'Two channels given (1 and 2): ask about one at a time.'],
    [
      '/export 5000d',
      "A period spans 1 to 400 days (the API's limit too), not 5000.\nUsage: <code>/export [channel] [period] [hour|day|week]</code>",
    ],
    ['/top views&<b>', "I don't understand “views&amp;&lt;b&gt;”."],
    ['/alerts add 1 severity=<i>', 'Severity is one of info, warning, critical.'],
    ['hello?', 'Send /help to see what I can do.'],
  ])('%s', async (text, expected) => {
    expect(await askText(OWNER, text)).toContain(expected);
  });

  it('a post the warehouse does not know', async () => {
    expect(await askText(OWNER, `/post ${channels[0]}/999999`)).toBe(
      `I don't know post #999999 of channel ${channels[0]}: it may be older than the data I have, or not published.`,
    );
  });

  it('a failure inside gets an apology, never the error', async () => {
    const text = await askText(ADMIN, `/overview ${BROKEN_CHANNEL}`);
    expect(text).toBe('Sorry, something went wrong on my side. Please try again in a minute.');
    // The bot goes on answering.
    expect(await askText(ADMIN, '/help')).toContain('<b>Commands</b>');
  });
});

describe('inline keyboards', () => {
  it("/overview without a channel offers the user's channels; a press answers for that channel", async () => {
    const keyboard = await ask(OWNER, '/overview 7d');
    expect(textOf(keyboard)).toBe('Which channel?');
    const buttons = (
      keyboard.params.reply_markup as { inline_keyboard: Array<Array<{ text: string; callback_data: string }>> }
    ).inline_keyboard.flat();
    expect(buttons.map((b) => [b.text, b.callback_data])).toEqual([
      [channels[0], `ov:${channels[0]}:7d`],
      [channels[1], `ov:${channels[1]}:7d`],
    ]);
    const before = fake.delivered(OWNER).length;
    const answered = fake.sent('answerCallbackQuery').length;
    fake.press(OWNER, buttons[1].callback_data, 1);
    const reply = await fake.waitFor(() => fake.delivered(OWNER)[before]);
    expect(fake.sent('answerCallbackQuery').length).toBe(answered + 1);
    const text = textOf(reply);
    expectWellFormedHtml(text);
    const { current } = await overview(wh, {
      channel_id: channels[1],
      period: { from: clock - 7 * DAY_MS, to: clock },
    });
    expect(text).toContain(`<b>Channel ${channels[1]}</b> · overview, last 7 days`);
    expect(text).toContain(`Posts published: <b>${compact(current.posts)}</b>`);
    // Under the answer: the other periods.
    const periods = (
      reply.params.reply_markup as { inline_keyboard: Array<Array<{ callback_data: string }>> }
    ).inline_keyboard.flat();
    expect(periods.map((b) => b.callback_data)).toEqual([7, 30, 90].map((d) => `ov:${channels[1]}:${d}d`));
  });

  it('a period button of a chart answers with the chart over that period', async () => {
    const before = fake.delivered(OWNER).length;
    fake.press(OWNER, `gr:${channels[0]}:7d`, 1);
    const reply = await fake.waitFor(() => fake.delivered(OWNER)[before]);
    expect(reply.method).toBe('sendPhoto');
    expect(textOf(reply)).toContain('growth, last 7 days');
  });

  it("stale, forged and other people's buttons get a polite answer and no data", async () => {
    const user = newUser();
    const pressed = async (data: string) => {
      const n = fake.sent('answerCallbackQuery').length;
      fake.press(user, data, 1);
      return (await fake.waitFor(() => fake.sent('answerCallbackQuery')[n])).params;
    };
    expect(await pressed('ov:1001234567')).toMatchObject({
      text: 'This button is out of date: send the command again.',
    });
    expect(await pressed('zz:1:7d')).toMatchObject({ text: 'This button is out of date: send the command again.' });
    expect(await pressed(`ov:${channels[0]}:9999d`)).toMatchObject({
      text: 'This button is out of date: send the command again.',
    });
    expect(await pressed(`ov:${channels[0]}:7d`)).toMatchObject({
      text: expect.stringContaining(`You don't have access to channel ${channels[0]}.`),
      show_alert: true,
    });
    expect(fake.delivered(user)).toEqual([]);
  });
});

describe('alerts and the command menu', () => {
  it('/alerts adds, lists and removes a subscription of this chat', async () => {
    const c = channels[1];
    expect(await askText(OWNER, '/alerts')).toContain('No alerts in this chat yet.');
    const added = await askText(
      OWNER,
      `/alerts add ${c} severity=critical metrics=views,subscribers_lost quiet=22-7 tz=Europe/Berlin max=5`,
    );
    expect(added).toContain(
      `• Channel <b>${c}</b>: critical and above · views, subscribers lost · quiet 22–7 Europe/Berlin · at most 5 an hour`,
    );
    expect(await askText(OWNER, '/alerts')).toContain(`• Channel <b>${c}</b>: critical and above`);
    expect(await askText(OWNER, `/alerts remove ${c}`)).toBe(`Alerts of channel ${c} stopped in this chat.`);
    expect(await askText(OWNER, `/alerts remove ${c}`)).toBe(`This chat had no alerts of channel ${c}.`);
  });

  it('registers the menu without the admin commands', () => {
    const [call] = fake.sent('setMyCommands');
    const names = (call.params.commands as Array<{ command: string }>).map((c) => c.command);
    expect(names).toContain('overview');
    expect(names).toContain('alerts');
    expect(names).not.toContain('grant');
  });
});
