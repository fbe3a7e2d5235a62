/**
 * No secret reaches the logs. `tgpulse up --simulate` runs with every secret
 * it can be given (NATS and Postgres passwords, MTProto session key, bot
 * token, webhook and share secrets, the warehouse passwords it generates) at
 * debug level, while a user creates an API key and calls the API with it and
 * with a wrong one, talks to the bot, and Telegram fails a send. Then every
 * byte the run logged (its stdout and stderr, which also carry what the
 * warehouse server writes to its stderr) is searched for every secret: none
 * may appear.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { warehouseDir } from '../../clickhouse/local-server/server.ts';
import { loadUsers } from '../../clickhouse/local-server/credentials.ts';
import { readInstance } from '../../cli/instance.ts';
import { cliArgs } from '../support/cli.ts';
import { recordSummary } from '../support/fault-summary.ts';
import { FakeBotApi } from '../support/fake-bot-api.ts';
import { startTestNats, tempDir, type TestNats } from '../support/nats.ts';
import { startPostgresServer, type PostgresServer } from '../support/postgres-server.ts';
import { killRole, spawnRole, stopRole, type RoleProcess } from '../support/roles.ts';
import { until } from '../support/until.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ADMIN = 4242;
const hex = (bytes: number) => randomBytes(bytes).toString('hex');

describe('a run logs none of its secrets', () => {
  let nats: TestNats;
  let postgres: PostgresServer;
  let fake: FakeBotApi;
  let up: RoleProcess | null = null;
  const dataDir = tempDir('secrets');
  /** Every secret of the run, by what it is. */
  const secrets: Record<string, string> = {
    'NATS password': `pw${hex(12)}`,
    'Postgres password': `pg${hex(12)}`,
    'MTProto session key': hex(32),
    'bot token': `${7_000_000_000 + randomBytes(2).readUInt16BE()}:${hex(17)}`,
    'bot webhook secret': `wh${hex(12)}`,
    'share secret': hex(32),
  };
  let logs = '';

  /** `tgpulse <args>` beside the running instance, as a user types it. */
  const tgpulse = (env: Record<string, string>, ...args: string[]) =>
    spawnSync(process.execPath, cliArgs(...args), {
      cwd: ROOT,
      env: { ...process.env, ...env },
      encoding: 'utf8',
    });

  beforeAll(async () => {
    nats = await startTestNats();
    postgres = await startPostgresServer();
    fake = new FakeBotApi(secrets['bot token']);
    await fake.start();
    // The server has no users, so it takes any; the password in the URL is still one tgpulse must not print.
    // Likewise the private Postgres trusts loopback logins: the password is still a secret.
    const natsUrl = nats.url.replace('nats://', `nats://tgpulse:${secrets['NATS password']}@`);
    const postgresUrl = postgres.url.replace('postgres@', `postgres:${secrets['Postgres password']}@`);
    const env = {
      TGPULSE_NATS_URL: natsUrl,
      TGPULSE_POSTGRES_URL: postgresUrl,
      TGPULSE_DATA_DIR: dataDir,
      TGPULSE_WAREHOUSE_HTTP_PORT: '0',
      TGPULSE_WAREHOUSE_NATIVE_PORT: '0',
      TGPULSE_HTTP_PORT: '0',
      TGPULSE_API_PORT: '0',
      TGPULSE_LOG_LEVEL: 'debug',
      TGPULSE_LOG_FORMAT: 'json',
      TGPULSE_SESSION_KEY: secrets['MTProto session key'],
      TGPULSE_BOT_TOKEN: secrets['bot token'],
      TGPULSE_BOT_API_ROOT: fake.url,
      TGPULSE_BOT_ADMINS: String(ADMIN),
      TGPULSE_SHARE_SECRET: secrets['share secret'],
    };
    // Keep everything it prints: a secret may be anywhere in it.
    up = spawnRole('up', ['--simulate', '--channels', '3', '--days', '3'], env, 64 * 2 ** 20);
    const instance = await until(
      'tgpulse up serving its API',
      () => {
        if (up?.child.exitCode !== null) throw new Error(`tgpulse up exited: ${up?.output().slice(-4000)}`);
        const info = readInstance(dataDir);
        return info?.api_url ? info : null;
      },
      150_000,
      250,
    );
    const users = loadUsers(warehouseDir(dataDir), { create: false });
    if (users === null) throw new Error('the local warehouse has no users');
    secrets['warehouse writer password'] = users.writer.password;
    secrets['warehouse reader password'] = users.reader.password;

    // A user's API key, created beside the running instance, used, and a wrong one tried.
    const created = tgpulse(env, 'apikey', 'create', '--name', 'secrets-test', '--scopes', 'read');
    expect(created.status, created.stderr).toBe(0);
    const key = /tgp_[A-Za-z0-9_-]+/.exec(created.stdout)?.[0];
    expect(key, created.stdout).toBeDefined();
    secrets['API key'] = key!;
    secrets['wrong API key'] = `tgp_${hex(20)}`;
    for (const token of [key!, secrets['wrong API key']]) {
      await fetch(`${instance.api_url}/v1/channels`, { headers: { authorization: `Bearer ${token}` } });
      await fetch(`${instance.api_url}/v1/channels?api_key=${token}`);
    }
    // The bot answers, and one send fails on Telegram's side (an error the notifier and bot log).
    fake.fail({
      method: 'sendMessage',
      chatId: String(ADMIN),
      status: 500,
      description: 'Internal Server Error',
      times: 1,
    });
    fake.say(ADMIN, '/start');
    fake.say(ADMIN, '/channels');
    await fake.waitFor(() => fake.delivered(ADMIN)[0], 60_000);
    expect(await stopRole(up)).toBe(0);
    logs = up.output();
  }, 300_000);

  afterAll(async () => {
    if (up) await killRole(up);
    await fake?.stop();
    await nats?.stop();
    await postgres?.remove();
  });

  it('logged every step that handled a secret', () => {
    // What a leak would ride on: the roles' start-up, each API request (keys in headers and
    // query strings), each bot update and Bot API call (the token is in grammY's URLs), and
    // Telegram's failure.
    const lines = logs
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const logged = (msg: string, match: Record<string, unknown> = {}) =>
      lines.some((l) => l.msg === msg && Object.entries(match).every(([k, v]) => l[k] === v));
    expect(logged('REST API listening')).toBe(true);
    expect(logged('API request', { route: '/v1/channels', status: 200 })).toBe(true);
    expect(logged('API request', { route: '/v1/channels', status: 401 })).toBe(true);
    expect(logged('bot update', { 'tgpulse.bot.command': 'start' })).toBe(true);
    expect(logged('Bot API call', { method: 'sendMessage', ok: false, code: 500 })).toBe(true);
    expect(logged('Bot API call', { method: 'sendMessage', ok: true })).toBe(true);
  });

  it('contains none of the secrets it used', () => {
    const found = Object.entries(secrets).filter(([, value]) => logs.includes(value));
    recordSummary({
      section: 'security',
      what: 'secrets searched for in a run’s logs',
      count: Object.keys(secrets).length,
      outcome: found.length ? `found: ${found.map(([name]) => name).join(', ')}` : 'none appears',
    });
    // Where each one appeared (masked), so the failure says which log line to fix.
    const where = found.map(([name, value]) => {
      const at = logs.indexOf(value);
      return `${name}: …${logs.slice(Math.max(0, at - 300), at + value.length + 100).replaceAll(value, '<SECRET>')}…`;
    });
    expect(where).toEqual([]);
  });
});
