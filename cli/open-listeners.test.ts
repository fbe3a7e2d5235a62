/**
 * Listeners bind loopback by default, and one opened beyond this machine
 * without authentication is named in a warning. The defaults are read from
 * the real configuration loader and checked on the real servers, by the
 * address each socket is bound to in /proc/net/tcp{,6}; the warning is read
 * from the log of a real `tgpulse api` run.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { startApiServer } from '../api/server.ts';
import { openTempWarehouse, sharedTestWarehouse } from '../clickhouse/testing.ts';
import { openControlPlane } from '../control/postgres.ts';
import { freshTestControl, type TestControl } from '../control/testing.ts';
import { silentLogger } from '../observability/log.ts';
import { PipelineMetrics } from '../observability/metrics.ts';
import { startOpsServer } from '../observability/http.ts';
import { cliArgs } from '../test/support/cli.ts';
import { recordSummary } from '../test/support/fault-summary.ts';
import { startTestNats } from '../test/support/nats.ts';
import { loadConfig } from './config.ts';
import { apiListener, isLoopback, openListenerWarning, opsListener } from './open-listeners.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

/**
 * One embedded control plane for the file: creating one (initdb) is the
 * costliest step here, and the `tgpulse api` run can reuse the folder once
 * this process has closed it.
 */
let controlFolder: Promise<TestControl> | null = null;
const testControl = () => (controlFolder ??= freshTestControl('embedded'));
afterAll(async () => {
  await (await controlFolder)?.dispose();
});

/** The addresses sockets listen on at `port`, read from the kernel's socket tables. */
function boundAddresses(port: number): string[] {
  const out: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (state !== '0A' || !local) continue; // 0A: LISTEN
      const [hex, portHex] = local.split(':');
      if (Number.parseInt(portHex, 16) !== port) continue;
      // The kernel writes each 32-bit word of the address in host (little-endian) order.
      const bytes = (hex.match(/.{8}/g) ?? []).flatMap((w) =>
        (w.match(/../g) ?? []).reverse().map((b) => Number.parseInt(b, 16)),
      );
      out.push(
        bytes.length === 4
          ? bytes.join('.')
          : Array.from({ length: 8 }, (_, i) => ((bytes[2 * i] << 8) | bytes[2 * i + 1]).toString(16)).join(':'),
      );
    }
  }
  return out;
}

/** The listeners found bound to loopback only, for the fault suite's summary. */
const loopbackListeners: string[] = [];

/** Every socket on the port is bound to loopback (and there is one). */
function expectLoopbackOnly(what: string, port: number): void {
  const addresses = boundAddresses(port);
  expect(addresses.length, `${what}: nothing listens on port ${port}`).toBeGreaterThan(0);
  // Full-length IPv6 from /proc: ::1 is 0:0:0:0:0:0:0:1.
  expect(
    addresses.filter((a) => !isLoopback(a.replace(/^(0:){7}1$/, '::1'))),
    `${what} on ${port}`,
  ).toEqual([]);
  loopbackListeners.push(what);
}

describe('open listeners: the pure rule', () => {
  it('knows loopback hosts from the others', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1', 'LOCALHOST'])
      expect(isLoopback(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '', '10.0.0.5', '192.168.1.2', '::ffff:10.0.0.1', 'api.example.com', '128.0.0.1'])
      expect(isLoopback(h), h).toBe(false);
  });

  it('warns for a non-loopback listener that serves something without authentication, naming it', () => {
    const ops = openListenerWarning(opsListener('0.0.0.0', 9464));
    expect(ops).toContain('the ops endpoint listens on 0.0.0.0:9464 (TGPULSE_HTTP_HOST=0.0.0.0)');
    expect(ops).toContain('/metrics and /readyz');
    expect(openListenerWarning(apiListener('::', 8080))).toContain(
      'the REST API listens on :::8080 (TGPULSE_API_HOST=::)',
    );
    expect(openListenerWarning(opsListener('127.0.0.1', 9464))).toBeNull();
    expect(openListenerWarning(apiListener('localhost', 8080))).toBeNull();
    // A listener whose every route asks for credentials is no concern, wherever it listens.
    expect(openListenerWarning({ ...apiListener('0.0.0.0', 8080), open: [] })).toBeNull();
  });
});

