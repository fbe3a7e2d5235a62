/**
 * The bot's traces: one span per incoming update (a command, a pressed
 * button) and a client span per Bot API call, so a slow `/stats` shows its
 * warehouse queries, its Postgres look-ups and its `sendMessage` in one
 * trace, and an alert's `notify` span shows the `sendPhoto` it made.
 * grammY has no OpenTelemetry instrumentation; its API transformers and
 * middleware are the hooks it offers. Without a tracer provider every span
 * is a no-op.
 */
import { SpanKind } from '@opentelemetry/api';
import type { Context, MiddlewareFn, Transformer } from 'grammy';
import { failSpan, inClientSpan, tracer } from '../observability/index.ts';

/**
 * Long polling waits up to its timeout in `getUpdates`: a span per poll
 * would be most of the bot's spans and say nothing about the work.
 */
const UNTRACED_METHODS = new Set(['getUpdates']);

/** A transformer (`bot.api.config.use`) putting each Bot API call in a client span. */
export function traceBotApi(): Transformer {
  return (prev, method, payload, signal) => {
    if (UNTRACED_METHODS.has(method)) return prev(method, payload, signal);
    const attributes = { 'rpc.system': 'telegram_bot_api', 'rpc.method': method };
    return inClientSpan(`telegram ${method}`, attributes, async (span) => {
      const response = await prev(method, payload, signal);
      // Telegram's refusals (429, 403 blocked…) come back as a response, not a throw.
      if (!response.ok) {
        span.setAttribute('rpc.response.status_code', response.error_code);
        failSpan(span, new Error(`${response.error_code}: ${response.description}`));
      }
      return response;
    });
  };
}

/** Middleware (first in the chain) running each update's handling in a span. */
export function traceUpdates<C extends Context>(): MiddlewareFn<C> {
  return (ctx, next) =>
    tracer.startActiveSpan('bot update', { kind: SpanKind.SERVER, attributes: updateAttributes(ctx) }, async (span) => {
      try {
        await next();
      } catch (err) {
        failSpan(span, err);
        throw err;
      } finally {
        span.end();
      }
    });
}

/** The update's kind and command: never its text, which may hold anything a user typed. */
export function updateAttributes(ctx: Context): Record<string, string | number> {
  const kind = Object.keys(ctx.update).find((k) => k !== 'update_id') ?? 'unknown';
  const attributes: Record<string, string | number> = { 'tgpulse.bot.update_kind': kind };
  const text = ctx.message?.text ?? '';
  const command = /^\/([A-Za-z0-9_]{1,32})/.exec(text)?.[1];
  if (command !== undefined) attributes['tgpulse.bot.command'] = command.toLowerCase();
  if (ctx.chat !== undefined) attributes['tgpulse.bot.chat_type'] = ctx.chat.type;
  return attributes;
}
