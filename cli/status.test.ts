import { describe, expect, it } from 'vitest';
import type { MtprotoAccount } from '../control/index.ts';
import { collectorStatus, renderStatus, type Status } from './status.ts';

const base: MtprotoAccount = {
  id: 'acc1',
  phone: '+4915100000001',
  userId: null,
  status: 'active',
  proxy: null,
  health: 1,
  parkedUntil: null,
  lastError: null,
  joinsRefusedUntil: null,
  load: null,
  createdAt: 0,
  updatedAt: 0,
};

const STATUS: Status = {
  running: true,
  api_url: null,
  ops_url: null,
  nats_url: null,
  warehouse: {
    driver: 'local',
    http_url: null,
    native_port: null,
    database: 'tgpulse',
    reader_user: null,
    reader_password_file: null,
  },
  control_plane: 'embedded',
  data_dir: '/data',
};

describe('the collectors in tgpulse status', () => {
  it("shows each account's channels, share within the freshness targets and budget use", () => {
    const at = Date.UTC(2026, 11, 7, 9, 0);
    const rows = collectorStatus([
      {
        ...base,
        load: { budgetUsed: 0.4567, channelsHeld: 800, channelsFresh: 796, staleChannels: ['1001', '1002'], at },
      },
      { ...base, id: 'acc2', status: 'disabled' },
    ]);
    expect(rows).toEqual([
      {
        account: 'acc1',
        status: 'active',
        channels_held: 800,
        channels_fresh_share: 0.995,
        budget_used: 0.457,
        stale_channels: ['1001', '1002'],
        reported_at: '2026-12-07T09:00:00.000Z',
      },
      {
        account: 'acc2',
        status: 'disabled',
        channels_held: null,
        channels_fresh_share: null,
        budget_used: null,
        stale_channels: [],
        reported_at: null,
      },
    ]);
    const text = renderStatus({ ...STATUS, collectors: rows });
    expect(text).toContain(
      'acc1                 800 channels, 100% fresh, 46% of budget (as of 2026-12-07T09:00:00.000Z)',
    );
    expect(text).toContain('    furthest behind: 1001, 1002');
    expect(text).toContain('acc2                 disabled - channels, - fresh, - of budget (no report yet)');
  });

  it('says when there is no account, or the control plane could not be read', () => {
    expect(renderStatus({ ...STATUS, collectors: [] })).toContain('no Telegram account (tgpulse login)');
    expect(renderStatus({ ...STATUS, collectors: 'control plane not readable: refused' })).toContain(
      'collectors             control plane not readable: refused',
    );
    expect(renderStatus(STATUS)).not.toContain('collectors');
  });
});
