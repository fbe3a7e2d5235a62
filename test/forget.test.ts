/**
 * `tgpulse channels forget` on data the real pipeline produced (simulated
 * channels through NATS, processors and sinks into the warehouse) and a
 * control plane that names the channel everywhere it can: afterwards no column
 * of any warehouse table and no control-plane row holds the id, the API
 * answers 404, the bot no longer lists it, the processors' checkpoints no
 * longer hold its state, and its new events are dropped and counted. Added
 * again with `tgpulse channels add`, it starts clean, even when the sinks
 * write the streams again from the start.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import type { TelegramClient } from 'telegram';
import type { Bot } from 'grammy';
import { startApiServer, type ApiServer } from '../api/server.ts';
import { createBot, registerCommands, type BotContext } from '../bot/bot.ts';
import type { CliIo } from '../cli/commands/cli-io.ts';
import { runChannels } from '../cli/commands/channels.ts';
import { loadConfig, type TgpulseConfig } from '../cli/config.ts';
import { HOUR_MS } from '../common/index.ts';
import { openControlPlane, type ControlPlane } from '../control/postgres.ts';
import { freshTestControl, type TestControl } from '../control/testing.ts';
import { getChannel } from '../control/tracked-channels.ts';
import { silentLogger } from '../observability/log.ts';
import { rewindSinks } from '../sinks/clickhouse/rewind.ts';
import { eventId, partitionOf } from '../streams/contract/ids.ts';
import type { RawEvent } from '../streams/contract/events.ts';
import { membersEvent, postCountersEvent, postEvent } from '../sinks/clickhouse/encoder.fixtures.ts';
import { fillControlPlane, GRANTED_USER, type ControlData } from './support/control-data.ts';
import { FakeBotApi } from './support/fake-bot-api.ts';
import { FakeTelegram, madeUpSession } from './support/fake-telegram.ts';
import { produceReadSideData, type ReadSideData } from './support/read-side.ts';
import { controlMentions, warehouseMentions } from './support/scan.ts';
import { fakeBotConfig } from './support/test-bot.ts';
import { until } from './support/until.ts';

const START = Date.UTC(2026, 2, 2);
const ADMIN = 500;
const KEY_HEX = randomBytes(32).toString('hex');

let data: ReadSideData;
let testControl: TestControl;
let control: ControlPlane;
let filled: ControlData;
let api: ApiServer;
let fake: FakeBotApi;
let bot: Bot<BotContext>;
let config: TgpulseConfig;
const tg = new FakeTelegram();
const clients: TelegramClient[] = [];
/** The channel forgotten, another one, and a channel of the same partition that is not simulated. */
let forgotten: string;
let other: string;
let neighbour: string;

/** What a command printed. */
function capture(): CliIo & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    out: (text: string) => void (io.stdout += text),
    err: (text: string) => void (io.stderr += text),
  };
  return io;
}

async function channels(argv: string[], confirm?: (question: string) => Promise<string | null>) {
  const io = capture();
  const connect = async () => {
    const client = await tg.client({ account: `acc${clients.length}` });
    clients.push(client);
    return client;
  };
  const code = await runChannels(argv, config, { io, control: control.pool, log: silentLogger, connect, confirm });
  return { code, stdout: io.stdout, stderr: io.stderr };
}

