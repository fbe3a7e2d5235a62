/**
 * `tgpulse channels forget ID|@name`: erasure of a channel everywhere, in an
 * order that stops new traces before removing the old ones:
 *
 * 1. the register of forgotten channels (NATS KV): processors and sinks drop
 *    the channel's events from then on, and processors drop its state;
 * 2. its own subjects in TG_RAW and TG_DERIVED are purged;
 * 3. the warehouse: every table, verified after a grace and erased again if a
 *    write was under way;
 * 4. the control plane, with the audit record (under the channel's digest).
 *
 * What the streams still hold (batches shared with other channels, dead
 * letters) is dropped by the processors and sinks until the streams' max age
 * removes it. `tgpulse channels add` lets the channel in again, fresh
 * ({@link readmitIfForgotten}).
 */
import { createInterface } from 'node:readline/promises';
import type { Pool } from 'pg';
import { eraseChannelFromWarehouse, openWarehouse, renderTargetFor } from '../../clickhouse/index.ts';
import { eraseChannelFromControl, findChannel, lastForgotten } from '../../control/index.ts';
import { DAY_MS, HOUR_MS } from '../../common/index.ts';
import { type Logger, PipelineMetrics } from '../../observability/index.ts';
import {
  channelDigest,
  purgeChannelSubjects,
  readmitForgotten,
  registerForgotten,
  type ForgottenEntry,
} from '../../streams/index.ts';
import type { TgpulseConfig } from '../config.ts';
import { Context, ensureLocalWarehouse, openNats, type NatsContext } from '../context.ts';
import { renderTable } from '../table.ts';
import { CLI_ACTOR, type CliIo, when } from './cli-io.ts';

/** Asks a person to confirm; null when nobody can be asked (no terminal). */
export type Confirm = (question: string) => Promise<string | null>;

/** How the erasure waits for a write a sink checked before the forget: longer than an insert takes. */
const MIN_GRACE_MS = 5_000;

/** A bare channel id from an id or a Bot API chat id (`-100…`); null for anything else (a username). */
export function bareChannelId(ref: string): string | null {
  const text = ref.trim();
  const botApi = /^-100([1-9][0-9]{0,16})$/.exec(text);
  if (botApi) return botApi[1];
  return /^[1-9][0-9]{0,19}$/.test(text) ? text : null;
}

/** The terminal, when there is one: the answer typed, or null without a terminal. */
const terminalConfirm: Confirm = async (question) => {
  if (process.stdin.isTTY !== true) return null;
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return (await rl.question(question)).trim();
  } finally {
    rl.close();
  }
};

/** Runs `fn` with NATS (the streams and the checkpoint bucket), then closes it. */
async function withNats<T>(
  config: TgpulseConfig,
  log: Logger,
  fn: (nats: NatsContext, ctx: Context) => Promise<T>,
): Promise<T> {
  const ctx = new Context(config, { log, metrics: new PipelineMetrics() });
  try {
    return await fn(await openNats(ctx, { name: 'tgpulse-channels' }), ctx);
  } finally {
    await ctx.close();
  }
}

/**
 * Lets a channel that was forgotten in again, before `channels add` tracks
 * it, so that its collected events are no longer dropped (what the streams
 * hold from before stays dropped). Returns when it was forgotten, or null
 * when it is not forgotten (NATS is not even opened when it never was).
 */
export async function readmitIfForgotten(
  pool: Pool,
  channelId: string,
  config: TgpulseConfig,
  log: Logger,
): Promise<number | null> {
  const forgottenAt = await lastForgotten(pool, channelDigest(channelId));
  if (forgottenAt === null) return null;
  const readmitted = await withNats(config, log, (nats) =>
    readmitForgotten(nats.kv, nats.jsm, config.streams, channelId, Date.now()),
  );
  return readmitted === null ? null : forgottenAt;
}

/** What `forget` was asked: a channel reference and whether it is confirmed already. */
export interface ForgetRequest {
  ref: string;
  yes: boolean;
}

