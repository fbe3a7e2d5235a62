import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { Pool } from 'pg';
import { createApiKey, verifyApiKey } from './api-keys.ts';
import { grantChannel, grantedChannels, upsertBotUser } from './bot-store.ts';
import { dumpControl, insertOrder, loadControl, splitLine } from './dump.ts';
import { openControlPlane } from './postgres.ts';
import { createShareLink, resolveShareToken, shareSecret } from './share-links.ts';
import { describeControl, freshTestControl } from './testing.ts';
import { savePts, upsertChannel } from './tracked-channels.ts';

const dir = mkdtempSync(join(tmpdir(), 'tgpulse-dump-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every table as Postgres's own JSON text, ordered: equal text means equal rows, to the bit. */
async function tablesAsText(pool: Pool): Promise<Record<string, string>> {
  const { rows: tables } = await pool.query<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1`,
  );
  const out: Record<string, string> = {};
  for (const { name } of tables) {
    const { rows } = await pool.query<{ j: string }>(
      `SELECT coalesce(json_agg(t ORDER BY t::text), '[]')::text AS j FROM "${name}" t`,
    );
    out[name] = rows[0].j;
  }
  return out;
}

describeControl('control-plane dump and load', (suite) => {
  it('loads into a fresh control plane every row, type and identity, and the keys, links and grants still work', async () => {
    const pool = suite.control.pool;
    const { token } = await createApiKey(pool, { name: 'grafana', scopes: ['read'], channels: ['1234567890'] });
    // An access hash near the int64 edge: a JSON.parse on the way would round it.
    await upsertChannel(pool, {
      channelId: '1234567890',
      username: 'durov',
      title: 'Ümlaut "quoted" \\ title',
      accessHash: '-9223372036854775807',
      canViewStats: true,
      statsDc: 2,
      members: 1000,
    });
    await savePts(pool, '1234567890', 4242);
    await upsertBotUser(pool, { userId: '77', username: 'owner', admin: true });
    await grantChannel(pool, { userId: '77', channelId: '1234567890', via: 'admin', grantedBy: null });
    const secret = await shareSecret(pool);
    const now = Date.now();
    const share = await createShareLink(
      pool,
      secret,
      {
        channelId: '1234567890',
        from: now - 86_400_000,
        to: now,
        sections: ['overview'],
        ttlSeconds: 3600,
        createdBy: null,
      },
      now,
    );
    const before = await tablesAsText(pool);

    const file = join(dir, `${suite.driver}.jsonl`);
    const summary = await dumpControl(pool, file);
    expect(summary.tables.api_keys).toBe(1);
    expect(summary.tables.tracked_channels).toBe(1);
    expect(summary.migrations.map((m) => m.version)).toEqual(
      JSON.parse(before.control_migrations).map((m: { version: number }) => m.version),
    );

    const target = await freshTestControl(suite.driver);
    const restored = await openControlPlane(target.config);
    try {
      const loaded = await loadControl(restored.pool, file);
      expect(loaded.tracked_channels).toBe(1);
      const after = await tablesAsText(restored.pool);
      const { control_migrations: _applied, ...rest } = before;
      for (const [table, text] of Object.entries(rest)) expect(after[table], table).toBe(text);
      expect((await verifyApiKey(restored.pool, token))?.name).toBe('grafana');
      expect(await grantedChannels(restored.pool, '77')).toEqual(['1234567890']);
      expect(await resolveShareToken(restored.pool, await shareSecret(restored.pool), share.token, now + 1000)).toEqual(
        {
          ok: true,
          link: share.link,
        },
      );
      // Sequences moved on: a new key gets a fresh row, not a duplicate key error.
      await createApiKey(restored.pool, { name: 'second', scopes: ['read'] });
    } finally {
      await restored.close();
      await target.dispose();
    }
  });

  it('refuses a malformed dump and a table this schema lacks, changing nothing', async () => {
    const bad = join(dir, `${suite.driver}-bad.jsonl`);
    writeFileSync(bad, '{"rows":[]}\n');
    await expect(loadControl(suite.control.pool, bad)).rejects.toThrow(/not \{"table"/);
    writeFileSync(bad, '{"table":"no_such_table","rows":[]}\n');
    await expect(loadControl(suite.control.pool, bad)).rejects.toThrow(/tables this schema lacks: no_such_table/);
    const kept = await suite.control.pool.query('SELECT count(*)::int AS n FROM api_keys');
    expect(kept.rows[0].n).toBeGreaterThan(0);
    expect(readFileSync(bad, 'utf8')).toContain('no_such_table');
  });
});

it('orders tables after the tables they reference, and rejects a cycle', () => {
  expect(
    insertOrder(
      ['alert_deliveries', 'alert_subscriptions', 'bot_users'],
      [
        { from: 'alert_deliveries', to: 'alert_subscriptions' },
        { from: 'alert_subscriptions', to: 'bot_users' },
        { from: 'bot_users', to: 'bot_users' },
      ],
    ),
  ).toEqual(['bot_users', 'alert_subscriptions', 'alert_deliveries']);
  expect(() =>
    insertOrder(
      ['a', 'b'],
      [
        { from: 'a', to: 'b' },
        { from: 'b', to: 'a' },
      ],
    ),
  ).toThrow(/cycle/);
});

it('splits a dump line without parsing its rows', () => {
  expect(splitLine('{"table":"api_keys","rows":[{"id":9223372036854775807}]}')).toEqual({
    table: 'api_keys',
    rows: '[{"id":9223372036854775807}]',
  });
  for (const bad of ['', '{"rows":[]}', '{"table":1,"rows":[]}', '{"table":"x","rows":{}}', 'not json'])
    expect(splitLine(bad)).toBeNull();
});
