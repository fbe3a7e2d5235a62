/**
 * Test support for the MTProto collectors: a control plane with accounts and
 * tracked channels, a real TelegramClient per account wired to a
 * {@link FakeTelegram}, and a {@link Collector} over them on a fake clock.
 * Events go wherever `emit` sends them: an array, or the real publisher.
 */
import { fnv1a32 } from '../../common/index.ts';
import { FakeClock } from './fake-time.ts';
import { randomBytes } from 'node:crypto';
import { Registry } from 'prom-client';
import { addAccount } from '../../control/mtproto-accounts.ts';
import { upsertChannel } from '../../control/tracked-channels.ts';
import type { ControlPlane } from '../../control/postgres.ts';
import { encryptSession } from '../../control/session-crypto.ts';
import { AccountSession } from '../../ingest/mtproto/account.ts';
import { Collector } from '../../ingest/mtproto/collector.ts';
import { CollectorMetrics } from '../../ingest/mtproto/metrics.ts';
import type { JoinPolicy } from '../../ingest/mtproto/membership.ts';
import { DEFAULT_COLLECTOR_SCHEDULE } from '../../ingest/mtproto/config.ts';
import type { CollectorSchedule, Emit } from '../../ingest/mtproto/work.ts';
import type { RawEvent } from '../../streams/contract/events.ts';
import { createLogger } from '../../observability/log.ts';
import { FakeTelegram, type FakeChannel } from './fake-telegram.ts';

export const TEST_SCHEDULE: CollectorSchedule = DEFAULT_COLLECTOR_SCHEDULE;

export interface CollectorHarness {
  tg: FakeTelegram;
  collector: Collector;
  accounts: AccountSession[];
  /** Everything emitted, in order (also when `emit` forwards to NATS). */
  events: RawEvent[];
  deadLetters: Array<{ channelId: string; what: string; detail: string; payload: string }>;
  metrics: CollectorMetrics;
  registry: Registry;
  /** The fake clock (epoch ms); `advance` moves it and the fake Telegram's `now`. */
  clock: FakeClock;
  /** One collector pass, waiting for the jobs it started. */
  step(): Promise<void>;
  /** Waits until pushed updates were dispatched by gramjs and their jobs finished. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  control: ControlPlane;
  tg: FakeTelegram;
  /** Account labels; each becomes a control-plane account and a fake client. */
  accounts: string[];
  /** Channels of the fake to register as tracked. */
  channels: FakeChannel[];
  /** Where events go besides the `events` array. */
  forward?: Emit;
  schedule?: Partial<CollectorSchedule>;
  holder?: string;
  channelsPerAccount?: number;
  /** Joining channels (off unless given). */
  join?: JoinPolicy;
}

/**
 * A collector over the fake Telegram. Accounts are stored sealed like
 * `tgpulse login` stores them; the clients are wired to the fake.
 */
export async function startCollectorHarness(opts: HarnessOptions): Promise<CollectorHarness> {
  const { control, tg } = opts;
  const key = randomBytes(32);
  const clock = new FakeClock(tg.now * 1000, (now) => {
    tg.now = Math.floor(now / 1000);
  });
  const registry = new Registry();
  const metrics = new CollectorMetrics(registry);
  const log = createLogger(process.env.TGPULSE_TEST_LOG ?? 'silent');
  const accounts: AccountSession[] = [];
  for (const [i, label] of opts.accounts.entries()) {
    const phone = `+1555${String(fnv1a32(label + (opts.holder ?? '')) % 10_000_000)
      .padStart(7, '0')
      .slice(0, 7)}${i}`;
    const stored = await addAccount(control.pool, {
      phone,
      sealSession: (id) => encryptSession('fake-session', key, id),
      userId: String(1000 + i),
    });
    const client = await tg.client({ account: label });
    accounts.push(
      new AccountSession({
        accountId: stored.id,
        client,
        log,
        metrics,
        clock: () => clock.now,
        sleep: (ms) => clock.sleep(ms),
      }),
    );
    labels.set(stored.id, label);
  }
  for (const ch of opts.channels) {
    await upsertChannel(control.pool, {
      channelId: ch.id,
      username: ch.username ?? null,
      title: ch.title,
      accessHash: ch.accessHash,
      canViewStats: ch.canViewStats,
      statsDc: null,
      members: ch.members,
    });
  }
  const events: RawEvent[] = [];
  const deadLetters: CollectorHarness['deadLetters'] = [];
  const collector = new Collector({
    holder: opts.holder,
    accounts,
    control: control.pool,
    emit: async (job, batch, readAt) => {
      events.push(...batch);
      await opts.forward?.(job, batch, readAt);
    },
    deadLetter: async (channelId, what, detail, payload) => {
      deadLetters.push({ channelId, what, detail, payload });
    },
    schedule: { ...TEST_SCHEDULE, ...opts.schedule },
    leaseTtlMs: 60_000,
    channelsPerAccount: opts.channelsPerAccount ?? 100,
    join: opts.join,
    tickMs: 1000,
    log,
    metrics,
    clock: () => clock.now,
  });
  return {
    tg,
    collector,
    accounts,
    events,
    deadLetters,
    metrics,
    registry,
    clock,
    async step() {
      await collector.step();
      await collector.idle();
    },
    async settle() {
      // gramjs dispatches updates asynchronously (it may call getMe first): give it a few turns.
      for (let quiet = 0; quiet < 3; ) {
        await new Promise((r) => setTimeout(r, 10));
        const busy = tg.requests.length;
        await collector.idle();
        quiet = tg.requests.length === busy ? quiet + 1 : 0;
      }
    },
    async close() {
      await collector.idle();
      for (const a of accounts) await FakeTelegram.close(a.client);
    },
  };
}

/** Account label of a control-plane account id (for reading the fake's request log). */
export const labels = new Map<string, string>();
