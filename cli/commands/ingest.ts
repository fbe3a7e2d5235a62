/**
 * `tgpulse ingest`: the MTProto collector role. It opens the logged-in
 * accounts, leases tracked channels (sharing them with other collector
 * processes through the control plane), and publishes what it reads to
 * TG_RAW; statistics graphs it cannot read go to TG_DLQ. With no account or
 * no channel yet it says what to run and waits instead of failing, so it can
 * be started before `tgpulse login`.
 */
import { createHash } from 'node:crypto';
import type { Pool } from 'pg';
import { listAccounts, listChannels } from '../../control/index.ts';
import {
  Collector,
  emitVia,
  apiCredentials,
  sessionKeyOf,
  type BackfillProgress,
  CollectorMetrics,
  openAccounts,
  type ConnectTelegram,
  type JobContext,
} from '../../ingest/mtproto/index.ts';
import { deadLetterRecord, DeadLetterPublisher, rawEventPublisher } from '../../streams/index.ts';
import { eventId } from '../../streams/contract/index.ts';
import { sleep } from '../../common/index.ts';
import { Context, openNats, startOps, type NatsContext } from '../context.ts';
import { openControlRole, superviseRole } from '../roles.ts';
import type { Command } from './command.ts';
import { readmitIfForgotten } from './channels-forget.ts';
import { runTrackRequests } from './track-requests.ts';
import { lifecycle } from './lifecycle.ts';

/** How often a waiting collector looks again for accounts. */
const WAIT_MS = 30_000;
/** How often the collector loop looks for due work. */
const TICK_MS = 1000;

export interface IngestRoleOptions {
  /** How accounts reach Telegram (tests: a fake); default: the network. */
  connect?: ConnectTelegram;
  /** Gets a progress line per backfilled history page (the terminal's, when it is one). */
  progress?: (line: string) => void;
  /** Pause between looks for accounts while there are none (default 30 s). */
  waitMs?: number;
}

/**
 * Turns the collector's per-step backfill progress into one line per
 * channel with its running total (each backfill step reports from zero).
 */
export function backfillProgressLines(write: (line: string) => void): (p: BackfillProgress) => void {
  const totals = new Map<string, { total: number; base: number; step: BackfillProgress | null }>();
  return (p) => {
    const t = totals.get(p.channelId) ?? { total: 0, base: 0, step: null };
    if (t.step !== p) {
      t.base = t.total;
      t.step = p;
    }
    t.total = t.base + p.posts;
    totals.set(p.channelId, t);
    const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    const reached = p.reachedMs === null ? 'newest' : day(p.reachedMs);
    write(
      `backfill ${p.channelId}: ${t.total} posts, back to ${reached}${p.done ? ' — done' : ` (going to ${day(p.untilMs)})`}`,
    );
  };
}

/** The collector's dead-letter hook: a malformed statistics graph, kept in TG_DLQ under stage `collector`. */
function deadLetterVia(dlq: DeadLetterPublisher): JobContext['deadLetter'] {
  return async (channelId, what, detail, payload) => {
    const digest = createHash('sha1').update(payload).digest('base64url');
    const record = deadLetterRecord(
      { stage: 'collector', stream: 'mtproto', subject: what, seq: 0, receivedAt: Date.now() },
      { reason: 'malformed_source', detail, payload },
      0,
    );
    // The same graph read again gets the same id (deduplicated); another graph or channel a new one.
    await dlq.send([{ ...record, id: eventId('dl', 'collector', channelId, what, digest), channel_id: channelId }]);
  };
}

/**
 * Runs the collectors until `signal` aborts. Waits (saying what to run)
 * while no account exists or none can be opened.
 *
 * @throws Error when TGPULSE_TG_API_ID/HASH or TGPULSE_SESSION_KEY are missing: nothing could be opened.
 */
