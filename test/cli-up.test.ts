/**
 * The README's first command, as a user runs it: `tgpulse up --simulate`
 * starts every role and its local warehouse server; while it runs,
 * `tgpulse query` (a second process) shows rows in raw, derived and serving
 * tables and detected anomalies, `tgpulse status` says where everything
 * listens, and a SQL client logs in as the read-only `reader` over HTTP and
 * runs the README's queries; on SIGTERM it drains, checkpoints and exits 0,
 * taking its warehouse and nats-server with it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createClient } from '@clickhouse/client';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { processAlive as alive } from '../clickhouse/local-server/child.ts';
import { sleep } from '../common/retry.ts';
import { CLI_MAIN, cliArgs } from './support/cli.ts';
import { FakeBotApi } from './support/fake-bot-api.ts';
import { startTestNats, tempDir, type TestNats } from './support/nats.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

/** Pids of the `tgpulse worker` processes serving one data folder (read from /proc). */
function workersOf(dataDir: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (!cmd.includes('worker') || !cmd.includes(CLI_MAIN)) continue;
      if (readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(`TGPULSE_DATA_DIR=${dataDir}`))
        out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function tgpulse(env: NodeJS.ProcessEnv, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, cliArgs(...args), { cwd: ROOT, env, encoding: 'utf8' });
}

/** The README's example queries ("Look at the results"). */
function readmeQueries(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Look at the results'));
  return [...section.matchAll(/^\.\/tgpulse query "(.+)"$/gm)].map((m) => m[1]);
}

