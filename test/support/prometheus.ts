/**
 * Prometheus and promtool for the tests of infra/prometheus/: finding them
 * (and saying how to install them when they are missing), running promtool,
 * and a private Prometheus server — its own config, data folder and port, so
 * it never meets a system Prometheus (Debian's package runs one on :9090).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { anyFreePort, dieWithParent } from '../../clickhouse/local-server/child.ts';
import { sleep } from '../../common/retry.ts';
import { until } from './until.ts';

/** The same instruction scripts/bootstrap.sh prints when it cannot install the package itself. */
export const PROMETHEUS_INSTALL_HINT =
  'prometheus and promtool are missing (the tests of infra/prometheus/ need them). ' +
  'Install them with: sudo apt-get install --no-install-recommends prometheus ' +
  '(scripts/bootstrap.sh, which `npm test` runs first, does it when it runs as root or with sudo)';

function findBinary(name: string): string | null {
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/local/bin'])
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  return null;
}

/** Paths of both binaries; throws the install instruction when either is missing. */
export function prometheusBinaries(): { prometheus: string; promtool: string } {
  const prometheus = findBinary('prometheus');
  const promtool = findBinary('promtool');
  if (!prometheus || !promtool) throw new Error(PROMETHEUS_INSTALL_HINT);
  return { prometheus, promtool };
}

/** Runs promtool; `output` holds stdout and stderr, for the failure message. */
export function promtool(args: string[], cwd: string): { status: number | null; output: string } {
  const r = spawnSync(prometheusBinaries().promtool, args, { cwd, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}${r.error ? String(r.error) : ''}` };
}

export interface PrometheusServer {
  url: string;
  /** Its last log lines. */
  output(): string;
  /** `GET /api/v1/<path>`: the `data` of a successful answer. */
  api<T>(path: string): Promise<T>;
  stop(): Promise<void>;
}

/** Starts Prometheus on `configYaml`, with a data folder and port of its own; resolves once it is ready. */
export async function startPrometheus(configYaml: string): Promise<PrometheusServer> {
  const dir = mkdtempSync(join(tmpdir(), 'tgpulse-prometheus-'));
  const config = join(dir, 'prometheus.yml');
  writeFileSync(config, configYaml);
  const port = await anyFreePort();
  const [cmd, ...args] = [
    ...dieWithParent(),
    prometheusBinaries().prometheus,
    `--config.file=${config}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ];
  // A group of its own, so a stop reaches whatever it started too.
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let log = '';
  child.stderr.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-8000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const server: PrometheusServer = {
    url,
    output: () => log,
    async api<T>(path: string): Promise<T> {
      const res = await fetch(`${url}/api/v1/${path}`);
      const body = (await res.json()) as { status: string; data: T; error?: string };
      if (body.status !== 'success') throw new Error(`Prometheus /api/v1/${path}: ${body.error ?? res.status}`);
      return body.data;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        process.kill(-child.pid!, 'SIGTERM');
        await Promise.race([exited, sleep(10_000)]);
        if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await until(
      'Prometheus ready',
      async () => {
        if (child.exitCode !== null) throw new Error(`prometheus exited with code ${child.exitCode}: ${log}`);
        return fetch(`${url}/-/ready`).then(
          (r) => r.ok,
          () => false,
        );
      },
      30_000,
      200,
    );
  } catch (err) {
    await server.stop();
    throw err;
  }
  return server;
}
