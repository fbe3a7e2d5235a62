/**
 * Backup, wipe, restore, against the real roles as child processes:
 *
 * 1. the pipeline runs on the simulated input, with an API key in its
 *    control plane; `tgpulse backup` is taken while the processors, sinks and
 *    a publisher are busy; the run goes on after it;
 * 2. everything is stopped and wiped: the data folder and the nats-server
 *    with its store;
 * 3. `tgpulse restore` brings the backup into an empty data folder and a new
 *    nats-server, the roles start again and the rest of the input arrives
 *    (what the restored TG_RAW lacks, as collectors would read it again from
 *    their restored cursors).
 *
 * The final tables equal an uninterrupted run's: 0 lost, 0 doubled. A
 * corrupted backup, one from another schema, and a restore into a folder
 * that holds data are refused with errors that say why.
 */
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyApiKey } from '../control/api-keys.ts';
import { openControlPlane } from '../control/postgres.ts';
import type { RawEvent } from '../streams/contract/events.ts';
import { partitionOf } from '../streams/contract/ids.ts';
import { defaultStreamsConfig } from '../streams/config.ts';
import { startTestNats, tempDir } from './support/nats.ts';
import { spawnRole, stopRole, type RoleProcess } from './support/roles.ts';
import { until } from './support/until.ts';
import {
  dumpTables,
  input,
  publishBatches,
  publishAll,
  rowDifference,
  startWarehouse,
  uninterruptedDump,
  untilIdle,
  runOn,
  type Dump,
} from './support/runs.ts';

/** Runs a `tgpulse` command to its end; returns its exit code and output. */
async function tgpulse(args: string[], env: Record<string, string>): Promise<{ code: number | string; out: string }> {
  const [command, ...rest] = args;
  const role = spawnRole(command, rest, env, 200_000);
  const code = await role.exited;
  return { code, out: role.output() };
}

/** The ids of every raw event TG_RAW holds. */
async function rawEventIds(url: string): Promise<Set<string>> {
  const nc = await connect({ servers: url });
  try {
    const consumer = await jetstream(nc).consumers.get(defaultStreamsConfig.names.raw);
    const ids = new Set<string>();
    const messages = await consumer.consume();
    for await (const m of messages) {
      for (const e of m.json<RawEvent[]>()) ids.add(e.id);
      if (m.info.pending === 0) break;
    }
    return ids;
  } finally {
    await nc.close();
  }
}

/** The stream sequence each processor checkpoint covers, as the checkpoint bucket holds them. */
async function checkpointHeads(url: string): Promise<Map<string, number>> {
  const nc = await connect({ servers: url });
  try {
    const kv = await new Kvm(nc).open(defaultStreamsConfig.names.checkpoints);
    const seqs = new Map<string, number>();
    for await (const key of await kv.keys('processor.*.head')) {
      const head = await kv.get(key);
      if (head?.operation === 'PUT') seqs.set(key, head.json<{ seq: number }>().seq);
    }
    return seqs;
  } finally {
    await nc.close();
  }
}

const CUT_AT = 0.4;
const BACKUP_DURING = 0.7;

