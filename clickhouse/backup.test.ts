import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupDatabase, backupStatement, locationSql, restoreDatabase, restoreStatement } from './backup.ts';
import { WarehouseError } from './errors.ts';
import { openTempWarehouse, type TempWarehouse } from './testing.ts';

describe('backup statements', () => {
  it('names File and Disk locations and takes an incremental base', () => {
    expect(locationSql({ engine: 'File', path: 'tgpulse-1.tar' })).toBe("File('tgpulse-1.tar')");
    expect(locationSql({ engine: 'Disk', disk: 'backups', path: 'a/b.tar' })).toBe("Disk('backups', 'a/b.tar')");
    expect(
      backupStatement('tgpulse', 'b2', { engine: 'File', path: 'b2.tar' }, { engine: 'File', path: 'b1.tar' }),
    ).toBe("BACKUP DATABASE tgpulse TO File('b2.tar') SETTINGS id = 'b2', base_backup = File('b1.tar') ASYNC");
    expect(restoreStatement('tgpulse', 'r1', { engine: 'File', path: 'b2.tar' })).toBe(
      "RESTORE DATABASE tgpulse FROM File('b2.tar') SETTINGS id = 'r1' ASYNC",
    );
  });

  it('refuses names that would leave their SQL string or the backups folder', () => {
    for (const path of ["x'); DROP TABLE t; --", '../etc/passwd', '/abs.tar', ''])
      expect(() => locationSql({ engine: 'File', path }), path).toThrow(TypeError);
    expect(() => locationSql({ engine: 'Disk', disk: 'a b', path: 'x.tar' })).toThrow(TypeError);
    expect(() => backupStatement('tg;pulse', 'b', { engine: 'File', path: 'b.tar' })).toThrow(TypeError);
    expect(() => backupStatement('tgpulse', "b'", { engine: 'File', path: 'b.tar' })).toThrow(TypeError);
  });
});

describe('backup and restore on the local server', () => {
  let temp: TempWarehouse;
  beforeAll(async () => {
    temp = await openTempWarehouse();
  });
  afterAll(() => temp.dispose());

  it('brings back tables, views and aggregate states exactly, also from an incremental archive', async () => {
    const { wh } = temp;
    const db = temp.config.database;
    const row = (id: string, views: number) => ({
      id,
      channel_id: '42',
      post_id: 7,
      event_time: `2026-05-04 10:${String(views).padStart(2, '0')}:00.000`,
      observed_at: `2026-05-04 10:${String(views).padStart(2, '0')}:00.000`,
      views,
      forwards: 1,
      replies: 0,
      reactions_total: 2,
      reactions: {},
      source: 'test',
    });
    await wh.insertRows('raw_post_counters', [row('c1', 10), row('c2', 25)]);
    const summary = `SELECT argMaxMerge(views) AS v FROM post_summary WHERE channel_id = '42' AND post_id = 7`;
    expect(await wh.query(summary)).toEqual([{ v: '25' }]);
    const full = await backupDatabase(wh, db, `${db}_full`, { engine: 'File', path: `${db}_full.tar` });
    expect(full.status).toBe('BACKUP_CREATED');
    await wh.insertRows('raw_post_counters', [row('c3', 40)]);
    const incremental = await backupDatabase(
      wh,
      db,
      `${db}_incr`,
      { engine: 'File', path: `${db}_incr.tar` },
      { base: { engine: 'File', path: `${db}_full.tar` } },
    );
    expect(incremental.uncompressedBytes).toBeLessThan(full.uncompressedBytes);
    const tables = await wh.query<{ name: string }>(
      'SELECT name FROM system.tables WHERE database = {db:String} ORDER BY name',
      { db },
    );

    for (const { name } of tables) await wh.exec(`DROP TABLE IF EXISTS ${db}.${name} SYNC`);
    const restored = await restoreDatabase(wh, db, `${db}_restore`, { engine: 'File', path: `${db}_incr.tar` });
    expect(restored.status).toBe('RESTORED');
    expect(await wh.query('SELECT name FROM system.tables WHERE database = {db:String} ORDER BY name', { db })).toEqual(
      tables,
    );
    expect(await wh.query(summary)).toEqual([{ v: '40' }]);
    // The materialized views came back too: a new row still reaches the serving table.
    await wh.insertRows('raw_post_counters', [row('c4', 55)]);
    expect(await wh.query(summary)).toEqual([{ v: '55' }]);
  });

  it('reports the engine’s error when a restore cannot run', async () => {
    const err = await restoreDatabase(temp.wh, temp.config.database, `${temp.config.database}_missing`, {
      engine: 'File',
      path: 'no-such-backup.tar',
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WarehouseError);
    expect((err as Error).message).toMatch(/warehouse restore \S+ failed: .+/);
  });
});
