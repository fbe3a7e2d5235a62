/**
 * Test support: a migrated chDB warehouse in a fresh temporary folder. chDB
 * allows one data folder per process, so a test file opens one warehouse in
 * `beforeAll` and closes it in `afterAll` (vitest runs each file in its own
 * process).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate } from './migrate.ts';
import { openWarehouse, type Warehouse } from './warehouse.ts';

export interface TempWarehouse {
  wh: Warehouse;
  path: string;
  /** Close the warehouse and delete its folder. */
  dispose(): Promise<void>;
}

/** Open an embedded warehouse in a new temp folder, migrated unless `migrated: false`. */
export async function openTempWarehouse(opts: { migrated?: boolean } = {}): Promise<TempWarehouse> {
  const path = mkdtempSync(join(tmpdir(), 'tgpulse-ch-'));
  const wh = await openWarehouse({ driver: 'embedded', path });
  if (opts.migrated !== false) await migrate(wh);
  return {
    wh,
    path,
    async dispose() {
      await wh.close();
      rmSync(path, { recursive: true, force: true });
    },
  };
}