describe('backup while running, wipe, restore', () => {
  const batches = input();
  /** Partitions the input's channels fall into: the others never have anything to checkpoint. */
  const busyPartitions = new Set(batches.flat().map((e) => partitionOf(e.channel_id, defaultStreamsConfig.partitions)))
    .size;
  let clean: Dump;
  let restored: Dump;
  let baseDir: string;
  let backupDir: string;
  let backupOut = '';
  let apiToken = '';
  /** Raw events the restored TG_RAW held, and those published after the restore. */
  let split = { restored: 0, rest: 0 };
  let checkpointedBefore = new Map<string, number>();
  let checkpointSeqs = new Map<string, number>();
  const cleanup: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    clean = await uninterruptedDump();
    const backups = tempDir('backup');
    baseDir = join(backups, 'full');
    backupDir = join(backups, 'incremental');
    cleanup.push(async () => rmSync(join(backupDir, '..'), { recursive: true, force: true }));

    // 1. The first run, backed up while it works.
    const first = runOn(await startTestNats(), tempDir('backup-first'));
    const roles: RoleProcess[] = [];
    try {
      const key = await tgpulse(['apikey', 'create', '--name', 'grafana', '--scopes', 'read'], first.env);
      expect(key.code, key.out).toBe(0);
      apiToken = /tgp_[A-Za-z0-9_-]+/.exec(key.out)?.[0] ?? '';
      await publishAll(first.nats.url, batches.slice(0, Math.floor(batches.length * CUT_AT)));
      roles.push(await startWarehouse(first));
      roles.push(spawnRole('process', [], first.env), spawnRole('sink', [], first.env));
      // A full backup while the processors and sinks work through the first part…
      const full = await tgpulse(['backup', baseDir], first.env);
      expect(full.code, full.out).toBe(0);
      const nc = await connect({ servers: first.nats.url });
      const publishing = publishBatches(
        nc,
        batches.slice(Math.floor(batches.length * CUT_AT), Math.floor(batches.length * BACKUP_DURING)),
        { maxInflight: 1 },
      );
      // …and the one restored: incremental over it, taken while more input arrives, once every
      // partition has checkpointed some of it.
      checkpointedBefore = await until(
        'every partition checkpointed',
        async () => {
          const heads = await checkpointHeads(first.nats.url);
          return [...heads.values()].filter((seq) => seq > 0).length === busyPartitions ? heads : null;
        },
        120_000,
        200,
      );
      const backup = await tgpulse(['backup', backupDir, '--base', baseDir], first.env);
      backupOut = backup.out;
      expect(backup.code, backup.out).toBe(0);
      await publishing;
      await nc.close();
      await untilIdle(first);
      for (const r of roles.slice(1)) expect(await stopRole(r), r.output()).toBe(0);
    } finally {
      for (const r of roles.reverse()) await stopRole(r);
      // 2. Wiped: the nats-server with its store, the data folder.
      await first.nats.stop();
      rmSync(first.dataDir, { recursive: true, force: true });
    }

    // 3. Restored into nothing, then the rest of the input.
    const second = runOn(await startTestNats(), tempDir('backup-second'));
    cleanup.push(() => second.nats.stop());
    cleanup.push(async () => rmSync(second.dataDir, { recursive: true, force: true }));
    const restore = await tgpulse(['restore', backupDir], second.env);
    expect(restore.code, restore.out).toBe(0);
    const control = await openControlPlane({ driver: 'embedded', path: join(second.dataDir, 'pglite') });
    try {
      expect((await verifyApiKey(control.pool, apiToken))?.name, `${apiToken}\n${restore.out}`).toBe('grafana');
    } finally {
      await control.close();
    }
    checkpointSeqs = await checkpointHeads(second.nats.url);
    const present = await rawEventIds(second.nats.url);
    const rest = batches.map((b) => b.filter((e) => !present.has(e.id))).filter((b) => b.length > 0);
    split = { restored: present.size, rest: rest.reduce((n, b) => n + b.length, 0) };
    const again: RoleProcess[] = [];
    try {
      again.push(await startWarehouse(second));
      again.push(spawnRole('process', [], second.env), spawnRole('sink', [], second.env));
      const nc = await connect({ servers: second.nats.url });
      await publishBatches(nc, rest, { maxInflight: 1 });
      await nc.close();
      await untilIdle(second);
      for (const r of again.slice(1)) expect(await stopRole(r), r.output()).toBe(0);
      restored = await dumpTables(second.dataDir);
    } finally {
      for (const r of again.reverse()) await stopRole(r);
    }
  }, 600_000);

  afterAll(async () => {
    for (const step of cleanup.reverse()) await step();
  });

  it('prints the backup time and size, the incremental one over its base', () => {
    expect(backupOut).toMatch(
      /backup tgpulse-\S+ written to .* in [\d.]+ (ms|s|min)[^:]*: [\d.]+ [KMG]?B in \d+ files/,
    );
    expect(backupOut).toMatch(/warehouse: .* of data, incremental over tgpulse-\S+/);
    process.stdout.write(
      `${backupOut
        .split('\n')
        .filter((l) => /backup|stream|warehouse|control/.test(l))
        .join('\n')}\n`,
    );
  });

  it('was taken mid-run: part of the input came after it, and the processors resume from restored checkpoints', () => {
    expect(split.restored).toBeGreaterThan(0);
    expect(split.rest).toBeGreaterThan(0);
    expect(checkpointSeqs.size).toBe(defaultStreamsConfig.partitions);
    for (const [key, seq] of checkpointedBefore) expect(checkpointSeqs.get(key), key).toBeGreaterThanOrEqual(seq);
  });

  it('ends with the tables of an uninterrupted run: 0 lost, 0 doubled', () => {
    expect(restored.raw_posts.length).toBeGreaterThan(0);
    expect(rowDifference(clean, restored)).toEqual({ lost: 0, doubled: 0 });
  });

  describe('refused backups', () => {
    const env = (dataDir: string) => ({ TGPULSE_DATA_DIR: dataDir, TGPULSE_NATS_URL: 'nats://127.0.0.1:1' });

    it('refuses a backup whose archive was corrupted, naming the file', async () => {
      const copy = join(backupDir, '..', 'corrupt');
      cpSync(backupDir, copy, { recursive: true });
      const manifest = JSON.parse(readFileSync(join(copy, 'manifest.json'), 'utf8'));
      const archive = join(copy, manifest.warehouse.archive.file);
      const bytes = readFileSync(archive);
      bytes[Math.floor(bytes.length / 2)] ^= 0xff;
      writeFileSync(archive, bytes);
      const dataDir = tempDir('restore-corrupt');
      cleanup.push(async () => rmSync(dataDir, { recursive: true, force: true }));
      const { code, out } = await tgpulse(['restore', copy], env(dataDir));
      expect(code).toBe(1);
      expect(out).toMatch(/cannot be restored: warehouse\/tgpulse-\S+\.tar fails its checksum/);
      expect(existsSync(join(dataDir, 'pglite'))).toBe(false);
    });

    it('refuses a backup from a different schema, saying which migration differs', async () => {
      const copy = join(backupDir, '..', 'other-schema');
      cpSync(backupDir, copy, { recursive: true });
      const manifest = JSON.parse(readFileSync(join(copy, 'manifest.json'), 'utf8'));
      manifest.warehouse.migrations[2].checksum = 'f'.repeat(64);
      writeFileSync(join(copy, 'manifest.json'), JSON.stringify(manifest));
      const { code, out } = await tgpulse(['restore', copy], env(tempDir('restore-schema')));
      expect(code).toBe(1);
      expect(out).toMatch(
        /the warehouse of this backup applied migration 3 \(\w+\) with checksum ffffffffffff…, this tgpulse has [0-9a-f]{12}…: it was made from a different schema/,
      );
    });

    it('refuses to restore into a data folder that holds data', async () => {
      const dataDir = tempDir('restore-used');
      cpSync(join(backupDir, 'control.jsonl'), join(dataDir, 'pglite', 'base', 'x'), { recursive: true });
      const { code, out } = await tgpulse(['restore', backupDir], env(dataDir));
      expect(code).toBe(1);
      expect(out).toMatch(/already holds data .*pglite.*: restore into an empty data folder/);
    });
  });
});
