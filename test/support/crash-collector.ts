/**
 * An MTProto collector in a child process, so the crash test can SIGKILL it.
 * The fake Telegram lives at gramjs's sender layer, inside the collector's
 * process: a crash takes the fake world down with it. So the world is a pure
 * function of the step number ({@link collectorWorld}), rebuilt the same on
 * every start, and the clock is a fake one at the step's time; what survives a
 * kill is what a real collector keeps: the control plane (cursors, leases) and
 * what it published to NATS.
 *
 * Run as `node --import tsx crash-collector.ts <natsUrl> <controlUrl> <fromStep>`: the
 * control plane is a Postgres the test serves, so a restart takes no store start.
 * It reads step numbers on stdin, one a line (the test paces it, so a kill can
 * land mid-step), and answers `done <step>` once that step's events are acked
 * by JetStream.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { dieWithParent } from '../../clickhouse/local-server/child.ts';
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { addAccount, listAccounts } from '../../control/mtproto-accounts.ts';
import { openControlPlane } from '../../control/postgres.ts';
import { encryptSession } from '../../control/session-crypto.ts';
import { upsertChannel } from '../../control/tracked-channels.ts';
import { AccountSession } from '../../ingest/mtproto/account.ts';
import { Collector, emitVia } from '../../ingest/mtproto/collector.ts';
import { silentLogger } from '../../observability/log.ts';
import { defaultStreamsConfig } from '../../streams/config.ts';
import { EventPublisher } from '../../streams/publisher.ts';
import { FakeClock } from './fake-time.ts';
import { FakeTelegram, type FakeChannel } from './fake-telegram.ts';
import { TEST_SCHEDULE } from './mtproto.ts';
import type { RoleProcess } from './roles.ts';

/**
 * Channel ids whose partitions (fnv-1a mod 8: 5, 2, 7) no channel of the
 * simulated input uses, so their watermarks never move the input's windows.
 */
export const COLLECTOR_CHANNELS = ['1900000002', '1900000003', '1900000008'];
/** Steps after the first pass (history); each moves the clock 15 minutes. */
export const COLLECTOR_STEPS = 12;
const STEP_MS = 15 * 60_000;
const HISTORY_POSTS = 20;
/** The step at which a post appears that only getChannelDifference can find. */
const NEW_POST_STEP = 4;
const START_S = Math.floor(Date.UTC(2026, 4, 10) / 1000);

/** The posts whose counters change: the two newest of the history. */
export function changingPosts(ch: FakeChannel): number[] {
  return [...ch.posts.keys()].filter((id) => id <= HISTORY_POSTS).slice(-2);
}

/**
 * The fake world after `step` steps: history, then for the first eight steps
 * views and reactions growing on the changing posts and members joining, and
 * one new post on the second channel.
 */
export function collectorWorld(step: number): { tg: FakeTelegram; channels: FakeChannel[] } {
  const tg = new FakeTelegram();
  tg.now = START_S;
  const channels = COLLECTOR_CHANNELS.map((id, i) => {
    const ch = tg.addChannel({ id, username: `crash_collector_${i}`, members: 5_000 * (i + 1) });
    for (let k = HISTORY_POSTS; k >= 1; k--)
      ch.addPost({ date: START_S - k * 21_600 + 600, text: `post ${k}`, views: 50 * k, reactions: { '👍': k } });
    return ch;
  });
  for (let s = 1; s <= step; s++) {
    tg.now = START_S + (s * STEP_MS) / 1000;
    for (const ch of s <= 8 ? channels : []) {
      for (const id of changingPosts(ch)) {
        const views = ch.posts.get(id)?.views ?? 0;
        ch.setCounters(id, { views: views + 37 * s, reactions: { '👍': 2 * s, '❤': s } });
      }
      ch.members += 5;
    }
    if (s === NEW_POST_STEP) channels[1].addPost({ date: tg.now, text: 'new post', views: 3 });
  }
  return { tg, channels };
}