function query(env: NodeJS.ProcessEnv, sql: string): Array<Record<string, unknown>> {
  const r = spawnSync(process.execPath, cliArgs('query', sql, '--format', 'json'), {
    cwd: ROOT,
    env,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`tgpulse query failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Array<Record<string, unknown>>;
}

describe('tgpulse up --simulate', () => {
  let nats: TestNats | null = null;
  const fake = new FakeBotApi();

  afterAll(async () => {
    await nats?.stop();
    await fake.stop();
  });

  it('fills raw, derived and serving tables, detects anomalies, and stops cleanly', async () => {
    nats = await startTestNats();
    await fake.start();
    const dataDir = tempDir('up');
    // Before anything runs, query refuses to create a data folder and says what to run.
    const early = tgpulse({ ...process.env, TGPULSE_DATA_DIR: join(dataDir, 'nothing-here') }, 'query', 'SELECT 1');
    expect(early.status).not.toBe(0);
    expect(early.stderr).toMatch(/tgpulse up/);
    expect(existsSync(join(dataDir, 'nothing-here'))).toBe(false);
    const env = {
      ...process.env,
      TGPULSE_NATS_URL: nats.url,
      TGPULSE_DATA_DIR: dataDir,
      TGPULSE_WAREHOUSE_HTTP_PORT: '0',
      TGPULSE_WAREHOUSE_NATIVE_PORT: '0',
      TGPULSE_HTTP_PORT: '0',
      TGPULSE_API_PORT: '0',
      TGPULSE_LOG_LEVEL: 'warn',
      // The bot and the notifier run in `up` when a token is set; Telegram is the local fake.
      TGPULSE_BOT_TOKEN: fake.token,
      TGPULSE_BOT_API_ROOT: fake.url,
      TGPULSE_BOT_ADMINS: '4242',
    };
    const up = spawn(process.execPath, cliArgs('up', '--simulate', '--channels', '12', '--days', '12'), {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    up.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-10_000)));
    const exited = new Promise<number | null>((r) => up.once('exit', (code) => r(code)));
    const counts = `SELECT (SELECT count() FROM raw_post_counters) AS raw, (SELECT count() FROM post_deltas) AS deltas,
                           (SELECT count() FROM channel_hourly) AS hourly, (SELECT count() FROM anomalies) AS anomalies`;
    let last: Record<string, unknown> = {};
    const deadline = Date.now() + 150_000;
    while (Date.now() < deadline) {
      await sleep(3000);
      if (up.exitCode !== null) throw new Error(`tgpulse up exited early: ${stderr}`);
      try {
        [last] = query(env, counts);
      } catch {
        continue; // not ready yet (instance file not written)
      }
      if (Number(last.raw) > 0 && Number(last.deltas) > 0 && Number(last.hourly) > 0 && Number(last.anomalies) > 0)
        break;
    }
    expect(Number(last.raw)).toBeGreaterThan(0);
    expect(Number(last.deltas)).toBeGreaterThan(0);
    expect(Number(last.hourly)).toBeGreaterThan(0);
    expect(Number(last.anomalies)).toBeGreaterThan(0);
    // Processors and sinks run in one worker process per core.
    const workers = workersOf(dataDir);
    expect(workers).toHaveLength(availableParallelism());
    // The ops endpoint of the running instance: metrics of every stage and readiness, the workers' included.
    const instance = JSON.parse(readFileSync(join(env.TGPULSE_DATA_DIR!, 'instance.json'), 'utf8')) as { url: string };
    const metrics = await (await fetch(`${instance.url}/metrics`)).text();
    for (const name of [
      'tgpulse_events_total',
      'tgpulse_published_messages_total',
      'tgpulse_batch_size',
      'tgpulse_flush_seconds',
      'tgpulse_checkpoint_age_seconds',
      'tgpulse_watermark_ms',
    ]) {
      expect(metrics).toContain(name);
    }
    for (let w = 0; w < workers.length; w++)
      expect(metrics).toMatch(new RegExp(`tgpulse_partition_owned\\{[^}]*worker="${w}"`));
    const ready = await fetch(`${instance.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { nats: 'ok', warehouse: 'ok' } });
    // The ops port (the one opened to Prometheus) serves no SQL.
    expect((await fetch(`${instance.url}/query`, { method: 'POST', body: 'SELECT 1' })).status).toBe(404);

    // `tgpulse status` says where everything listens.
    const statusRun = tgpulse(env, 'status', '--format', 'json');
    expect(statusRun.status, statusRun.stderr).toBe(0);
    const status = JSON.parse(statusRun.stdout) as {
      api_url: string;
      ops_url: string;
      nats_url: string;
      data_dir: string;
      warehouse: { http_url: string; native_port: number; reader_user: string; reader_password_file: string };
    };
    expect(status).toMatchObject({
      ops_url: instance.url,
      nats_url: nats.url,
      data_dir: dataDir,
      warehouse: { reader_user: 'reader' },
    });
    expect(status.api_url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(status.warehouse.http_url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(status.warehouse.native_port).toBeGreaterThan(0);
    // The collectors' part comes from the control plane `up` serves: no Telegram account here.
    expect((status as { collectors?: unknown }).collectors).toEqual([]);

    // A second process, as a SQL client would: @clickhouse/client over HTTP as the reader, the README's queries.
    const client = createClient({
      url: status.warehouse.http_url,
      username: status.warehouse.reader_user,
      password: readFileSync(status.warehouse.reader_password_file, 'utf8').trim(),
    });
    try {
      const examples = readmeQueries();
      expect(examples.length).toBeGreaterThanOrEqual(5);
      for (const sql of examples) {
        const rows = await (await client.query({ query: sql, format: 'JSONEachRow' })).json();
        expect(Array.isArray(rows), sql).toBe(true);
      }
      const [counted] = await (
        await client.query({ query: 'SELECT count() AS n FROM raw_post_counters', format: 'JSONEachRow' })
      ).json<{ n: string }>();
      expect(Number(counted.n)).toBeGreaterThan(0);
      await expect(client.command({ query: 'DROP TABLE raw_posts' })).rejects.toThrow(
        /ACCESS_DENIED|Not enough privileges/,
      );
    } finally {
      await client.close();
    }
    const warehousePid = (
      JSON.parse(readFileSync(join(dataDir, 'warehouse', 'server.json'), 'utf8')) as { pid: number }
    ).pid;
    expect(alive(warehousePid)).toBe(true);
    // An API key made from the command line while `up` holds the embedded
    // control plane (through its Postgres wire endpoint) opens the REST API.
    const created = spawnSync(
      process.execPath,
      cliArgs('apikey', 'create', '--name', 'cli test', '--scopes', 'read,track'),
      { cwd: ROOT, env, encoding: 'utf8' },
    );
    expect(created.status, created.stderr).toBe(0);
    const token = /tgp_\S+/.exec(created.stdout)?.[0];
    expect(token).toBeDefined();
    const { api_url } = JSON.parse(readFileSync(join(env.TGPULSE_DATA_DIR!, 'instance.json'), 'utf8')) as {
      api_url: string;
    };
    const channels = await fetch(`${api_url}/v1/channels`, { headers: { authorization: `Bearer ${token}` } });
    expect(channels.status).toBe(200);
    expect(((await channels.json()) as { meta: { total: number } }).meta.total).toBe(12);
    expect((await fetch(`${api_url}/v1/channels`)).status).toBe(401);
    // A bot's event sent to the API of `up` (which has NATS) reaches the warehouse.
    const sent = await fetch(`${api_url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify([{ bot_id: 5550001, user_id: 42, event: 'start', event_time: Date.now() }]),
    });
    expect(((await sent.json()) as { accepted: number }).accepted).toBe(1);
    const botEvents = () => Number(query(env, 'SELECT count() AS n FROM raw_bot_events')[0].n);
    for (const until = Date.now() + 30_000; botEvents() === 0 && Date.now() < until; ) await sleep(500);
    expect(botEvents()).toBe(1);
    // The bot of the running instance answers an admin with the channels.
    expect(fake.sent('setMyCommands').length).toBeGreaterThan(0);
    fake.say(4242, '/channels');
    const [reply] = await fake.waitFor(() => fake.delivered(4242).length > 0 && fake.delivered(4242), 30_000);
    expect(String(reply.params.text)).toMatch(/10012345\d\d/);
    // A write through the query path is refused, and the process keeps running.
    expect(() => query(env, 'DROP TABLE raw_posts')).toThrow(/read-only/);
    up.kill('SIGTERM');
    expect(await exited, stderr).toBe(0);
    // Its warehouse and its workers stopped with it.
    for (const until = Date.now() + 10_000; alive(warehousePid) && Date.now() < until; ) await sleep(100);
    expect(alive(warehousePid)).toBe(false);
    expect(workers.filter(alive)).toEqual([]);
  }, 240_000);
});
