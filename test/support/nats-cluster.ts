/**
 * A three-node NATS JetStream cluster on loopback, from the configs that
 * production uses (infra/nats/), with their authentication: clients log in as
 * the tgpulse user, routes with their own password. Nodes can be SIGKILLed and
 * started again on the same ports and store, as a crashed server restarts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findNatsServer } from '../../cli/local-nats.ts';
import { dieWithParent, serverPort, stopChild } from '../../clickhouse/local-server/child.ts';
import { until } from './until.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const NODES = 3;

/** What `/jsz` says about the JetStream meta group, from one node's view. */
interface MetaCluster {
  leader?: string;
  cluster_size?: number;
  replicas?: Array<{ name: string; current: boolean; offline?: boolean }>;
}

export class NatsCluster {
  readonly #work = mkdtempSync(join(tmpdir(), 'tgpulse-nats-cluster-'));
  readonly #nodes: Array<ChildProcess | null> = Array.from({ length: NODES }, () => null);
  readonly #logs: string[] = Array.from({ length: NODES }, () => '');
  #env: Record<string, string | undefined> = {};
  /** The tgpulse user's password (starts with a digit, as a config-parsing trap worth keeping covered). */
  readonly password = `0${randomBytes(12).toString('hex')}`;
  clientPorts: number[] = [];
  httpPorts: number[] = [];

  private constructor() {}

  /** Writes the three configs (loopback ports, a temp store per node) and starts every node. */
  static async start(): Promise<NatsCluster> {
    const c = new NatsCluster();
    // Nodes restart on the same ports: keep them where outgoing connections cannot take them meanwhile.
    const ports: number[] = [];
    for (let i = 0; i < 3 * NODES; i++) ports.push(await serverPort());
    c.clientPorts = ports.slice(0, NODES);
    c.httpPorts = ports.slice(NODES, 2 * NODES);
    const routePorts = ports.slice(2 * NODES);
    // Quoted as compose passes them: nats-server parses a $VAR's value as config text.
    const routeSecret = `1${randomBytes(8).toString('hex')}`;
    c.#env = {
      PATH: process.env.PATH,
      NATS_TGPULSE_PASSWORD: `"${c.password}"`,
      NATS_SYS_PASSWORD: `"9${randomBytes(8).toString('hex')}"`,
      NATS_ROUTE_PASSWORD: `"${routeSecret}"`,
      ...Object.fromEntries(
        routePorts.map((p, i) => [`NATS_ROUTE_${i + 1}`, `"nats://route:${routeSecret}@127.0.0.1:${p}"`]),
      ),
    };
    for (let i = 0; i < NODES; i++) {
      let conf = readFileSync(join(ROOT, `infra/nats/nats-${i + 1}.conf`), 'utf8');
      conf = swap(conf, 'listen: 0.0.0.0:4222', `listen: 127.0.0.1:${c.clientPorts[i]}`);
      conf = swap(conf, 'http: 0.0.0.0:8222', `http: 127.0.0.1:${c.httpPorts[i]}`);
      conf = swap(conf, 'listen: 0.0.0.0:6222', `listen: 127.0.0.1:${routePorts[i]}`);
      conf = swap(conf, 'store_dir: /data/jetstream', `store_dir: "${join(c.#work, `store-${i + 1}`)}"`);
      writeFileSync(c.#confFile(i), conf);
    }
    try {
      for (let i = 0; i < NODES; i++) c.startNode(i);
    } catch (err) {
      await c.stop();
      throw err;
    }
    return c;
  }

  /** The client URL tgpulse is given: every node, the credentials on the first (TGPULSE_NATS_URL's form). */
  get url(): string {
    return this.clientPorts
      .map((p, i) => (i === 0 ? `nats://tgpulse:${this.password}@127.0.0.1:${p}` : `nats://127.0.0.1:${p}`))
      .join(',');
  }

  /** The last output of every node, for failure messages. */
  logs(): string {
    return this.#logs.map((l, i) => `--- nats-${i + 1}\n${l}`).join('\n');
  }

  #confFile(i: number): string {
    return join(this.#work, `nats-${i + 1}.conf`);
  }

  /** Starts node `i` (again): same ports, same store, as a restarted server. */
  startNode(i: number): void {
    if (this.#nodes[i] !== null) throw new Error(`nats-${i + 1} is running`);
    const natsServer = findNatsServer();
    if (natsServer === null) throw new Error('nats-server not found on PATH');
    const [cmd, ...prefix] = [...dieWithParent(), natsServer];
    const child = spawn(cmd, [...prefix, '-c', this.#confFile(i)], {
      env: this.#env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr?.on('data', (b: Buffer) => (this.#logs[i] = (this.#logs[i] + b.toString()).slice(-6000)));
    child.once('exit', () => this.#nodes[i] === child && (this.#nodes[i] = null));
    this.#nodes[i] = child;
  }

  /** SIGKILLs node `i`, as a crashed machine: no goodbye to its peers or clients. */
  async killNode(i: number): Promise<void> {
    const child = this.#nodes[i];
    if (child === null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.#nodes[i] = null;
  }

  running(i: number): boolean {
    return this.#nodes[i] !== null;
  }

  /** The meta group as node `i` sees it; null when it does not answer. */
  async meta(i: number): Promise<MetaCluster | null> {
    try {
      const res = await fetch(`http://127.0.0.1:${this.httpPorts[i]}/jsz`, { signal: AbortSignal.timeout(2000) });
      return ((await res.json()) as { meta_cluster?: MetaCluster }).meta_cluster ?? null;
    } catch {
      return null;
    }
  }

  /** Index of the JetStream meta leader, once the running nodes agree on one. */
  async metaLeader(timeoutMs = 30_000): Promise<number> {
    let leader = -1;
    await until(
      'a JetStream meta leader the running nodes agree on',
      async () => {
        const views = await Promise.all(this.#nodes.map((n, i) => (n === null ? null : this.meta(i))));
        const names = new Set(views.filter((v) => v !== null).map((v) => v.leader ?? ''));
        const [name] = names;
        if (names.size !== 1 || !name) return false;
        leader = Number(name.replace('nats-', '')) - 1;
        return this.running(leader);
      },
      timeoutMs,
      200,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${this.logs()}`);
    });
    return leader;
  }

  /** Waits until every node runs and the meta group has all of them current. */
  async healthy(timeoutMs = 60_000): Promise<void> {
    await until(
      'all three nodes current in the JetStream meta group',
      async () => {
        const leader = await this.metaLeader(timeoutMs);
        const view = await this.meta(leader);
        const peers = view?.replicas ?? [];
        return peers.length === NODES - 1 && peers.every((p) => p.current && !p.offline);
      },
      timeoutMs,
      250,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${this.logs()}`);
    });
  }

  async stop(): Promise<void> {
    await Promise.all(this.#nodes.map((n) => (n === null ? undefined : stopChild(n, 5000))));
    rmSync(this.#work, { recursive: true, force: true });
  }
}

/** Replaces `from` in `text`, failing when the config no longer contains it. */
function swap(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`config has no ${JSON.stringify(from)}`);
  return text.replace(from, to);
}
