import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { expect, it } from 'vitest';
import { loadControlMigrations, migrateControl } from './migrate.ts';
import { openControlPlane } from './postgres.ts';
import { shareSecret } from './share-links.ts';
import { describeControl, freshTestControl } from './testing.ts';

describeControl('control plane', (suite) => {
  const pool = () => suite.control.pool;

  it('answers once open', async () => {
    expect(suite.control.driver).toBe(suite.driver);
    await expect(suite.control.ping()).resolves.toBeUndefined();
  });

  it('has applied every migration, recorded with its checksum', async () => {
    const migrations = await loadControlMigrations();
    expect(migrations.map((m) => m.name)).toContain('001_control.sql');
    const { rows } = await pool().query('SELECT version, name, checksum FROM control_migrations ORDER BY version');
    expect(rows).toEqual(migrations.map((m) => ({ version: m.version, name: m.name, checksum: m.checksum })));
    const tables = await pool().query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
    );
    expect(tables.rows.map((r) => r.table_name)).toEqual([
      'alert_deliveries',
      'alert_openings',
      'alert_subscriptions',
      'alert_webhooks',
      'api_keys',
      'audit_log',
      'bot_users',
      'channel_grants',
      'channel_memberships',
      'collector_leases',
      'control_migrations',
      'control_secrets',
      'digest_deliveries',
      'digest_subscriptions',
      'mtproto_accounts',
      'share_links',
      'track_requests',
      'tracked_channels',
    ]);
  });

  it('applies nothing the second time', async () => {
    expect(await migrateControl(pool())).toEqual([]);
  });

  it('refuses to start when an applied migration was changed', async () => {
    const changed = (await loadControlMigrations()).map((m) =>
      m.version === 1 ? { ...m, sql: `${m.sql}\n-- edited`, checksum: 'f'.repeat(64) } : m,
    );
    await expect(migrateControl(pool(), { migrations: changed })).rejects.toThrow(
      /001_control\.sql was changed after it was applied.*new numbered migration/,
    );
    // Still usable: the refused transaction rolled back.
    await expect(suite.control.ping()).resolves.toBeUndefined();
  });

  it('closes a handle once, however often close is called', async () => {
    const extra = await openControlPlane(suite.test.config);
    await extra.close();
    await extra.close();
    await expect(suite.control.ping()).resolves.toBeUndefined();
  });

  it('keeps the generated share secret across a restart', async () => {
    const before = await shareSecret(pool());
    await suite.reopen();
    expect(await shareSecret(pool())).toEqual(before);
  });

  it.runIf(suite.driver === 'embedded')('shares one embedded store among the handles of a process', async () => {
    const extra = await openControlPlane(suite.test.config);
    expect(extra.pool).toBe(pool());
    await extra.close();
    await expect(pool().query('SELECT 1')).resolves.toBeDefined();
  });

  it.runIf(suite.driver === 'embedded')(
    'refuses an embedded store another live process holds, and takes over from a dead one',
    async () => {
      const config = suite.test.config;
      if (config.driver !== 'embedded') throw new Error('unreachable');
      const lock = `${config.path}.lock`;
      expect((await readFile(lock, 'utf8')).trim()).toBe(String(process.pid));
      await suite.control.close();

      // The parent of this test worker is alive for sure.
      await writeFile(lock, `${process.ppid}\n`);
      await expect(openControlPlane(config)).rejects.toThrow(
        new RegExp(`in use by process ${process.ppid}.*TGPULSE_POSTGRES_URL`),
      );

      const gone = spawnSync(process.execPath, ['-e', '']).pid;
      await writeFile(lock, `${gone}\n`);
      // The handle is closed already; closing again is a no-op, then it opens.
      await suite.reopen();
      await expect(suite.control.ping()).resolves.toBeUndefined();
      expect((await readFile(lock, 'utf8')).trim()).toBe(String(process.pid));
    },
  );

  it.runIf(suite.driver === 'server')('lets two processes migrate a fresh database at once', async () => {
    const fresh = await freshTestControl('server');
    const url = fresh.config.driver === 'server' ? fresh.config.url : '';
    const pools = [new pg.Pool({ connectionString: url }), new pg.Pool({ connectionString: url })];
    try {
      const applied = await Promise.all(pools.map((p) => migrateControl(p)));
      // Each migration is applied once, by one of them (they may take turns, each in version order).
      expect(applied.flat().sort((a, b) => a - b)).toEqual((await loadControlMigrations()).map((m) => m.version));
      for (const a of applied) expect(a).toEqual([...a].sort((x, y) => x - y));
    } finally {
      await Promise.all(pools.map((p) => p.end()));
      await fresh.dispose();
    }
  });
});

it('says what to do when the Postgres server cannot be reached', async () => {
  await expect(
    openControlPlane({ driver: 'server', url: 'postgres://tgpulse:hunter2@127.0.0.1:1/tgpulse' }),
  ).rejects.toThrow(
    /cannot reach Postgres at postgres:\/\/tgpulse:\*\*\*@127\.0\.0\.1:1\/tgpulse: .*ECONNREFUSED.*TGPULSE_POSTGRES_URL/,
  );
});

it('says why an embedded store cannot be opened', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tgpulse-control-'));
  try {
    // A file where the data folder should be.
    await writeFile(join(dir, 'pglite'), 'not a folder');
    await expect(openControlPlane({ driver: 'embedded', path: join(dir, 'pglite') })).rejects.toThrow(
      /cannot open the embedded control plane at .*pglite: /,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
