/**
 * Sending answers: every message of the bot is Telegram HTML (each
 * data-derived string escaped by its caller with `html()`), without link
 * previews, which would show a share link's or a post's preview instead of
 * the figures.
 */
import type { Context } from 'grammy';
import type { BotContext } from '../context.ts';
import { html } from '../format.ts';
import { usage } from './catalog.ts';

/** What `ctx.reply` takes besides the text (keyboards, parse mode, …). */
export type ReplyOptions = NonNullable<Parameters<Context['reply']>[1]>;

/** Reply with an HTML message. */
export async function replyHtml(ctx: BotContext, text: string, extra: ReplyOptions = {}): Promise<void> {
  await ctx.reply(text, { parse_mode: 'HTML', link_preview_options: { is_disabled: true }, ...extra });
}

/** Reply to input that was not understood: what was wrong (plain text), and how to call the command. */
export async function replyProblem(ctx: BotContext, problem: string, command: string): Promise<void> {
  await replyHtml(ctx, `${html(capitalize(problem))}.\nUsage: <code>${html(usage(command))}</code>`);
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
