/**
 * `/alerts`: the anomaly alerts of this chat. Lists them; `add <channel>
 * [options]` subscribes the chat (or changes its subscription), `remove
 * <channel>` ends it. The notifier reads these subscriptions; here they are
 * only validated and stored, for channels the sender may see.
 */
import {
  chatSubscriptions,
  removeSubscription,
  upsertSubscription,
  type AlertSubscription,
} from '../../control/index.ts';

import { openChannel } from '../access.ts';
import { ok, parseChannelId, problem, quote, words, type Parsed } from '../args.ts';
import type { BotServices, CommandHandler } from '../context.ts';
import { html, metricName } from '../format.ts';
import { timeZoneOf } from './best-time.ts';
import { oneOf } from './channel-command.ts';
import { replyHtml, replyProblem } from './reply.ts';
import {
  POST_VIEWS_METRIC,
  QUIET_METRIC,
  WINDOW_METRICS,
  SEVERITIES,
  type Severity,
} from '../../streams/contract/index.ts';

/** Metrics the detectors alert on: the window metrics, a post's views at age, and a posting gap. */
export const ALERT_METRICS: readonly string[] = [...WINDOW_METRICS, POST_VIEWS_METRIC, QUIET_METRIC];

/** What `/alerts add` sets; absent options take the store's defaults. */
export interface AlertOptions {
  minSeverity?: Severity;
  metrics?: string[];
  quiet?: { from: number; to: number } | null;
  timeZone?: string;
  maxPerHour?: number;
}

/** What `/alerts …` asks for. */
export type AlertRequest =
  | { action: 'list' }
  | { action: 'add'; channelId: string; options: AlertOptions }
  | { action: 'remove'; channelId: string };

const OPTION_READERS: Record<string, (value: string, into: AlertOptions) => string | null> = {
  severity(value, into) {
    const severity = oneOf(SEVERITIES)(value);
    if (severity === null) return `severity is one of ${SEVERITIES.join(', ')}`;
    into.minSeverity = severity;
    return null;
  },
  metrics(value, into) {
    const list = value
      .toLowerCase()
      .split(',')
      .filter((m) => m !== '');
    const unknown = list.filter((m) => !ALERT_METRICS.includes(m));
    if (list.length === 0 || unknown.length > 0)
      return `metrics are a comma-separated list of ${ALERT_METRICS.join(', ')}`;
    into.metrics = [...new Set(list)];
    return null;
  },
  quiet(value, into) {
    if (value.toLowerCase() === 'off') {
      into.quiet = null;
      return null;
    }
    const m = /^([0-9]{1,2})-([0-9]{1,2})$/.exec(value);
    const [from, to] = m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
    if (!(from <= 23 && to <= 23 && from !== to))
      return 'quiet hours are from-to, whole hours 0 to 23 (e.g. quiet=22-7), or quiet=off';
    into.quiet = { from, to };
    return null;
  },
  tz(value, into) {
    const zone = timeZoneOf(value);
    if (zone === null) return 'tz is an IANA time zone such as UTC or Europe/Berlin';
    into.timeZone = zone;
    return null;
  },
  max(value, into) {
    const n = /^[0-9]{1,4}$/.test(value) ? Number(value) : NaN;
    if (!(n >= 1 && n <= 1000)) return 'max is the most alerts per hour in this chat, 1 to 1000';
    into.maxPerHour = n;
    return null;
  },
};

/** Reads the words after `/alerts`. */
export function parseAlertRequest(list: readonly string[]): Parsed<AlertRequest> {
  if (list.length === 0) return ok({ action: 'list' });
  const [verb, channel, ...rest] = list;
  const action = verb.toLowerCase();
  if (action !== 'add' && action !== 'remove')
    return problem(`${quote(verb)} is not something alerts do: add, remove, or nothing to list them`);
  const channelId = channel === undefined ? null : parseChannelId(channel);
  if (channelId === null)
    return problem(
      channel === undefined ? `${action} alerts of which channel?` : `${quote(channel)} is not a channel id`,
    );
  if (action === 'remove')
    return rest.length === 0
      ? ok({ action, channelId })
      : problem(`remove takes only a channel, not ${quote(rest[0])}`);
  const options: AlertOptions = {};
  const seen = new Set<string>();
  for (const word of rest) {
    const m = /^([a-z]+)=(.+)$/i.exec(word);
    const key = m?.[1].toLowerCase() ?? '';
    const read = Object.hasOwn(OPTION_READERS, key) ? OPTION_READERS[key] : undefined;
    if (!m || read === undefined)
      return problem(
        `${quote(word)} is not an option; options are ${Object.keys(OPTION_READERS)
          .map((k) => `${k}=…`)
          .join(', ')}`,
      );
    if (seen.has(key)) return problem(`${key} is given twice`);
    seen.add(key);
    const wrong = read(m[2], options);
    if (wrong !== null) return problem(wrong);
  }
  return ok({ action, channelId, options });
}

/** A subscription in a line (HTML). */
export function subscriptionLine(sub: AlertSubscription): string {
  const parts = [
    `${sub.minSeverity} and above`,
    sub.metrics === null ? 'every metric' : sub.metrics.map(metricName).join(', '),
    sub.quiet === null ? 'never quiet' : `quiet ${sub.quiet.from}–${sub.quiet.to} ${sub.timeZone}`,
    `at most ${sub.maxPerHour} an hour`,
  ];
  const off = sub.enabled ? '' : ` · <b>off</b>${sub.disabledReason === null ? '' : ` (${html(sub.disabledReason)})`}`;
  return `• Channel <b>${html(sub.channelId)}</b>: ${html(parts.join(' · '))}${off}`;
}

const ADD_USAGE =
  'Subscribe with <code>/alerts add &lt;channel&gt; [severity=warning] [metrics=views,subscribers_lost] [quiet=22-7] [tz=Europe/Berlin] [max=10]</code>';

/** `/alerts`: list, add or remove this chat's subscriptions (the notifier reads them). */
export function alertsCommand(s: BotServices): CommandHandler {
  return async (ctx) => {
    const list = words(ctx.match);
    const request = list.ok ? parseAlertRequest(list.value) : list;
    if (!request.ok) return replyProblem(ctx, request.problem, 'alerts');
    const r = request.value;
    const chatId = String(ctx.chat?.id ?? ctx.viewer.userId);
    if (r.action === 'list') {
      const subs = await chatSubscriptions(s.control, chatId);
      if (subs.length === 0) return replyHtml(ctx, `No alerts in this chat yet.\n${ADD_USAGE}`);
      return replyHtml(
        ctx,
        [
          '<b>Alerts in this chat</b>',
          ...subs.map(subscriptionLine),
          '',
          ADD_USAGE,
          'Stop with <code>/alerts remove &lt;channel&gt;</code>',
        ].join('\n'),
      );
    }
    const access = await openChannel(s, ctx.viewer, r.channelId);
    if (!access.ok) return replyHtml(ctx, html(access.problem));
    const c = html(r.channelId);
    if (r.action === 'remove') {
      const removed = await removeSubscription(s.control, chatId, r.channelId);
      return replyHtml(
        ctx,
        removed ? `Alerts of channel ${c} stopped in this chat.` : `This chat had no alerts of channel ${c}.`,
      );
    }
    const sub = await upsertSubscription(s.control, {
      chatId,
      channelId: r.channelId,
      ...r.options,
      createdBy: ctx.viewer.userId,
    });
    await replyHtml(ctx, `Alerts on for this chat:\n${subscriptionLine(sub)}`);
  };
}
