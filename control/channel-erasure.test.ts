/**
 * Erasing a channel from the control plane: afterwards no row of any table
 * names it (the audit log keeps its history under the channel's digest), the
 * other channels keep everything, and the forget itself is on record.
 */
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { listApiKeys } from './api-keys.ts';
import { listAudit } from './audit.ts';
import { grantedChannels } from './bot-store.ts';
import { digestTarget, eraseChannelFromControl, FORGET_ACTION, lastForgotten, scrubJson } from './channel-erasure.ts';
import { ControlError } from './errors.ts';
import { listAccounts } from './mtproto-accounts.ts';
import { embeddedControlForSuite } from './testing.ts';
import { getChannel } from './tracked-channels.ts';
import { controlMentions } from '../test/support/scan.ts';
import { fillControlPlane, GRANTED_USER } from '../test/support/control-data.ts';

const X = '1001234567';
const Y = '1001234568';
const digest = (id: string) => createHash('sha256').update(id).digest('hex');

describe('scrubbing a JSON value', () => {
  it('replaces the id as a number of its own wherever it appears, and nothing else', () => {
    const value = {
      channelId: X,
      channels: [X, Y, `-100${X}`],
      target: `500/${X}`,
      pair: `${X},${X}`,
      n: Number(X),
      longer: `${X}0`,
      nested: { deep: [{ id: X }] },
    };
    expect(scrubJson(value, X, 'gone')).toEqual({
      channelId: 'gone',
      channels: ['gone', Y, 'gone'],
      target: '500/gone',
      pair: 'gone,gone',
      n: 'gone',
      longer: `${X}0`,
      nested: { deep: [{ id: 'gone' }] },
    });
    const untouched = { a: [Y], b: 'x' };
    expect(scrubJson(untouched, X, 'gone')).toBe(untouched);
  });
});

describe('erasing a channel from the control plane', () => {
  const control = embeddedControlForSuite();
  const pool = () => control().pool;

  it('leaves no row of any table naming it, and keeps the other channel', async () => {
    const data = await fillControlPlane(pool(), [X, Y], {
      phone: '+491510000001',
      session: 'a session',
      key: randomBytes(32),
    });
    expect((await controlMentions(pool(), X)).map((m) => m.table)).toEqual(
      expect.arrayContaining([
        'alert_deliveries',
        'alert_openings',
        'alert_subscriptions',
        'api_keys',
        'audit_log',
        'channel_grants',
        'channel_memberships',
        'collector_leases',
        'mtproto_accounts',
        'share_links',
        'tracked_channels',
      ]),
    );
    const before = await controlMentions(pool(), Y);

    const erased = await eraseChannelFromControl(pool(), {
      channelId: X,
      digest: digest(X),
      actor: 'cli',
      details: { warehouse_rows: 42 },
    });
    expect(erased.remaining).toEqual({});
    expect(erased.rows).toMatchObject({
      tracked_channels: 1,
      collector_leases: 1,
      channel_memberships: 1,
      channel_grants: 2,
      alert_subscriptions: 1,
      alert_deliveries: 1,
      alert_openings: 1,
      share_links: 1,
      api_keys: 2,
      mtproto_accounts: 1,
    });
    expect(erased.rows.audit_log).toBeGreaterThan(5);
    expect(await controlMentions(pool(), X)).toEqual([]);
    expect(await controlMentions(pool(), Y)).toEqual(before);

    expect(await getChannel(pool(), X)).toBeNull();
    expect(await getChannel(pool(), Y)).not.toBeNull();
    expect(await grantedChannels(pool(), GRANTED_USER)).toEqual([Y]);
    const keys = Object.fromEntries((await listApiKeys(pool())).map((k) => [k.id, k.channels]));
    expect(keys[data.keys.all.id]).toEqual([Y]);
    // A key of the forgotten channel alone now reads nothing (not every channel: that would be null).
    expect(keys[data.keys.byChannel[X].id]).toEqual([]);
    expect((await listAccounts(pool()))[0].load?.staleChannels).toEqual([Y]);

    const [record] = await listAudit(pool(), { limit: 1 });
    expect(record).toMatchObject({
      actor: 'cli',
      action: FORGET_ACTION,
      target: digestTarget(digest(X)),
      details: { warehouse_rows: 42, control_rows: erased.rows },
    });
    const history = await listAudit(pool(), { limit: 1000 });
    expect(history.filter((a) => a.target === digestTarget(digest(X))).map((a) => a.action)).toEqual(
      expect.arrayContaining(['channel.forget', 'channel.add', 'channel.backfill']),
    );
    expect(history.some((a) => a.target === `${GRANTED_USER}/${digestTarget(digest(X))}`)).toBe(true);
    expect(await lastForgotten(pool(), digest(X))).toBe(record.at);
    expect(await lastForgotten(pool(), digest(Y))).toBeNull();
  });

  it('finds nothing to erase the second time, and records that forget too', async () => {
    const again = await eraseChannelFromControl(pool(), { channelId: X, digest: digest(X), actor: 'cli', details: {} });
    expect(again).toEqual({ rows: {}, remaining: {} });
    expect((await listAudit(pool(), { limit: 1 }))[0].action).toBe(FORGET_ACTION);
  });

  it('refuses what is not a bare channel id', async () => {
    for (const bad of [`-100${X}`, "1' OR '1'='1", ''])
      await expect(
        eraseChannelFromControl(pool(), { channelId: bad, digest: digest(bad), actor: 'cli', details: {} }),
      ).rejects.toThrow(ControlError);
  });
});
