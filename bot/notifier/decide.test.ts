import { describe, expect, it } from 'vitest';
import type { AlertDelivery, AlertSubscription } from '../../control/bot-store.ts';
import type { Anomaly } from '../../streams/contract/events.ts';
import { decide, inQuietHours, type DecisionInput } from './decide.ts';

const NOON_UTC = Date.UTC(2026, 5, 1, 12);
const anomaly: Anomaly = {
  anomaly_id: 'a1',
  state: 'opened',
  revision: 1,
  metric: 'views',
  window: '1h',
  window_start: NOON_UTC - 3_600_000,
  post_id: null,
  direction: 'spike',
  severity: 'warning',
  value: 900,
  expected: 300,
  band_low: 100,
  band_high: 500,
  z: 5.5,
  opened_at: NOON_UTC,
};
const subscription: AlertSubscription = {
  id: 1,
  chatId: '10',
  channelId: '1001',
  metrics: null,
  minSeverity: 'info',
  quiet: null,
  timeZone: 'UTC',
  maxPerHour: 5,
  enabled: true,
  disabledReason: null,
};
const input = (over: Partial<DecisionInput> = {}): DecisionInput => ({
  anomaly,
  subscription,
  prior: null,
  opened: null,
  sentLastHour: 0,
  now: NOON_UTC,
  openingHandled: false,
  mayWait: true,
  ...over,
});
const delivery = (over: Partial<AlertDelivery>): AlertDelivery => ({
  anomalyId: 'a1',
  chatId: '10',
  stage: 'opened',
  outcome: 'sent',
  messageId: 77,
  channelId: '1001',
  at: NOON_UTC,
  ...over,
});

describe('what the notifier does with an anomaly for one subscription', () => {
  it('sends a new anomaly at or above the subscribed severity and metric', () => {
    expect(decide(input())).toEqual({ action: 'send', stage: 'opened', replyTo: null });
    expect(decide(input({ subscription: { ...subscription, metrics: ['views', 'forwards'] } })).action).toBe('send');
  });

  it('records lower severities and other metrics as filtered, ignores updates, anything already decided and replays', () => {
    expect(decide(input({ subscription: { ...subscription, minSeverity: 'critical' } }))).toEqual({
      action: 'skip',
      stage: 'opened',
      outcome: 'skipped_filter',
    });
    expect(decide(input({ subscription: { ...subscription, metrics: ['subscribers_lost'] } }))).toEqual({
      action: 'skip',
      stage: 'opened',
      outcome: 'skipped_filter',
    });
    expect(decide(input({ anomaly: { ...anomaly, state: 'updated' } }))).toEqual({ action: 'ignore', why: 'updated' });
    expect(decide(input({ prior: delivery({}) }))).toEqual({ action: 'ignore', why: 'duplicate' });
    // A replayed opening (the consumer reset) is not news to a chat that subscribed after it was handled.
    expect(decide(input({ openingHandled: true }))).toEqual({ action: 'ignore', why: 'subscribed_later' });
    expect(decide(input({ prior: delivery({ outcome: 'skipped_quiet' }) }))).toEqual({
      action: 'ignore',
      why: 'duplicate',
    });
  });

  it('skips, and so records, alerts in quiet hours or over the hourly cap', () => {
    expect(decide(input({ subscription: { ...subscription, quiet: { from: 11, to: 13 } } }))).toEqual({
      action: 'skip',
      stage: 'opened',
      outcome: 'skipped_quiet',
    });
    expect(decide(input({ sentLastHour: 5 }))).toEqual({ action: 'skip', stage: 'opened', outcome: 'skipped_cap' });
  });

  it('sends a resolution only to a chat that was told, as a reply to that alert', () => {
    const resolved = { ...anomaly, state: 'resolved' as const, revision: 3 };
    expect(decide(input({ anomaly: resolved, opened: delivery({}) }))).toEqual({
      action: 'send',
      stage: 'resolved',
      replyTo: 77,
    });
    // A chat with no decision on a handled opening subscribed later: the resolution is no news to it.
    expect(decide(input({ anomaly: resolved, opened: null, openingHandled: true }))).toEqual({
      action: 'ignore',
      why: 'not_alerted',
    });
    expect(decide(input({ anomaly: resolved, opened: delivery({ outcome: 'skipped_cap', messageId: null }) }))).toEqual(
      { action: 'ignore', why: 'not_alerted' },
    );
    // A resolution that overtook its opening (a notifier died holding the opening) waits for it, unless it
    // waited its longest; a decided opening (sent, filtered, skipped) does not wait.
    const unhandled = { anomaly: resolved, opened: null, openingHandled: false };
    expect(decide(input(unhandled))).toEqual({ action: 'wait' });
    expect(decide(input({ ...unhandled, mayWait: false }))).toEqual({ action: 'ignore', why: 'not_alerted' });
    for (const outcome of ['skipped_filter', 'skipped_quiet'] as const)
      expect(decide(input({ ...unhandled, opened: delivery({ outcome, messageId: null }) }))).toEqual({
        action: 'ignore',
        why: 'not_alerted',
      });
    // A resolution does not depend on the severity filter: the chat heard of the anomaly.
    expect(
      decide(
        input({ anomaly: resolved, opened: delivery({}), subscription: { ...subscription, minSeverity: 'critical' } }),
      ).action,
    ).toBe('send');
  });
});

describe('quiet hours', () => {
  it('wrap midnight and follow the chat time zone', () => {
    const at = (h: number) => Date.UTC(2026, 0, 15, h);
    expect([0, 6, 7, 21, 22, 23].map((h) => inQuietHours({ from: 22, to: 7 }, 'UTC', at(h)))).toEqual([
      true,
      true,
      false,
      false,
      true,
      true,
    ]);
    // 21:00 UTC is 22:00 in Berlin in winter.
    expect(inQuietHours({ from: 22, to: 7 }, 'Europe/Berlin', at(21))).toBe(true);
    expect(inQuietHours({ from: 9, to: 9 }, 'UTC', at(9))).toBe(false);
  });
});
