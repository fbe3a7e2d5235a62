/**
 * Debug lines for the bot: one per handled update and one per Bot API
 * call, so an operator at `debug` level sees what the bot was asked and
 * what it sent. They name the update's kind and command and the API
 * method, never a message's text (anything a user typed) or the request
 * URL (grammY puts the bot token in it).
 */
import type { Context, MiddlewareFn, Transformer } from 'grammy';
import type { Logger } from '../observability/index.ts';
import { updateAttributes } from './tracing.ts';

/** Polls wait up to their timeout and say nothing about the work. */
const UNLOGGED_METHODS = new Set(['getUpdates']);

/** Middleware logging each update once handled (or failed), with how long it took. */
export function logUpdates<C extends Context>(log: Logger): MiddlewareFn<C> {
  return async (ctx, next) => {
    if (!log.isLevelEnabled('debug')) return next();
    const started = performance.now();
    let outcome = 'handled';
    try {
      await next();
    } catch (err) {
      outcome = 'failed';
      throw err;
    } finally {
      const ms = Math.round((performance.now() - started) * 10) / 10;
      log.debug({ updateId: ctx.update.update_id, ...updateAttributes(ctx), outcome, ms }, 'bot update');
    }
  };
}

/** A transformer logging each Bot API call's method and Telegram's verdict. */
export function logBotApi(log: Logger): Transformer {
  return async (prev, method, payload, signal) => {
    if (UNLOGGED_METHODS.has(method) || !log.isLevelEnabled('debug')) return prev(method, payload, signal);
    const response = await prev(method, payload, signal);
    const verdict = response.ok ? { ok: true } : { ok: false, code: response.error_code };
    log.debug({ method, ...verdict }, 'Bot API call');
    return response;
  };
}