export async function runIngestRole(
  ctx: Context,
  nats: NatsContext,
  control: Pool,
  signal: AbortSignal,
  opts: IngestRoleOptions = {},
): Promise<void> {
  const log = ctx.log.child({ role: 'ingest' });
  const cfg = ctx.config.mtproto;
  for (const check of [apiCredentials(cfg), sessionKeyOf(cfg)]) if (!check.ok) throw new Error(check.problem);
  const metrics = new CollectorMetrics(ctx.metrics.registry);
  const waitMs = opts.waitMs ?? WAIT_MS;
  let told = '';
  const tellOnce = (what: string, message: string) => {
    if (told !== what) log.warn(message);
    told = what;
  };
  while (!signal.aborted) {
    const active = (await listAccounts(control)).filter((a) => a.status === 'active');
    if (active.length === 0) {
      tellOnce('no_accounts', 'no active MTProto account: log one in with `tgpulse login` (waiting for one)');
      await sleep(waitMs, signal);
      continue;
    }
    const opened = await openAccounts({ control, config: cfg, log, metrics, connect: opts.connect });
    if (opened.sessions.length === 0) {
      await opened.close();
      tellOnce(
        'none_opened',
        `none of the ${active.length} active MTProto accounts could be opened (see the errors above); trying again in ${Math.round(waitMs / 1000)} s`,
      );
      await sleep(waitMs, signal);
      continue;
    }
    if ((await listChannels(control)).length === 0) {
      log.warn(
        'no channels tracked yet: add one with `tgpulse channels add @name`; the collector picks channels up as they are added',
      );
    }
    const publisher = rawEventPublisher(nats.js, ctx.config.streams, { metrics: ctx.metrics, log, signal });
    const collector = new Collector({
      accounts: opened.sessions,
      control,
      emit: emitVia(publisher, metrics),
      deadLetter: deadLetterVia(new DeadLetterPublisher(nats.js, ctx.metrics, signal)),
      schedule: cfg.schedule,
      leaseTtlMs: cfg.leaseTtlMs,
      channelsPerAccount: cfg.channelsPerAccount,
      join: cfg.join,
      tickMs: TICK_MS,
      log,
      metrics,
      onBackfillProgress: opts.progress ? backfillProgressLines(opts.progress) : undefined,
    });
    log.info(
      { holder: collector.holder, accounts: opened.sessions.map((s) => s.accountId), skipped: opened.skipped.length },
      'MTProto collector running',
    );
    // Channels owners add with the bot's /track reach the registry through these accounts.
    const trackRequests = runTrackRequests(
      {
        control,
        accounts: opened.sessions,
        readmit: (channelId) => readmitIfForgotten(control, channelId, ctx.config, log),
        log,
      },
      signal,
    );
    try {
      await Promise.all([collector.run(signal), trackRequests]);
      await publisher.flush();
    } finally {
      await opened.close();
    }
    log.info('MTProto collector stopped');
    return;
  }
}

/** A progress line rewritten in place on a terminal. */
function terminalProgress(): (line: string) => void {
  return (line) => void process.stdout.write(`\r\x1b[K${line}${line.endsWith('done') ? '\n' : ''}`);
}

/** The MTProto collector role. */
export const ingestCommand: Command = {
  reads: 'full',
  async run(argv, config) {
    if (argv[0] === '--help' || argv[0] === '-h') {
      process.stdout.write('usage: tgpulse ingest\n');
      return 0;
    }
    if (argv.length) {
      process.stderr.write(
        `tgpulse ingest: takes no arguments, got ${JSON.stringify(argv.join(' '))}\nusage: tgpulse ingest\n`,
      );
      return 2;
    }
    const missing = [apiCredentials(config.mtproto), sessionKeyOf(config.mtproto)].filter((c) => !c.ok);
    if (missing.length) {
      for (const m of missing) if (!m.ok) process.stderr.write(`tgpulse ingest: ${m.problem}\n`);
      return 2;
    }
    const ctx = new Context(config);
    const life = lifecycle(ctx);
    try {
      const nats = await openNats(ctx, { name: 'tgpulse-ingest' });
      await startOps(ctx);
      const control = await openControlRole(ctx);
      const progress = process.stdout.isTTY ? terminalProgress() : undefined;
      await superviseRole('ingest', runIngestRole(ctx, nats, control.pool, life.signal, { progress }), ctx, life.stop);
      return 0;
    } finally {
      await ctx.close();
      life.dispose();
    }
  },
};