async function main(): Promise<void> {
  const [natsUrl, controlUrl, fromArg] = process.argv.slice(2);
  const from = Number(fromArg);
  const control = await openControlPlane({ driver: 'server', url: controlUrl });
  const { tg, channels } = collectorWorld(from);
  // The account is added last, so its presence says the setup finished before any kill.
  let [account] = await listAccounts(control.pool);
  if (!account) {
    for (const ch of channels)
      await upsertChannel(control.pool, {
        channelId: ch.id,
        username: ch.username ?? null,
        title: ch.title,
        accessHash: ch.accessHash,
        canViewStats: false,
        statsDc: null,
        members: ch.members,
      });
    const key = Buffer.alloc(32, 7);
    account = await addAccount(control.pool, {
      phone: '+15550000001',
      sealSession: (id) => encryptSession('fake-session', key, id),
      userId: '1000',
    });
  }
  const clock = new FakeClock(tg.now * 1000, (now) => {
    tg.now = Math.floor(now / 1000);
  });
  const client = await tg.client({ account: 'crash' });
  const session = new AccountSession({
    accountId: account.id,
    client,
    log: silentLogger,
    clock: clock.clock,
    sleep: clock.sleep,
  });
  const nc = await connect({ servers: natsUrl });
  const publisher = new EventPublisher(jetstream(nc), {
    partitions: defaultStreamsConfig.partitions,
    maxBatchBytes: 256 * 1024,
    maxInflight: 64,
    stream: defaultStreamsConfig.names.raw,
  });
  const collector = new Collector({
    // The same holder after a restart: it takes its own leases back at once.
    holder: 'crash-collector',
    accounts: [session],
    control: control.pool,
    emit: emitVia(publisher),
    deadLetter: async () => {},
    schedule: TEST_SCHEDULE,
    leaseTtlMs: 60_000,
    channelsPerAccount: 100,
    tickMs: 1000,
    log: silentLogger,
    clock: clock.clock,
  });
  let at = from;
  process.stdout.write('ready\n');
  for await (const line of createInterface({ input: process.stdin })) {
    const step = Number(line);
    // The world moves one step at a time: a step asked for again after a restart is already in place.
    for (; at < step; at++) {
      const next = collectorWorld(at + 1);
      for (const [i, ch] of next.channels.entries()) copyChannel(ch, channels[i]);
    }
    // The step's time, unless rate-limit waits already took the clock past it.
    const stepAt = (START_S + (step * STEP_MS) / 1000) * 1000;
    if (stepAt > clock.now) clock.advance(stepAt - clock.now);
    await collector.step();
    await collector.idle();
    process.stdout.write(`done ${step}\n`);
  }
  await FakeTelegram.close(client);
  await nc.close();
  await control.close();
}

/** Moves a channel of the running world to the state of the same channel in a later world. */
function copyChannel(next: FakeChannel, into: FakeChannel): void {
  into.members = next.members;
  into.pts = next.pts;
  for (const [id, post] of next.posts) into.posts.set(id, post);
  into.changes.splice(0, into.changes.length, ...next.changes);
}

/** The collector child as the test sees it: a role process that runs the steps it is given. */
export interface CollectorChild extends RoleProcess {
  /** The last step it finished (-1 before the first). */
  readonly done: number;
  /** Whether it is inside a step: a kill now lands mid-work. */
  readonly busy: boolean;
  /** Runs `step`; false when the process died first. */
  step(step: number): Promise<boolean>;
}

/** Starts the collector child at step `from` (the first step not known to be done). */
export function spawnCollector(natsUrl: string, controlUrl: string, from: number): CollectorChild {
  const [cmd, ...prefix] = [...dieWithParent(), process.execPath];
  const child = spawn(
    cmd,
    [...prefix, '--import', 'tsx', fileURLToPath(import.meta.url), natsUrl, controlUrl, String(from)],
    {
      cwd: fileURLToPath(new URL('../../', import.meta.url)),
      env: { ...process.env, TGPULSE_LOG_LEVEL: 'warn' },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  // A step written to a child that was just killed: the exit says what happened.
  child.stdin?.on('error', () => {});
  let out = '';
  let done = from - 1;
  let busy = false;
  const waiters = new Set<() => void>();
  child.stdout?.on('data', (d: Buffer) => {
    out = (out + d.toString()).slice(-20_000);
    for (const m of d.toString().matchAll(/^done (\d+)$/gm)) done = Math.max(done, Number(m[1]));
    for (const wake of waiters) wake();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out = (out + d.toString()).slice(-20_000);
  });
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  return {
    name: 'collector',
    child,
    exited,
    output: () => out,
    get done() {
      return done;
    },
    get busy() {
      return busy;
    },
    async step(step) {
      busy = true;
      child.stdin?.write(`${step}\n`);
      try {
        for (;;) {
          if (done >= step) return true;
          if (child.exitCode !== null || child.signalCode !== null) return false;
          await new Promise<void>((resolve) => {
            waiters.add(resolve);
            void exited.then(() => resolve());
          }).finally(() => waiters.clear());
        }
      } finally {
        busy = false;
      }
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
