import { describe, expect, it } from 'vitest';
import { DAY_MS } from '../common/index.ts';
import { type IntakeContext, intakeItem, MAX_EVENT_LEAD_MS } from './event-intake.ts';

const NOW = Date.UTC(2026, 2, 10);
const ctx: IntakeContext = {
  now: NOW,
  hashUser: (bot, user) => `9${bot}${user.length}`,
  mayTrack: (bot) => bot !== '13',
};
const item = { bot_id: 100, user_id: 7000000042, event: 'start', properties: { a: 1, b: 'x' }, event_time: NOW - 1000 };

function accepted(input: unknown) {
  const r = intakeItem(input, 0, ctx);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.event;
}

function errorsOf(input: unknown) {
  const r = intakeItem(input, 3, ctx);
  if (r.ok) throw new Error('accepted');
  expect(r.index).toBe(3);
  return r.errors;
}

describe('a bot event as the API takes it', () => {
  it('becomes a contract bot_event under the bot id, with the user id replaced by its hash', () => {
    const e = accepted(item);
    expect(e).toMatchObject({
      kind: 'bot_event',
      channel_id: '100',
      event_time: NOW - 1000,
      observed_at: NOW,
      source: 'botapi',
      data: { bot_id: '100', event_type: 'start', user_id: '910010', properties: { a: 1, b: 'x' } },
    });
    expect(JSON.stringify(e)).not.toContain('7000000042');
  });

  it('gets the same id for the same fact, whatever the key order or id form, and another for another fact', () => {
    const id = accepted(item).id;
    expect(accepted({ ...item, bot_id: '100', user_id: '7000000042', properties: { b: 'x', a: 1 } }).id).toBe(id);
    expect(accepted({ ...item, event_time: item.event_time + 1 }).id).not.toBe(id);
    expect(accepted({ ...item, properties: { a: 2, b: 'x' } }).id).not.toBe(id);
    expect(accepted({ ...item, user_id: null }).id).not.toBe(id);
  });

  it('names the field and the reason of what is wrong', () => {
    expect(errorsOf({ ...item, event: '' })[0].field).toBe('event');
    expect(errorsOf({ ...item, bot_id: 0 })[0]).toMatchObject({ field: 'bot_id', reason: /positive integer/ });
    expect(errorsOf({ ...item, properties: { deep: [1] } })[0].field).toBe('properties.deep');
    expect(errorsOf({ ...item, properties: { ['k'.repeat(65)]: 1 } })[0].field).toMatch(/^properties/);
    expect(errorsOf({ ...item, event_time: NOW + MAX_EVENT_LEAD_MS + 1 })).toEqual([
      { field: 'event_time', reason: 'in the future (check the sending clock)' },
    ]);
    expect(errorsOf({ ...item, event_time: NOW - 31 * DAY_MS })[0].field).toBe('event_time');
    expect(errorsOf({ ...item, bot_id: 13 })).toEqual([
      { field: 'bot_id', reason: 'this API key may not send events of bot 13' },
    ]);
    expect(errorsOf(null)).toEqual([{ field: '(event)', reason: expect.stringMatching(/object/i) }]);
  });
});
