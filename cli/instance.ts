/**
 * The running-instance file: `tgpulse up` writes where its endpoints listen
 * (ops, API, NATS, the embedded control plane), so other commands
 * (`status`, `apikey`) find the running process.
 */
import { existsSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export interface InstanceInfo {
  pid: number;
  url: string;
  started_at: number;
  /** The embedded control plane's Postgres wire URL (see ControlPlane.wireUrl), when it has one. */
  postgres_url?: string;
  /** Where the REST API listens. */
  api_url?: string;
  /** The NATS server the instance uses. */
  nats_url?: string;
}

const FILE = 'instance.json';

export function writeInstance(dataDir: string, info: InstanceInfo): void {
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(join(dataDir, FILE), JSON.stringify(info));
}

export function removeInstance(dataDir: string, pid: number): void {
  const current = readInstance(dataDir);
  if (current?.pid === pid) rmSync(join(dataDir, FILE), { force: true });
}

/** The instance that owns the data folder, if its process is alive. */
export function readInstance(dataDir: string): InstanceInfo | null {
  const path = join(dataDir, FILE);
  if (!existsSync(path)) return null;
  try {
    const info = JSON.parse(readFileSync(path, 'utf8')) as InstanceInfo;
    process.kill(info.pid, 0);
    return info;
  } catch {
    return null;
  }
}
