/**
 * The shape shared by every command about one channel and a period
 * (`/overview`, `/growth`, `/top`, …): read `[channel] [period] [option]`,
 * ask with a keyboard when the channel is missing, check access, then run.
 * A typed command and a pressed button take the same path after parsing, so
 * both are checked alike.
 *
 * A user with a single channel is not asked which one. A missing period is
 * not asked for either: the answer comes for the API's default period, with
 * 7d/30d/90d buttons under it, which saves a round trip in the common case.
 */
import { openChannel, visibleChannels } from '../access.ts';
import { parseChannelArgs, words, type ChannelArgs } from '../args.ts';
import type { BotContext, BotServices, CommandHandler } from '../context.ts';
import { html } from '../format.ts';
import { channelKeyboard, MAX_CHANNEL_BUTTONS, periodKeyboard, type ChoiceCommand } from '../keyboards.ts';
import {
  answerMeta,
  type AnswerMeta,
  type ChannelFreshness,
  alignPeriod,
  type Granularity,
  type Period,
} from '../../read/index.ts';
import { DAY_MS } from '../../common/index.ts';
import { replyHtml, replyProblem } from './reply.ts';

/** What a channel command runs for, once access is settled. */
export interface ChannelTarget {
  channelId: string;
  days: number;
  /** The command's option word, normalised (see {@link ChannelCommand.option}); null when not given. */
  option: string | null;
  freshness: ChannelFreshness;
  now: number;
}

/** A command about one channel and a period; a button can run it too (see keyboards.ts). */
export interface ChannelCommand {
  name: ChoiceCommand;
  /** Period when none is given: the API's default for the same question, so both show the same figures. */
  defaultDays: number;
  /** Normalises a word that is this command's option (a metric, a severity…), or null when it is not one. */
  option?: (word: string) => string | null;
  run(ctx: BotContext, s: BotServices, target: ChannelTarget): Promise<void>;
}

/** An option that is one of `choices`, typed in any case. */
export function oneOf<T extends string>(choices: readonly T[]): (word: string) => T | null {
  return (word) => choices.find((c) => c === word.toLowerCase()) ?? null;
}

/** The option a target carries, as one of `choices`, or `fallback` when none was given. */
export function chosen<T extends string>(choices: readonly T[], t: ChannelTarget, fallback: T): T {
  return choices.find((c) => c === t.option) ?? fallback;
}

/** `[now - days, now)`, as the API reads a period given only by its length. */
export function recentPeriod(t: ChannelTarget): Period {
  return { from: t.now - t.days * DAY_MS, to: t.now };
}

/** {@link recentPeriod} widened to whole buckets, as series and charts use it. */
export function recentBuckets(t: ChannelTarget, granularity: Granularity): Period {
  return alignPeriod(recentPeriod(t), granularity);
}

/** Buttons under an answer to see it over another period. */
export function otherPeriods(
  command: ChoiceCommand,
  t: ChannelTarget,
): { reply_markup: ReturnType<typeof periodKeyboard> } {
  return { reply_markup: periodKeyboard(command, t.channelId, t.days) };
}

/** What a {@link messageCommand} declares: how to load its answer for a period, and how to word it. */
export interface MessageCommandSpec<D> extends Omit<ChannelCommand, 'run'> {
  load(s: BotServices, t: ChannelTarget, period: Period): Promise<D>;
  /** The answer as HTML; `meta` carries the period and freshness the message must state. */
  message(data: D, days: number, meta: AnswerMeta): string;
}

/**
 * A command answered by one message about the recent period, with buttons
 * for the other periods under it: most channel commands are this.
 */
export function messageCommand<D>(spec: MessageCommandSpec<D>): ChannelCommand {
  const { load, message, ...def } = spec;
  return {
    ...def,
    async run(ctx, s, t) {
      const period = recentPeriod(t);
      const data = await load(s, t, period);
      await replyHtml(ctx, message(data, t.days, answerMeta(t.freshness, period)), otherPeriods(def.name, t));
    },
  };
}

/** The handler of the typed command. */
export function typedChannelCommand(s: BotServices, def: ChannelCommand): CommandHandler {
  return async (ctx) => {
    const list = words(ctx.match);
    const parsed = list.ok
      ? parseChannelArgs(list.value, { maxDays: s.maxRangeDays, ...(def.option ? { option: def.option } : {}) })
      : list;
    if (!parsed.ok) return replyProblem(ctx, parsed.problem, def.name);
    await runChannelCommand(ctx, s, def, parsed.value);
  };
}

/** Runs a channel command for parsed arguments: choose the channel if needed, check access, answer. */
export async function runChannelCommand(
  ctx: BotContext,
  s: BotServices,
  def: ChannelCommand,
  args: ChannelArgs,
): Promise<void> {
  let channelId = args.channel;
  if (channelId === null) {
    const channels = await visibleChannels(s, ctx.viewer);
    if (channels.length === 0) return replyHtml(ctx, NO_CHANNELS);
    if (channels.length > 1) {
      const more =
        channels.length > MAX_CHANNEL_BUTTONS
          ? `\nOnly the first ${MAX_CHANNEL_BUTTONS} are shown; type another: /${def.name} &lt;channel&gt;`
          : '';
      return replyHtml(ctx, `Which channel?${more}`, { reply_markup: channelKeyboard(def.name, channels, args.days) });
    }
    channelId = channels[0];
  }
  const access = await openChannel(s, ctx.viewer, channelId);
  if (!access.ok) return replyHtml(ctx, html(access.problem));
  await def.run(ctx, s, {
    channelId,
    days: args.days ?? def.defaultDays,
    option: args.option,
    freshness: access.value,
    now: s.now(),
  });
}

/** The answer to a user who may see no channel yet. */
export const NO_CHANNELS =
  "You don't have any channels yet. Ask an admin to grant you one, or prove you administer a channel with <code>/verify &lt;channel id&gt;</code>.";
