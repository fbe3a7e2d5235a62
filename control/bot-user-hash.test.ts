// The salt's storage is exercised with the rest of the intake in test/bot-events.e2e.test.ts.
import { createHmac } from 'node:crypto';
import { expect, it } from 'vitest';
import { hashBotUserId } from './bot-user-hash.ts';

it('hashes a user id per bot into the contract shape of user ids, never the id itself', () => {
  const salt = Buffer.alloc(32, 7);
  const h = hashBotUserId(salt, '100', '42');
  expect(h).toMatch(/^[0-9]{1,20}$/);
  expect(h).toBe(createHmac('sha256', salt).update('100:42').digest().readBigUInt64BE(0).toString());
  expect(hashBotUserId(salt, '100', '42')).toBe(h);
  expect(hashBotUserId(salt, '101', '42')).not.toBe(h);
  expect(hashBotUserId(Buffer.alloc(32, 8), '100', '42')).not.toBe(h);
});
