/**
 * The local ClickHouse server as its users meet it: read-only access is
 * enforced by the engine, a wrong password is refused, the launcher's own
 * user is locked, a killed server comes back on the same port with its data,
 * and it never outlives the process that started it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../observability/log.ts';
import { processAlive as alive } from './child.ts';
import { sleep } from '../../common/retry.ts';
import { LocalWarehouse, readRunningWarehouse, warehouseDir } from './server.ts';

/** One statement over HTTP as `user`; the status and the body (the engine's error text on failure). */
async function sql(
  url: string,
  user: string,
  password: string,
  statement: string,
  settings: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  const res = await fetch(`${url}/?${new URLSearchParams(settings)}`, {
    method: 'POST',
    body: statement,
    headers: { 'X-ClickHouse-User': user, 'X-ClickHouse-Key': password },
  });
  return { status: res.status, body: (await res.text()).trim() };
}

describe('local warehouse server', () => {
  let dir: string;
  let server: LocalWarehouse;
  let asWriter: (s: string) => Promise<{ status: number; body: string }>;
  let asReader: (s: string, settings?: Record<string, string>) => Promise<{ status: number; body: string }>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tgpulse-localwh-'));
    server = await LocalWarehouse.start({
      dataDir: dir,
      database: 'tgpulse',
      httpPort: 0,
      nativePort: 0,
      log: silentLogger,
    });
    const { writer, reader } = server.users;
    asWriter = (s) => sql(server.httpUrl, writer.username, writer.password, s);
    asReader = (s, settings) => sql(server.httpUrl, reader.username, reader.password, s, settings);
    expect((await asWriter('CREATE TABLE notes (id UInt32, body String) ENGINE = MergeTree ORDER BY id')).status).toBe(
      200,
    );
    expect((await asWriter("INSERT INTO notes VALUES (1, 'kept')")).status).toBe(200);
  });

  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps its passwords in files only the owner can read, and records where it listens', () => {
    for (const f of ['writer.password', 'reader.password'])
      expect(statSync(join(warehouseDir(dir), f)).mode & 0o777).toBe(0o600);
    expect(readRunningWarehouse(dir)).toMatchObject({
      http_url: server.httpUrl,
      native_port: server.nativePort,
      owner_pid: process.pid,
      database: 'tgpulse',
    });
  });

  it('lets the reader read the database and nothing else', async () => {
    expect(await asReader('SELECT body FROM notes')).toEqual({ status: 200, body: 'kept' });
    expect((await asReader("SELECT count() FROM system.tables WHERE database = 'tgpulse'")).body).toBe('1');
    // Table functions that touch files or the network are refused by the engine.
    for (const statement of [
      "SELECT * FROM file('/etc/passwd', 'LineAsString')",
      `SELECT * FROM url('${server.httpUrl}/ping', 'LineAsString')`,
      `SELECT * FROM remote('127.0.0.1:${server.nativePort}', system.one)`,
      "SELECT * FROM s3('http://127.0.0.1:1/bucket/key.csv', 'CSV')",
    ]) {
      const r = await asReader(statement);
      expect(r.status, statement).not.toBe(200);
      expect(r.body, statement).toMatch(/ACCESS_DENIED|Not enough privileges/);
    }
    // No writes, no DDL.
    for (const statement of [
      "INSERT INTO notes VALUES (2, 'x')",
      'CREATE TABLE t2 (x UInt8) ENGINE = Memory',
      'ALTER TABLE notes DELETE WHERE 1',
      'DROP TABLE notes',
      'TRUNCATE TABLE notes',
    ]) {
      const r = await asReader(statement);
      expect(r.status, statement).not.toBe(200);
    }
    expect((await asReader('SELECT count() FROM notes')).body).toBe('1');
  });

  it('does not let the reader lift its own limits', async () => {
    expect((await asReader('SET readonly = 0')).body).toMatch(/READONLY|Cannot modify 'readonly'/);
    expect((await asReader('SELECT 1', { readonly: '0' })).status).not.toBe(200);
    expect((await asReader('SELECT 1', { max_memory_usage: String(1e12) })).body).toMatch(
      /SETTING_CONSTRAINT_VIOLATION|shouldn't be greater/,
    );
    expect((await asReader('SELECT 1', { max_execution_time: '100000' })).body).toMatch(
      /SETTING_CONSTRAINT_VIOLATION|shouldn't be greater/,
    );
    // Settings clients send on their own (here the JSON integer format) still work.
    expect((await asReader('SELECT 1', { output_format_json_quote_64bit_integers: '1' })).status).toBe(200);
  });

  it('refuses a wrong password, an unknown user and the launcher’s own user', async () => {
    expect((await sql(server.httpUrl, 'reader', 'wrong', 'SELECT 1')).body).toMatch(/AUTHENTICATION_FAILED/);
    expect((await sql(server.httpUrl, 'nobody', '', 'SELECT 1')).body).toMatch(/AUTHENTICATION_FAILED/);
    // The launcher's session user has no password but its quota is used up: it can neither read nor stop the listeners.
    expect((await sql(server.httpUrl, 'default', '', 'SELECT count() FROM tgpulse.notes')).status).not.toBe(200);
    expect((await sql(server.httpUrl, 'default', '', 'SYSTEM STOP LISTEN HTTP')).body).toMatch(/QUOTA_EXCEEDED/);
    expect((await asReader('SELECT 1')).status).toBe(200);
  });

  it('keeps the writer away from files and the network too', async () => {
    expect((await asWriter("SELECT * FROM file('/etc/passwd', 'LineAsString')")).body).toMatch(
      /ACCESS_DENIED|Not enough privileges/,
    );
    expect((await asWriter(`SELECT * FROM url('${server.httpUrl}/ping', 'LineAsString')`)).body).toMatch(
      /ACCESS_DENIED|Not enough privileges/,
    );
  });

  it('comes back on the same port with its data after a SIGKILL', async () => {
    const before = server.pid;
    process.kill(before, 'SIGKILL');
    let answer = { status: 0, body: '' };
    // Back once the supervisor has the new server and has recorded it (a start may take its whole 60 s
    // timeout on a loaded machine, and one attempt more).
    for (const until = Date.now() + 150_000; Date.now() < until; await sleep(100)) {
      answer = await asReader('SELECT body FROM notes').catch(() => ({ status: 0, body: '' }));
      if (answer.status === 200 && server.pid !== before && readRunningWarehouse(dir)?.pid === server.pid) break;
    }
    expect(answer).toEqual({ status: 200, body: 'kept' });
    expect(server.restarts).toBe(1);
    expect(readRunningWarehouse(dir)?.pid).toBe(server.pid);
  }, 180_000);

  it('refuses a second server on the same data folder', async () => {
    await expect(
      LocalWarehouse.start({ dataDir: dir, database: 'tgpulse', httpPort: 0, nativePort: 0, log: silentLogger }),
    ).rejects.toThrow(/already runs/);
  });

  it('dies with the process that started it, even after a SIGKILL of that process', async () => {
    const other = mkdtempSync(join(tmpdir(), 'tgpulse-localwh-orphan-'));
    const script = `
      import { LocalWarehouse } from ${JSON.stringify(fileURLToPath(new URL('./server.ts', import.meta.url)))};
      import { silentLogger } from ${JSON.stringify(fileURLToPath(new URL('../../observability/log.ts', import.meta.url)))};
      const s = await LocalWarehouse.start({ dataDir: ${JSON.stringify(other)}, database: 'tgpulse', httpPort: 0, nativePort: 0, log: silentLogger });
      process.stdout.write(String(s.pid) + '\\n');
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const pid = await new Promise<number>((resolve, reject) => {
        child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
        child.once('exit', (code) => reject(new Error(`the owner exited with ${code} before starting the server`)));
      });
      expect(alive(pid)).toBe(true);
      child.kill('SIGKILL');
      for (const until = Date.now() + 15_000; alive(pid) && Date.now() < until; ) await sleep(100);
      expect(alive(pid)).toBe(false);
      expect(readRunningWarehouse(other)).toBeNull();
    } finally {
      child.kill('SIGKILL');
      rmSync(other, { recursive: true, force: true });
    }
  });
});