describe('default listeners are loopback', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
    recordSummary({
      section: 'security',
      what: 'default listeners bound to loopback',
      count: loopbackListeners.length,
      outcome: `by their sockets in /proc/net/tcp: ${loopbackListeners.join(', ')}`,
    });
  });

  it('the configuration defaults them to loopback, and the ops endpoint binds it', async () => {
    const config = loadConfig({});
    expect({ api: config.api.host, ops: config.http.host }).toEqual({ api: '127.0.0.1', ops: '127.0.0.1' });
    const ops = await startOpsServer({
      host: config.http.host,
      port: 0,
      metrics: new PipelineMetrics(),
      readiness: {},
    });
    cleanups.push(() => ops.close());
    expectLoopbackOnly('the ops endpoint', Number(new URL(ops.url).port));
  });

  it('the embedded Postgres socket and the REST API on the default host', async () => {
    const { config: controlConfig } = await testControl();
    const control = await openControlPlane(controlConfig);
    expectLoopbackOnly('the embedded Postgres socket', Number(new URL(control.wireUrl ?? '').port));
    const temp = await openTempWarehouse({ migrated: false });
    cleanups.push(() => temp.dispose());
    const api = await startApiServer({
      warehouse: temp.wh,
      control,
      controlConfig,
      config: { ...loadConfig({}).api, port: 0 },
      log: silentLogger,
      registry: new Registry(),
    });
    try {
      expectLoopbackOnly('the REST API', Number(new URL(api.url).port));
    } finally {
      // Closed now: the `tgpulse api` run below opens the same folder.
      await api.close();
      await control.close();
    }
  }, 300_000);

  it('the private nats-server', async () => {
    const nats = await startTestNats();
    cleanups.push(() => nats.stop());
    expectLoopbackOnly('the private nats-server', Number(new URL(nats.url.replace(/^nats:/, 'http:')).port));
  });

  it('the local warehouse server (as `tgpulse up` starts it): HTTP and native ports', async () => {
    const shared = sharedTestWarehouse();
    if (shared === null) throw new Error('run under vitest: the suite starts the local warehouse');
    expectLoopbackOnly('the local warehouse (HTTP)', Number(new URL(shared.url).port));
    const temp = await openTempWarehouse({ migrated: false });
    cleanups.push(() => temp.dispose());
    const [native] = await temp.wh.query<{ port: number }>("SELECT getServerPort('tcp_port') AS port");
    expectLoopbackOnly('the local warehouse (native)', Number(native.port));
  });
});

describe('tgpulse api on a non-loopback host', () => {
  it('logs a warning naming the REST API and what it serves without authentication', async () => {
    const temp = await openTempWarehouse();
    const { env: controlEnv } = await testControl();
    try {
      const env = {
        ...process.env,
        ...controlEnv,
        TGPULSE_WAREHOUSE: 'server',
        TGPULSE_CLICKHOUSE_URL: temp.config.url,
        TGPULSE_CLICKHOUSE_USER: temp.config.username,
        TGPULSE_CLICKHOUSE_PASSWORD: temp.config.password,
        TGPULSE_CLICKHOUSE_DATABASE: temp.config.database,
        TGPULSE_API_HOST: '0.0.0.0',
        TGPULSE_API_PORT: '0',
        TGPULSE_LOG_FORMAT: 'json',
        TGPULSE_LOG_LEVEL: 'info',
      };
      const child = spawn(process.execPath, cliArgs('api'), {
        cwd: ROOT,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      const listening = new Promise<void>((resolve, reject) => {
        const read = (d: Buffer) => {
          output += d.toString();
          if (output.includes('REST API listening')) resolve();
        };
        child.stdout.on('data', read);
        child.stderr.on('data', read);
        void exited.then((code) => reject(new Error(`tgpulse api exited (${code}) before listening:\n${output}`)));
      });
      await listening;
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      const lines = output
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { level: number; msg: string; listener?: string; port?: number });
      const warnings = lines.filter((l) => l.listener !== undefined);
      expect(warnings.map((w) => ({ level: w.level, listener: w.listener }))).toEqual([
        { level: 40, listener: 'the REST API' },
      ]);
      expect(warnings[0].msg).toMatch(/^the REST API listens on 0\.0\.0\.0:\d+ \(TGPULSE_API_HOST=0\.0\.0\.0\)/);
      expect(warnings[0].msg).toContain('/metrics and /readyz');
      expect(warnings[0].port).toBeGreaterThan(0);
      recordSummary({
        section: 'security',
        what: 'non-loopback listener without authentication',
        count: 1,
        outcome: '`tgpulse api` on 0.0.0.0 warned, naming the REST API and its open /metrics and /readyz',
      });
    } finally {
      await temp.dispose();
    }
  }, 300_000);
});
