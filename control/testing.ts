/**
 * Test support: a fresh control plane per test file on each driver, so the
 * same specs run on embedded PGlite and, when one answers, a Postgres server.
 * Not used by production code.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe } from 'vitest';
import type { ControlConfig } from './config.ts';
import type { Pool } from 'pg';
import type { CollectorLease } from './collector-leases.ts';
import { openControlPlane, type ControlPlane } from './postgres.ts';
import { postgresAnswers } from './postgres-probe.ts';
import { seedEmbeddedFolder } from './pglite-template.ts';

/** The server the `server` variant uses; it must allow creating databases. */
export const TEST_POSTGRES_URL = process.env.TGPULSE_TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

/** A control plane of its own for one test file. */
export interface TestControl {
  /** The configuration to open it with. */
  config: ControlConfig;
  /** TGPULSE_* variables that make `loadConfig` point at the same control plane. */
  env: Record<string, string>;
  /** Removes the data folder, and the database on a server. Close handles first. */
  dispose(): Promise<void>;
}

/**
 * A fresh, empty control plane on `driver`: a temp folder for the embedded
 * store, a database `tgpulse_test_<random>` on the test server, so parallel
 * runs do not see each other.
 */
export async function freshTestControl(driver: ControlConfig['driver']): Promise<TestControl> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tgpulse-control-'));
  const removeDir = () => rm(dataDir, { recursive: true, force: true });
  if (driver === 'embedded') {
    // The path cli/config.ts derives from TGPULSE_DATA_DIR.
    const path = join(dataDir, 'pglite');
    seedEmbeddedFolder(path);
    return {
      config: { driver, path },
      env: { TGPULSE_DATA_DIR: dataDir },
      dispose: removeDir,
    };
  }
  const database = `tgpulse_test_${randomBytes(6).toString('hex')}`;
  await onServer(`CREATE DATABASE ${database}`);
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${database}`;
  return {
    config: { driver, url: url.toString() },
    env: { TGPULSE_DATA_DIR: dataDir, TGPULSE_POSTGRES_URL: url.toString() },
    async dispose() {
      await onServer(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await removeDir();
    },
  };
}

async function onServer(sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

/**
 * An embedded control plane for the specs of the enclosing describe (or file):
 * opened before them, closed and removed after. Read it inside specs.
 *
 * ```ts
 * const control = embeddedControlForSuite();
 * it('…', async () => { await listAccounts(control().pool); });
 * ```
 */
export function embeddedControlForSuite(): () => ControlPlane {
  let test: TestControl | null = null;
  let control: ControlPlane | null = null;
  beforeAll(async () => {
    test = await freshTestControl('embedded');
    control = await openControlPlane(test.config);
  });
  afterAll(async () => {
    await control?.close();
    await test?.dispose();
  });
  return () => {
    if (control === null) throw new Error('the control plane opens in beforeAll: use it inside specs and hooks');
    return control;
  };
}

const serverAvailable = await postgresAnswers(TEST_POSTGRES_URL);

/** What the specs of `describeControl` get: the driver and, once the suite started, its open control plane. */
export interface ControlSuite {
  driver: ControlConfig['driver'];
  /** Open for the whole suite; closed after it. */
  readonly control: ControlPlane;
  readonly test: TestControl;
  /** Closes the control plane and opens it again from its configuration, as a restart would. */
  reopen(): Promise<void>;
}

/**
 * Runs `specs` once per driver, each against a fresh control plane opened
 * once for the suite (PGlite takes seconds to create). The server variant is
 * reported as skipped when no server answers at TEST_POSTGRES_URL.
 */
export function describeControl(title: string, specs: (suite: ControlSuite) => void): void {
  const drivers = [
    { driver: 'embedded' as const, available: true },
    { driver: 'server' as const, available: serverAvailable },
  ];
  describe.each(drivers)(`${title} ($driver)`, ({ driver, available }) => {
    let test: TestControl | null = null;
    let control: ControlPlane | null = null;
    const started = <T>(value: T | null): T => {
      if (value === null) throw new Error('the control plane opens in beforeAll: use it inside specs and hooks');
      return value;
    };
    const suite: ControlSuite = {
      driver,
      get control() {
        return started(control);
      },
      get test() {
        return started(test);
      },
      async reopen() {
        await started(control).close();
        control = await openControlPlane(started(test).config);
      },
    };
    describe.skipIf(!available)(
      available ? 'on a fresh control plane' : `needs Postgres at ${TEST_POSTGRES_URL}`,
      () => {
        beforeAll(async () => {
          test = await freshTestControl(driver);
          control = await openControlPlane(test.config);
        });
        afterAll(async () => {
          await control?.close();
          await test?.dispose();
        });
        specs(suite);
      },
    );
  });
}

/** The holder's live (unexpired) leases, by channel id, read from the table itself. */
export async function leasesOf(pool: Pool, holder: string, clock: { now: number }): Promise<CollectorLease[]> {
  const now = new Date(clock.now);
  const { rows } = await pool.query<{
    channel_id: string;
    account_id: string;
    holder: string;
    expires_at: Date;
    acquired_at: Date;
  }>(
    'SELECT channel_id, account_id, holder, expires_at, acquired_at FROM collector_leases WHERE holder = $1 AND expires_at > $2',
    [holder, now],
  );
  const leases = rows.map((r) => ({
    channelId: r.channel_id,
    accountId: r.account_id,
    holder: r.holder,
    expiresAt: r.expires_at.getTime(),
    acquiredAt: r.acquired_at.getTime(),
  }));
  // Numeric order of decimal ids, as the leases module returns them.
  return leases.sort((x, y) => x.channelId.length - y.channelId.length || (x.channelId < y.channelId ? -1 : 1));
}
