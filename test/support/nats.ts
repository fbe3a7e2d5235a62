/**
 * A private nats-server per test file (own port, own store), so test runs
 * never collide with each other or with a NATS already on the machine.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import type { KV } from '@nats-io/kv';
import { startLocalNats, type LocalNats } from '../../cli/local-nats.ts';
import { defaultStreamsConfig } from '../../streams/config.ts';
import { openCheckpointBucket } from '../../streams/topology.ts';

export interface TestNats extends LocalNats {
  storeDir: string;
}

export async function startTestNats(): Promise<TestNats> {
  const storeDir = mkdtempSync(join(tmpdir(), 'tgpulse-nats-'));
  const local = await startLocalNats(storeDir);
  return {
    ...local,
    storeDir,
    async stop() {
      await local.stop();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `tgpulse-${prefix}-`));
}

/** A private nats-server with a connection and the checkpoint bucket (where leases live too). */
export async function startTestKv(): Promise<{ kv: KV; stop(): Promise<void> }> {
  const server = await startTestNats();
  const nc = await connect({ servers: server.url });
  const kv = await openCheckpointBucket(nc, defaultStreamsConfig);
  return {
    kv,
    async stop() {
      await nc.close();
      await server.stop();
    },
  };
}