/** Runs `tgpulse channels forget`; returns the exit code. */
export async function forgetChannel(
  request: ForgetRequest,
  pool: Pool,
  io: CliIo,
  log: Logger,
  config: TgpulseConfig,
  confirm: Confirm = terminalConfirm,
): Promise<number> {
  const registered = await findChannel(pool, request.ref);
  const channelId = bareChannelId(request.ref) ?? registered?.channelId ?? null;
  if (channelId === null) {
    io.err(
      `tgpulse channels: no channel named ${JSON.stringify(request.ref)} in the registry; forget a channel by its id\n`,
    );
    return 1;
  }
  const name = registered?.username ? `${channelId} (@${registered.username})` : channelId;
  if (!request.yes) {
    const answer = await confirm(
      `This erases channel ${name} everywhere: its rows in every warehouse table, its state, its registry entry, grants, ` +
        `subscriptions and share links. It cannot be undone. Type the channel id to go on: `,
    );
    if (answer === null) {
      io.err('tgpulse channels: forget erases data for good; confirm it with --yes (there is no terminal to ask)\n');
      return 2;
    }
    if (answer !== channelId) {
      io.err('tgpulse channels: not confirmed; nothing was changed\n');
      return 1;
    }
  }
  const digest = channelDigest(channelId);
  return withNats(config, log, async (nats, ctx) => {
    const entry = await registerForgotten(nats.kv, nats.jsm, config.streams, channelId, Date.now());
    const purged = await purgeChannelSubjects(nats.jsm, config.streams, channelId);
    io.out(`forgetting channel ${name}: processors and sinks drop its events from now on\n`);
    io.out(
      `streams: purged ${purged.raw} messages of its own from ${config.streams.names.raw}, ${purged.derived} from ${config.streams.names.derived}\n`,
    );
    if (config.warehouse.driver === 'local') await ensureLocalWarehouse(ctx);
    const wh = await openWarehouse(config.warehouse);
    ctx.onClose('the warehouse connection', () => wh.close());
    const graceMs = Math.max(MIN_GRACE_MS, 4 * config.sink.maxWaitMs);
    const warehouse = await eraseChannelFromWarehouse(wh, channelId, {
      target: renderTargetFor(config.warehouse),
      graceMs,
    });
    const deleted = warehouse.tables.reduce((n, t) => n + t.deleted, 0);
    const edited = warehouse.tables.reduce((n, t) => n + t.edited, 0);
    io.out(
      `warehouse: deleted ${deleted} rows and took it out of ${edited} rows of other channels, in ${warehouse.tables.length} tables (${warehouse.rounds} round${warehouse.rounds === 1 ? '' : 's'}, checked again after ${graceMs / 1000} s each)\n`,
    );
    if (warehouse.tables.length) io.out(renderTable(warehouse.tables.map((t) => ({ ...t }))));
    const control = await eraseChannelFromControl(pool, {
      channelId,
      digest,
      actor: CLI_ACTOR,
      details: {
        warehouse_rows_deleted: deleted,
        warehouse_rows_edited: edited,
        nats_messages_purged: purged.raw + purged.derived,
      },
    });
    const controlRows = Object.entries(control.rows).map(([table, n]) => `${table} ${n}`);
    io.out(`control plane: ${controlRows.length ? controlRows.join(', ') : 'nothing'} (rows deleted or edited)\n`);
    io.out(`${remainsText(entry, config)}\n`);
    io.out(`audit: channel.forget of sha256:${digest}\n`);
    let code = 0;
    if (warehouse.remaining.length) {
      io.err(
        `tgpulse channels: still found after ${warehouse.rounds} rounds: ${warehouse.remaining.map((t) => `${t.table} (${t.deleted + t.edited} rows)`).join(', ')}; something still writes them: run forget again\n`,
      );
      code = 1;
    }
    const unknown = Object.entries(control.remaining);
    if (unknown.length) {
      io.err(
        `tgpulse channels: control-plane tables this version does not know still name it: ${unknown.map(([t, n]) => `${t} (${n} rows)`).join(', ')}\n`,
      );
      code = 1;
    }
    return code;
  });
}

/** What the streams still hold of the channel, and until when. */
function remainsText(entry: ForgottenEntry, config: TgpulseConfig): string {
  const s = config.streams;
  const where = `batches shared with other channels in ${s.names.raw} and ${s.names.derived} and dead letters in ${s.names.dlq}`;
  const age = s.maxAgeMs % DAY_MS === 0 ? `${s.maxAgeMs / DAY_MS} days` : `${Math.round(s.maxAgeMs / HOUR_MS)} h`;
  const until =
    s.maxAgeMs > 0
      ? `until the streams' max age (${age}) removes them, by ${when(entry.at + s.maxAgeMs)}`
      : 'until the streams’ size limits remove them (they have no max age: TGPULSE_STREAM_MAX_AGE_HOURS=0)';
  return `remains: ${where}, ${until}; processors and sinks drop them (tgpulse_forgotten_events_dropped_total), and the processors' checkpoints lose its state at their next write`;
}
