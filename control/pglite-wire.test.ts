import { type ChildProcess, spawn } from 'node:child_process';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dieWithParent } from '../clickhouse/local-server/child.ts';
import { sleep } from '../common/index.ts';
import { serveWire, type WireServer } from './pglite-wire.ts';

let db: PGlite;
let server: WireServer;
let pool: pg.Pool;
const failures: unknown[] = [];

beforeAll(async () => {
  db = await PGlite.create();
  await db.exec(`
    CREATE TABLE subscriptions (channel_id text, chat_id text);
    INSERT INTO subscriptions VALUES ('1001', '5000'), ('1001', '5001');
    CREATE TABLE webhooks (channel_id text, url text);
    CREATE TABLE writes (n int);`);
  server = await serveWire(db, { host: '127.0.0.1', port: 0, onError: (err) => failures.push(err) });
  pool = new pg.Pool({ host: server.host, port: server.port, user: 'postgres', database: 'postgres', max: 4 });
});

afterAll(async () => {
  await pool?.end();
  await server?.stop();
  await db?.close();
});

/** Another process committing transactions on three connections, until killed. */
function startWriter(): ChildProcess {
  const script = `
    const pg = require('pg');
    const pool = new pg.Pool({ host: '${server.host}', port: ${server.port}, user: 'postgres', database: 'postgres', max: 3 });
    const once = async () => {
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        await c.query('INSERT INTO writes VALUES ($1)', [1]);
        await c.query('SELECT count(*) FROM writes WHERE n = $1', [1]);
        await c.query('COMMIT');
      } finally { c.release(); }
    };
    (async () => { for (;;) await Promise.all([once(), once(), once()]); })();`;
  const [cmd, ...prefix] = [...dieWithParent(), process.execPath];
  return spawn(cmd, [...prefix, '-e', script], { stdio: 'ignore' });
}

it('answers each connection its own query while another process commits transactions and is killed mid-way', async () => {
  let writer = startWriter();
  const wrong: string[] = [];
  let pairs = 0;
  try {
    for (let killAt = Date.now() + 700, end = Date.now() + 6000; Date.now() < end; pairs++) {
      if (Date.now() > killAt) {
        writer.kill('SIGKILL');
        writer = startWriter();
        killAt = Date.now() + 700;
      }
      // The notifier asks these two at once: with messages of connections interleaved, one got the other's rows.
      const [subs, hooks] = await Promise.all([
        pool.query('SELECT chat_id FROM subscriptions WHERE channel_id = $1 ORDER BY chat_id', ['1001']),
        pool.query('SELECT url FROM webhooks WHERE channel_id = $1', ['1001']),
      ]);
      if (JSON.stringify(subs.rows) !== '[{"chat_id":"5000"},{"chat_id":"5001"}]')
        wrong.push(JSON.stringify(subs.rows));
      if (hooks.fields[0]?.name !== 'url' || hooks.rows.length !== 0) wrong.push(JSON.stringify(hooks.rows));
    }
  } finally {
    writer.kill('SIGKILL');
  }
  expect(wrong).toEqual([]);
  expect(pairs).toBeGreaterThan(100);
  // The writers got their share of the session too.
  const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM writes');
  expect(Number(rows[0].n)).toBeGreaterThan(100);
  expect(failures).toEqual([]);
});

it('rolls back the transaction of a connection that went away, and lets the others in', async () => {
  const client = new pg.Client({ host: server.host, port: server.port, user: 'postgres', database: 'postgres' });
  await client.connect();
  // Its own end is expected: pg reports the lost connection as an error.
  client.on('error', () => undefined);
  await client.query('BEGIN');
  await client.query('INSERT INTO writes VALUES (42)');
  // Another connection waits its turn while the transaction is open…
  let answered = false;
  const waiting = pool.query<{ n: string }>('SELECT count(*) AS n FROM writes WHERE n = 42').then((r) => {
    answered = true;
    return Number(r.rows[0].n);
  });
  await sleep(300);
  expect(answered).toBe(false);
  // …and gets in once the client is gone, without its uncommitted row.
  (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
  expect(await waiting).toBe(0);
  expect(db.isInTransaction()).toBe(false);
  await client.end().catch(() => undefined);
});