function get(path: string, token = filled.keys.all.token): Promise<Response> {
  return fetch(`${api.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
}

/** What the bot answers `text` from `user`. */
async function ask(user: number, text: string): Promise<string> {
  const before = fake.delivered(user).length;
  fake.say(user, text);
  const reply = await fake.waitFor(() => fake.delivered(user)[before]);
  return String(reply.params.text ?? '');
}

/** A post of `channel` (the encoder fixture's) with its counters an hour later, and a member count: new ids every call. */
let made = 0;
function eventsOf(channel: string, at: number): RawEvent[] {
  const postId = 900_000 + ++made;
  const post = postEvent({ post_id: postId, date: at, forward_from: null }, eventId('post', channel, postId));
  const counters = postCountersEvent(50, at + HOUR_MS, eventId('pc', channel, postId, at + HOUR_MS));
  const members = membersEvent(1234 + made, at, eventId('cm', channel, at + made));
  return [
    { ...post, channel_id: channel, event_time: at, observed_at: at + 60_000 },
    {
      ...counters,
      channel_id: channel,
      observed_at: at + HOUR_MS,
      data: { ...counters.data, post_id: postId, post_date: at },
    },
    { ...members, channel_id: channel, observed_at: at },
  ];
}

/** Publishes events (one publish: events of one partition share batches) and waits for the pipeline. */
async function publish(events: RawEvent[]): Promise<void> {
  await data.pipe.publisher.publish(events);
  await data.pipe.publisher.flush();
  await data.pipe.waitIdle();
}

async function dropped(stage: string): Promise<number> {
  const metric = await data.pipe.ctx.metrics.forgottenDropped.get();
  return metric.values.find((v) => v.labels.stage === stage)?.value ?? 0;
}

/** Post ids of a channel in the raw posts. */
async function rawPostIds(channel: string): Promise<number[]> {
  const rows = await data.pipe.warehouse.query<{ post_id: number }>(
    'SELECT DISTINCT post_id FROM raw_posts WHERE channel_id = {c:String} ORDER BY post_id',
    { c: channel },
  );
  return rows.map((r) => Number(r.post_id));
}

/** The keys of the checkpoint bucket (partition states, leases, the register) whose key or value names the channel. */
async function checkpointsNaming(channel: string): Promise<string[]> {
  const kv = data.pipe.nats.kv;
  const names = new RegExp(`(^|[^0-9])${channel}([^0-9]|$)`);
  const found: string[] = [];
  for await (const key of await kv.keys()) {
    const e = await kv.get(key);
    if (names.test(key) || (e?.operation === 'PUT' && names.test(e.string()))) found.push(key);
  }
  return found.sort();
}

beforeAll(async () => {
  data = await produceReadSideData({ channels: 3, days: 4, seed: 41, start: START });
  [forgotten, other] = data.channels;
  const partitions = data.pipe.config.streams.partitions;
  neighbour = String(
    Array.from({ length: 100 }, (_, i) => 1_009_000_000 + i).find(
      (id) => partitionOf(String(id), partitions) === partitionOf(forgotten, partitions),
    ),
  );
  testControl = await freshTestControl('embedded');
  control = await openControlPlane(testControl.config);
  filled = await fillControlPlane(control.pool, data.channels, {
    phone: '+491510000042',
    session: await madeUpSession(),
    key: Buffer.from(KEY_HEX, 'hex'),
  });
  config = loadConfig({
    ...testControl.env,
    ...data.pipe.env,
    TGPULSE_TG_API_ID: '12345',
    TGPULSE_TG_API_HASH: '0123456789abcdef0123456789abcdef',
    TGPULSE_SESSION_KEY: KEY_HEX,
  });
  api = await startApiServer({
    warehouse: data.pipe.warehouse,
    control,
    controlConfig: testControl.config,
    config: { host: '127.0.0.1', port: 0, ratePerMinute: 10_000, cacheSeconds: 0, maxRangeDays: 400, corsOrigins: [] },
    log: silentLogger,
    registry: new Registry(),
    now: () => data.end + HOUR_MS,
  });
  fake = new FakeBotApi();
  await fake.start();
  bot = createBot({
    config: fakeBotConfig(fake, [ADMIN]),
    warehouse: data.pipe.warehouse,
    control: control.pool,
    shareSecret: Buffer.alloc(32),
    log: silentLogger,
    now: () => data.end + HOUR_MS,
  });
  await registerCommands(bot);
  void bot.start({ timeout: 1 });
  // A batch of two channels of one partition: no purge can take it out of TG_RAW.
  await publish([...eventsOf(forgotten, data.end - 2 * HOUR_MS), ...eventsOf(neighbour, data.end - 2 * HOUR_MS)]);
}, 600_000);

afterAll(async () => {
  await bot?.stop();
  await fake?.stop();
  await api?.close();
  for (const c of clients) await FakeTelegram.close(c);
  await control?.close();
  await testControl?.dispose();
  await data?.close();
});

describe('tgpulse channels forget', () => {
  it('finds the channel everywhere before', async () => {
    const tables = new Set((await warehouseMentions(data.pipe.warehouse, forgotten)).map((m) => m.table));
    for (const t of ['raw_posts', 'raw_channel_stats', 'post_deltas', 'window_aggs', 'channel_daily', 'post_summary'])
      expect(tables).toContain(t);
    expect((await controlMentions(control.pool, forgotten)).length).toBeGreaterThan(8);
    expect((await get(`/v1/channels/${forgotten}/overview`)).status).toBe(200);
    expect((await get(`/v1/share/${filled.shares[forgotten]}`)).status).toBe(200);
    expect(await ask(ADMIN, '/channels')).toContain(forgotten);
    expect(await ask(Number(GRANTED_USER), '/channels')).toContain(forgotten);
    expect((await checkpointsNaming(forgotten)).length).toBeGreaterThan(0);
  });

  it('changes nothing unless confirmed, or for a name it does not know', async () => {
    const refused = await channels(['forget', forgotten], async () => null);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--yes');
    const asked: string[] = [];
    const mistyped = await channels(['forget', forgotten], async (question) => {
      asked.push(question);
      return `${forgotten}0`;
    });
    expect(mistyped).toMatchObject({ code: 1, stderr: expect.stringContaining('not confirmed') });
    expect(asked[0]).toContain(`channel ${forgotten} (@pulse_channel_0)`);
    expect(await channels(['forget', '@nobody_here', '--yes'])).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('forget a channel by its id'),
    });
    expect(await getChannel(control.pool, forgotten)).not.toBeNull();
    expect((await warehouseMentions(data.pipe.warehouse, forgotten)).length).toBeGreaterThan(0);
  });

  it('erases it from every warehouse table and every control-plane table, and says what remains', async () => {
    const forget = await channels(['forget', '@pulse_channel_0', '--yes']);
    expect(forget.stderr).toBe('');
    expect(forget.code).toBe(0);
    expect(forget.stdout).toContain(`forgetting channel ${forgotten} (@pulse_channel_0)`);
    expect(forget.stdout).toMatch(/purged [1-9][0-9]* messages of its own from TG_RAW/);
    expect(forget.stdout).toMatch(/raw_posts +[1-9]/);
    expect(forget.stdout).toContain("until the streams' max age (7 days) removes them");
    expect(forget.stdout).toContain('audit: channel.forget of sha256:');

    expect(await warehouseMentions(data.pipe.warehouse, forgotten)).toEqual([]);
    expect(await controlMentions(control.pool, forgotten)).toEqual([]);
    // The other channel keeps the post it forwarded from the forgotten one, without the mention.
    const [post] = await data.pipe.warehouse.query<{ forward_from_channel_id: string | null }>(
      'SELECT forward_from_channel_id FROM raw_posts WHERE channel_id = {c:String} AND post_id = {p:UInt32}',
      { c: other, p: data.forwarded.post_id },
    );
    expect(post).toEqual({ forward_from_channel_id: null });
  });

  it('is unknown to the API and the bot', async () => {
    expect((await get(`/v1/channels/${forgotten}/overview`)).status).toBe(404);
    expect((await get(`/v1/share/${filled.shares[forgotten]}`)).status).toBe(404);
    const listed = (await (await get('/v1/channels')).json()) as { data: Array<{ channel_id: string }> };
    expect(listed.data.map((c) => c.channel_id)).toEqual(data.channels.slice(1));
    // The key that read only the forgotten channel now reads nothing.
    expect((await get(`/v1/channels/${other}/overview`, filled.keys.byChannel[forgotten].token)).status).toBe(403);
    expect(await ask(ADMIN, '/channels')).not.toContain(forgotten);
    expect(await ask(Number(GRANTED_USER), '/channels')).not.toContain(forgotten);
  });

  it('leaves no state of it in the processors’ checkpoints', async () => {
    let naming: string[] = [];
    await until(
      'the checkpoints no longer name the channel',
      async () => (naming = await checkpointsNaming(forgotten)).length === 0,
      30_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}: ${naming.join(', ')}`);
    });
  });

  it('drops and counts its new events, in its own messages and in batches shared with another channel', async () => {
    const before = { process: await dropped('process'), sink: await dropped('sink_raw') };
    await publish(eventsOf(forgotten, data.end - HOUR_MS));
    await publish([...eventsOf(forgotten, data.end - HOUR_MS), ...eventsOf(neighbour, data.end - HOUR_MS)]);
    expect(await dropped('process')).toBe(before.process + 6);
    expect(await dropped('sink_raw')).toBe(before.sink + 6);
    expect(await warehouseMentions(data.pipe.warehouse, forgotten)).toEqual([]);
    expect(await rawPostIds(neighbour)).toHaveLength(2);
  });

  it('starts clean when added again, even when the sinks write the streams again from the start', async () => {
    tg.addChannel({ id: forgotten, username: 'pulse_channel_0', title: 'Channel 0', members: 900 });
    const added = await channels(['add', '@pulse_channel_0']);
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    expect(added.stdout).toContain('it was forgotten on');
    expect((await channels(['add', '@pulse_channel_0'])).stdout).not.toContain('it was forgotten on');
    expect(await getChannel(control.pool, forgotten)).toMatchObject({
      backfillOffsetId: null,
      backfillUntil: null,
      pts: null,
      lastPostId: null,
    });

    const fresh = eventsOf(forgotten, data.end);
    await publish(fresh);
    const freshPost = (fresh[0] as Extract<RawEvent, { kind: 'post' }>).data.post_id;
    expect(await rawPostIds(forgotten)).toEqual([freshPost]);
    // Its first counters are a first observation, not a delta on what it had before the forget.
    const deltas = await data.pipe.warehouse.query<{ post_id: number }>(
      'SELECT DISTINCT post_id FROM post_deltas WHERE channel_id = {c:String}',
      { c: forgotten },
    );
    expect(deltas.map((d) => Number(d.post_id))).toEqual([freshPost]);

    const droppedBefore = await dropped('sink_raw');
    await data.pipe.stopRoles();
    await rewindSinks(data.pipe.nats.jsm, data.pipe.config.streams, ['raw', 'derived', 'dlq']);
    data.pipe.startRoles();
    await data.pipe.waitIdle(300_000);
    expect(await rawPostIds(forgotten)).toEqual([freshPost]);
    // The shared batches published before the re-add still hold its events: dropped again.
    expect(await dropped('sink_raw')).toBeGreaterThanOrEqual(droppedBefore + 6);
    expect(await rawPostIds(neighbour)).toHaveLength(2);
  });
});
